"""One BlobStore over several: keys are routed by prefix (``cache/`` to the temp bucket).

The pipeline hands scene blobs from the cache to the assembler by key, so both must see one
key space; routing keeps that true while delivered videos and scratch artifacts live in the
buckets the platform keeps them in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

from vividly_ray.domain.blobs import BlobInfo, BlobStore


class RoutedBlobStore:
    """``routes`` maps a key prefix to the store that holds such keys; the rest go to
    ``default``. The longest matching prefix wins."""

    def __init__(self, default: BlobStore, routes: Mapping[str, BlobStore]) -> None:
        self.default = default
        self._routes = sorted(routes.items(), key=lambda item: -len(item[0]))

    def store_for(self, key: str) -> BlobStore:
        for prefix, store in self._routes:
            if key.startswith(prefix):
                return store
        return self.default

    def put_file(self, key: str, source: Path, content_type: str) -> BlobInfo:
        return self.store_for(key).put_file(key, source, content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        return self.store_for(key).put_bytes(key, data, content_type)

    def stat(self, key: str) -> BlobInfo | None:
        return self.store_for(key).stat(key)

    def get_file(self, key: str, dest: Path) -> Path:
        return self.store_for(key).get_file(key, dest)

    def get_bytes(self, key: str) -> bytes:
        return self.store_for(key).get_bytes(key)

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        return self.store_for(key).read_range(key, start, end)

    def delete(self, key: str) -> bool:
        return self.store_for(key).delete(key)

    def list_keys(self, prefix: str) -> Iterator[str]:
        """Keys under ``prefix`` from every store that may hold some (each key from the store
        that owns it, so a listing never shows a key that ``stat`` would not find)."""
        stores = [self.default, *(store for _, store in self._routes)]
        seen: set[int] = set()
        for store in stores:
            if id(store) in seen:
                continue
            seen.add(id(store))
            for key in store.list_keys(prefix):
                if self.store_for(key) is store:
                    yield key
