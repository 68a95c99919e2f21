"""LocalBlobStore: the embedded BlobStore, a folder on this machine (or a shared volume)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from vividly_ray.domain.blobs import BlobInfo
from vividly_ray.domain.errors import BlobNotFound, InvalidRequest

_CHUNK = 256 * 1024
_TYPES = ".types"  # sidecar folder holding each blob's content type


def check_key(key: str) -> str:
    """A key is a relative POSIX path without ``..``; anything else is refused."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or key.startswith("."):
        raise InvalidRequest("key", f"must be a relative path without '..', got {key!r}")
    return key


class LocalBlobStore:
    """Blobs as files under ``root``; writes go to a temporary file and are renamed into place."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def path_of(self, key: str) -> Path:
        """The file holding ``key`` (local adapter only; the port never exposes paths)."""
        return self.root / check_key(key)

    def put_file(self, key: str, source: Path, content_type: str) -> BlobInfo:
        def write(tmp: Path) -> None:
            shutil.copyfile(source, tmp)

        return self._put(key, content_type, write)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        return self._put(key, content_type, lambda tmp: tmp.write_bytes(data))

    def stat(self, key: str) -> BlobInfo | None:
        path = self.path_of(key)
        try:
            status = path.stat()
        except FileNotFoundError:
            return None
        etag = hashlib.sha256(f"{status.st_size}:{status.st_mtime_ns}".encode()).hexdigest()[:32]
        return BlobInfo(key, status.st_size, etag, self._content_type(key))

    def get_file(self, key: str, dest: Path) -> Path:
        source = self._existing(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(source, dest)  # same filesystem: no copy needed, blobs are never rewritten
        except OSError:
            shutil.copyfile(source, dest)
        return dest

    def get_bytes(self, key: str) -> bytes:
        return self._existing(key).read_bytes()

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        path = self._existing(key)
        with path.open("rb") as handle:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = handle.read(min(_CHUNK, left))
                if not chunk:
                    return
                left -= len(chunk)
                yield chunk

    def delete(self, key: str) -> bool:
        path = self.path_of(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        self._type_file(key).unlink(missing_ok=True)
        # Empty folders left behind would only clutter listings; a racing writer recreates its own.
        for parent in path.parents:
            if parent == self.root or not parent.is_relative_to(self.root):
                break
            try:
                parent.rmdir()
            except OSError:
                break
        return True

    def list_keys(self, prefix: str) -> Iterator[str]:
        head, _, _ = prefix.rpartition("/")
        start = self.root / check_key(head) if head else self.root
        if not start.is_dir():
            return
        for path in start.rglob("*"):
            if not path.is_file() or path.name.startswith("."):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(prefix) and not key.startswith(_TYPES):
                yield key

    def _existing(self, key: str) -> Path:
        path = self.path_of(key)
        if not path.is_file():
            raise BlobNotFound(f"no blob {key!r}")
        return path

    def _put(self, key: str, content_type: str, write: object) -> BlobInfo:
        final = self.path_of(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=final.parent)
        os.close(fd)
        tmp = Path(name)
        try:
            assert callable(write)
            write(tmp)
            self._remember_type(key, content_type)
            os.replace(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        info = self.stat(key)
        assert info is not None
        return info

    def _type_file(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / _TYPES / digest[:2] / f"{digest}.json"

    def _remember_type(self, key: str, content_type: str) -> None:
        path = self._type_file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"key": key, "content_type": content_type}), "utf-8")

    def _content_type(self, key: str) -> str:
        try:
            data = json.loads(self._type_file(key).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return "application/octet-stream"
        return str(data.get("content_type", "application/octet-stream"))
