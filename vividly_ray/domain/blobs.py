"""The BlobStore port: named bytes that every node of a cluster can reach.

Scene audio, segments and delivered files travel between workers through a BlobStore, never as
a path on the node that wrote them. The embedded default is a local folder; production uses GCS.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class BlobInfo:
    """What a store knows about one blob; ``etag`` changes whenever the bytes do."""

    key: str
    size: int
    etag: str
    content_type: str


class BlobStore(Protocol):
    """Stores, fetches and streams blobs by key (``videos/<id>/video.mp4``, ``cache/...``).

    Writes are atomic: a reader sees the old blob, the new one or none, never half of one.
    """

    def put_file(self, key: str, source: Path, content_type: str) -> BlobInfo: ...

    def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo: ...

    def stat(self, key: str) -> BlobInfo | None: ...

    def get_file(self, key: str, dest: Path) -> Path: ...

    def get_bytes(self, key: str) -> bytes: ...

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive) of the blob, in chunks."""
        ...

    def delete(self, key: str) -> bool:
        """Remove the blob; False when there was none (deleting twice is not an error)."""
        ...

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Every key that starts with ``prefix``, in no particular order."""
        ...
