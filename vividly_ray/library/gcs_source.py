"""Library documents kept in a GCS bucket (``GCS_OER_CONTENT_BUCKET``), mirrored to a folder.

``sync_library_from_bucket`` copies every readable document file under a prefix into a local
folder and remembers each object's generation and MD5 in ``dest/.gcs-sync.json``, so the next
sync downloads only what changed. Each file is written to a temporary name and renamed into
place, so a reader (or a crash) never meets half a document. Files that an earlier sync brought
and the bucket no longer holds are removed; files the sync did not write are never touched.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from google.api_core import exceptions as api_errors
from google.cloud.storage.retry import DEFAULT_RETRY

from vividly_ray.domain.errors import LibraryError
from vividly_ray.library.documents import SUFFIXES, load_documents
from vividly_ray.library.records import LibraryDocument
from vividly_ray.storage.gcs_blobs import TRANSIENT_ERRORS

STATE_FILE = ".gcs-sync.json"
_SYNC_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, api_errors.GoogleAPIError)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Synced:
    path: str  # relative to dest, POSIX form
    generation: int
    md5: str | None
    size: int


def sync_library_from_bucket(client: Any, bucket: str, prefix: str, dest: Path) -> list[Path]:
    """Mirror the document files under ``gs://bucket/prefix`` into ``dest``; their local paths.

    ``client`` is a ``google.cloud.storage.Client``; ``prefix`` names a folder ("oer" and "oer/"
    are the same; "" is the whole bucket). Objects whose name does not end in a supported suffix
    (``documents.SUFFIXES``) are ignored, and so are names that could not be a safe relative
    path. Listing or download failures raise ``LibraryError`` (retryable when transient).
    """
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    previous = _read_state(dest, bucket, prefix)
    current: dict[str, _Synced] = {}
    try:
        for blob in client.list_blobs(bucket, prefix=prefix or None, retry=DEFAULT_RETRY):
            relative = _local_name(blob.name, prefix)
            if relative is None:
                continue
            entry = _Synced(relative, int(blob.generation), blob.md5_hash, int(blob.size or 0))
            if not _unchanged(dest, previous.get(blob.name), entry):
                try:
                    _download(blob, dest / relative)
                except api_errors.NotFound:
                    log.info("library sync: %r was deleted while syncing", blob.name)
                    continue
            current[blob.name] = entry
    except _SYNC_ERRORS as exc:
        raise LibraryError(
            f"gs://{bucket}/{prefix}: cannot sync the library ({exc})",
            retryable=isinstance(exc, TRANSIENT_ERRORS),
        ) from exc
    for name, gone in previous.items():
        if name not in current:
            (dest / gone.path).unlink(missing_ok=True)
    _write_state(dest, bucket, prefix, current)
    return [dest / entry.path for _, entry in sorted(current.items())]


def load_bucket_documents(
    client: Any, bucket: str, prefix: str, dest: Path
) -> tuple[LibraryDocument, ...]:
    """Sync the bucket's documents into ``dest`` and read them, in object-name order."""
    documents: list[LibraryDocument] = []
    for path in sync_library_from_bucket(client, bucket, prefix, dest):
        documents.extend(load_documents(path))
    return tuple(documents)


def _local_name(name: str, prefix: str) -> str | None:
    relative = name[len(prefix) :] if name.startswith(prefix) else None
    if not relative or relative.endswith("/"):
        return None  # the prefix itself, or a folder placeholder
    # Empty segments too: "oer//x.md" would otherwise become the absolute path "/x.md".
    unsafe = (
        "\\" in relative
        or any(ord(ch) < 32 for ch in relative)
        or any(part in ("", "..") or part.startswith(".") for part in relative.split("/"))
    )
    if unsafe:
        log.warning("library sync skips object %r: not a safe local path", name)
        return None
    if PurePosixPath(relative).suffix.lower() not in SUFFIXES:
        return None
    return relative


def _unchanged(dest: Path, before: _Synced | None, now: _Synced) -> bool:
    if before is None or before.path != now.path:
        return False
    same_bytes = before.generation == now.generation or (
        now.md5 is not None and before.md5 == now.md5
    )
    local = dest / now.path
    return same_bytes and local.is_file() and local.stat().st_size == now.size


def _download(blob: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        # The listed blob carries its generation, so the bytes match the MD5 recorded for it.
        with os.fdopen(fd, "wb") as handle:
            blob.download_to_file(handle, retry=DEFAULT_RETRY)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _read_state(dest: Path, bucket: str, prefix: str) -> dict[str, _Synced]:
    """What the last sync into ``dest`` brought, keyed by object name."""
    try:
        data = json.loads((dest / STATE_FILE).read_text("utf-8"))
        entries = {name: _Synced(**entry) for name, entry in data["objects"].items()}
        source = (data["bucket"], data["prefix"])
    except (FileNotFoundError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # no usable record: download everything again
    if source != (bucket, prefix):
        # Another source filled this folder: its files go, and this one starts afresh.
        for entry in entries.values():
            (dest / entry.path).unlink(missing_ok=True)
        return {}
    return entries


def _write_state(dest: Path, bucket: str, prefix: str, objects: dict[str, _Synced]) -> None:
    state = {
        "bucket": bucket,
        "prefix": prefix,
        "objects": {name: asdict(entry) for name, entry in sorted(objects.items())},
    }
    fd, tmp = tempfile.mkstemp(prefix=f"{STATE_FILE}.", suffix=".part", dir=dest)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1)
        os.replace(tmp, dest / STATE_FILE)
    finally:
        Path(tmp).unlink(missing_ok=True)
