"""Content-addressed cache: the same inputs always map to the same blob.

Same narration text and voice -> same audio; same frames and audio -> same segment (and the same
segment, audio and place on the timeline -> the same stream part). Entries live
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
from vividly_ray.domain.errors import BlobNotFound, StageFailed

# The metadata kind that accompanies an entry of each kind (written after it).
METADATA_KINDS = {
    "audio": "audio-timings",
    "segments": "segment-meta",
    "assembled": "assembled-meta",
    "stream": "stream-meta",
}
# Kinds whose entry is several blobs, one per suffix (an assembled video and its side files; a
# stream part's init section and media).
ENTRY_SUFFIXES = {"assembled": (".mp4", ".vtt", ".srt", ".jpg"), "stream": (".mp4", ".m4s")}
# ``cache/<links>/<segment stem>/<entry key>``: an empty blob per (scene segment, entry made
# from it), so evicting a scene evicts every assembled video and stream part that contains it.
# A segment's key covers its narration's, so the segment stands for the whole scene.
LINKS = "assembled-by"
LINK_FOLDERS = {"assembled": LINKS, "stream": "streamed-by"}
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
    reader never finds metadata without the blob it describes.

    Evicting a scene's segment also evicts every assembled video made from it (found through
    its link blobs), so no delivered video outlives one of its scenes in the cache.
    """
    parts = blob_key.split("/")
    if len(parts) != 4 or parts[0] != "cache":
        raise ValueError(f"not a cache entry: {blob_key!r}")
    kind, stem = parts[1], parts[3].split(".", 1)[0]
    removed = 0
    links: list[str] = []
    meta_kind = METADATA_KINDS.get(kind)
    if meta_kind is not None:
        meta_key = ContentCache.blob_key(meta_kind, stem, ".json")
        if kind in ENTRY_SUFFIXES:
            links = _entry_links(blobs, meta_key)
        removed += blobs.delete(meta_key)
    suffixes = ENTRY_SUFFIXES.get(kind)
    if suffixes is None:
        removed += blobs.delete(blob_key)
    else:
        for suffix in suffixes:
            removed += blobs.delete(ContentCache.blob_key(kind, stem, suffix))
    for link in links:
        removed += blobs.delete(link)
    if kind == "segments":
        for entry_kind, folder in LINK_FOLDERS.items():
            for link in list(blobs.list_keys(f"cache/{folder}/{stem}/")):
                entry = ContentCache.blob_key(entry_kind, link.rsplit("/", 1)[1], "")
                removed += evict(blobs, entry)
                removed += blobs.delete(link)
    return removed


def _entry_links(blobs: BlobStore, meta_key: str) -> list[str]:
    """The link blobs an entry's metadata lists (none when the metadata is gone)."""
    try:
        meta = json.loads(blobs.get_bytes(meta_key).decode("utf-8"))
    except BlobNotFound:
        return []
    return [str(key) for key in meta.get("links", [])]


def link_key(scene_blob_key: str, entry_key: str, kind: str = "assembled") -> str:
    """The link blob that ties an entry of ``kind`` (an assembled video, a stream part) to one
    of the scene blobs it was made from."""
    stem = scene_blob_key.rsplit("/", 1)[-1].split(".", 1)[0]
    return f"cache/{LINK_FOLDERS[kind]}/{stem}/{entry_key}"


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
