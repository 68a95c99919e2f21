"""Content-addressed cache: the same inputs always map to the same blob.

Same narration text and voice -> same audio; same frames and audio -> same segment. Entries live
in the BlobStore (so any node can reuse what another made) and are written atomically, so a crash
never leaves a half-written entry behind and a resumed or repeated request reuses every finished
scene.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.errors import StageFailed

# The metadata kind that accompanies an entry of each kind (written after it).
METADATA_KINDS = {"audio": "audio-timings", "segments": "segment-meta"}
# Writes refused for want of space: the disk is full, or the quota spent.
_OUT_OF_SPACE = frozenset({errno.ENOSPC, errno.EDQUOT})


def out_of_space(error: BaseException | None) -> bool:
    """Whether ``error`` is a write refused because the disk (or the quota) is full. Nothing of
    the entry being written is kept: ``ContentCache.put`` removes its scratch file either way."""
    return isinstance(error, OSError) and error.errno in _OUT_OF_SPACE


def no_space_failure(stage: str, what: str, error: OSError) -> StageFailed:
    """The failure of ``stage`` when writing ``what`` found the disk full: retryable, since the
    next attempt may run on another node or after space was freed."""
    where = f" (writing {Path(str(error.filename)).name})" if error.filename else ""
    reason = os.strerror(error.errno or errno.ENOSPC)  # "No space left on device"
    return StageFailed(stage, f"{what}: {reason}{where}", retryable=True)


def content_key(*parts: Any) -> str:
    """A stable SHA-256 over JSON-serialisable parts."""
    payload = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def evict(blobs: BlobStore, blob_key: str) -> int:
    """Remove a cache entry (``cache/<kind>/ab/<key><suffix>``) and its metadata; returns how
    many blobs went. The metadata goes first: its presence is what marks an entry whole, so a
    reader never finds metadata without the blob it describes."""
    parts = blob_key.split("/")
    if len(parts) != 4 or parts[0] != "cache":
        raise ValueError(f"not a cache entry: {blob_key!r}")
    kind, stem = parts[1], parts[3].split(".", 1)[0]
    removed = 0
    meta_kind = METADATA_KINDS.get(kind)
    if meta_kind is not None:
        removed += blobs.delete(ContentCache.blob_key(meta_kind, stem, ".json"))
    removed += blobs.delete(blob_key)
    return removed


class ContentCache:
    """Entries stored as ``cache/<kind>/ab/abcdef...<suffix>`` blobs.

    ``scratch`` is a local folder for files being written before they are stored.
    """

    def __init__(self, blobs: BlobStore, scratch: Path) -> None:
        self.blobs = blobs
        self.scratch = Path(scratch)

    @staticmethod
    def blob_key(kind: str, key: str, suffix: str) -> str:
        return f"cache/{kind}/{key[:2]}/{key}{suffix}"

    def get(self, kind: str, key: str, suffix: str) -> str | None:
        """The blob key of an existing entry, or None."""
        blob_key = self.blob_key(kind, key, suffix)
        return blob_key if self.blobs.stat(blob_key) is not None else None

    def put(
        self,
        kind: str,
        key: str,
        suffix: str,
        write: Callable[[Path], None],
        content_type: str = "application/octet-stream",
    ) -> str:
        """Call ``write(local_tmp_path)``, then store the file; returns its blob key."""
        self.scratch.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=self.scratch))
        try:
            tmp = folder / f"entry{suffix}"
            write(tmp)
            blob_key = self.blob_key(kind, key, suffix)
            self.blobs.put_file(blob_key, tmp, content_type)
            return blob_key
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def put_json(self, kind: str, key: str, data: Any) -> str:
        blob_key = self.blob_key(kind, key, ".json")
        payload = json.dumps(data, indent=1).encode("utf-8")
        self.blobs.put_bytes(blob_key, payload, "application/json")
        return blob_key

    def get_json(self, kind: str, key: str) -> Any | None:
        blob_key = self.blob_key(kind, key, ".json")
        if self.blobs.stat(blob_key) is None:
            return None
        return json.loads(self.blobs.get_bytes(blob_key).decode("utf-8"))
