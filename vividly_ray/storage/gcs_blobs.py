"""GcsBlobStore: the BlobStore on Google Cloud Storage, plus V4 signed URLs to its objects.

Atomic writes come from GCS itself: an object appears only when its upload is finalized, so a
reader sees the old generation or the new one. Reads of one ``read_range`` are pinned to the
generation the read started on, so a stream never mixes two versions of a file.

Retries: every call runs under google-cloud-storage's ``DEFAULT_RETRY`` (exponential backoff on
429, 5xx and connection errors, for up to 120 s). Uploads are retried without an
``if_generation_match`` precondition on purpose: the port's ``put`` replaces the whole object,
and a replayed upload sends the same bytes to the same key, so the end state is that of one
successful write; a precondition would instead turn the replay of an upload that had in fact
succeeded into a 412. Only one worker writes a request's keys (the dispatcher's lease), and cache
keys are content-addressed, so no other writer is overwritten. When the retries run out, the
failure surfaces as ``StageFailed("storage", ..., retryable=True)`` and the dispatcher tries the
request again later; other API errors (403, 400, ...) are ``StageFailed`` that is not retryable.

The store never lists a bucket: every operation addresses one object by key.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

import requests
from google.api_core import exceptions as api_errors
from google.api_core.retry import Retry
from google.auth import exceptions as auth_errors
from google.cloud.storage.exceptions import DataCorruption
from google.cloud.storage.retry import DEFAULT_RETRY

from vividly_ray.domain.blobs import BlobInfo
from vividly_ray.domain.errors import BlobNotFound, InvalidRequest, StageFailed, VividlyError
from vividly_ray.storage.gcs_signing import (
    DEFAULT_EXPIRY_S,
    attachment_disposition,
    expiry,
    signing_arguments,
)

DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024
CHUNK_MULTIPLE = 256 * 1024  # GCS accepts resumable chunks only in multiples of 256 KiB
STAGE = "storage"
_KEY = re.compile(r"[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*")
_MAX_NAME_BYTES = 1024  # the GCS object-name limit
# What is still failing after DEFAULT_RETRY gave up, and may pass if tried again later.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    api_errors.TooManyRequests,
    api_errors.InternalServerError,
    api_errors.BadGateway,
    api_errors.ServiceUnavailable,
    api_errors.GatewayTimeout,
    api_errors.RetryError,
    requests.ConnectionError,
    requests.Timeout,
    auth_errors.TransportError,
    DataCorruption,
)


def check_object_key(key: str) -> str:
    """Accept only the server-built keys the pipeline makes (``videos/<id>/video.mp4``).

    Segments are letters, digits, ``.``, ``_`` and ``-``; empty, ``.`` and ``..`` segments, a
    leading ``/`` or ``.``, backslashes, control characters and anything else are refused.
    """
    if (
        not isinstance(key, str)
        or not _KEY.fullmatch(key)
        or key.startswith(".")
        or any(segment in (".", "..") for segment in key.split("/"))
    ):
        raise InvalidRequest(
            "key",
            "must be '/'-separated segments of letters, digits, '.', '_' and '-' without "
            f"empty, '.' or '..' segments, got {key!r}",
        )
    return key


class GcsBlobStore:
    """Blobs as objects ``<prefix>/<key>`` in one bucket, through a ``google.cloud.storage.Client``.

    ``chunk_size`` (a multiple of 256 KiB) is both the resumable-upload chunk and the window of
    each ranged download: a file larger than one chunk is uploaded resumably, chunk by chunk.
    ``signer_email`` names the service account that signs URLs when the client's credentials
    hold no private key and do not name their account themselves. ``retry`` replaces the
    library's ``DEFAULT_RETRY`` (for a shorter deadline where a caller is waiting).
    """

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str = "",
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        signer_email: str | None = None,
        retry: Retry = DEFAULT_RETRY,
    ) -> None:
        if chunk_size <= 0 or chunk_size % CHUNK_MULTIPLE:
            raise ValueError(f"chunk_size must be a positive multiple of 256 KiB, got {chunk_size}")
        self._client = client
        self._bucket = client.bucket(bucket)
        self.bucket_name = bucket
        self.prefix = check_object_key(prefix.strip("/")) + "/" if prefix.strip("/") else ""
        self.chunk_size = chunk_size
        self._signer_email = signer_email
        self._retry = retry

    def object_name(self, key: str) -> str:
        """The GCS object name that holds ``key``."""
        name = self.prefix + check_object_key(key)
        if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
            raise InvalidRequest("key", f"object names are at most {_MAX_NAME_BYTES} bytes")
        return name

    def put_file(self, key: str, source: Path, content_type: str) -> BlobInfo:
        name = self.object_name(key)
        with Path(source).open("rb") as handle:
            return self._upload(key, name, handle, os.fstat(handle.fileno()).st_size, content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        return self._upload(key, self.object_name(key), BytesIO(data), len(data), content_type)

    def stat(self, key: str) -> BlobInfo | None:
        name = self.object_name(key)
        with self._errors("stat", key):
            blob = self._bucket.get_blob(name, retry=self._retry)
        return None if blob is None else _info(key, blob)

    def get_file(self, key: str, dest: Path) -> Path:
        name = self.object_name(key)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as handle, self._errors("fetch", key):
                self._bucket.blob(name).download_to_file(handle, retry=self._retry)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)
        return dest

    def get_bytes(self, key: str) -> bytes:
        name = self.object_name(key)
        with self._errors("fetch", key):
            data = self._bucket.blob(name).download_as_bytes(retry=self._retry)
        return bytes(data)

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start..end`` (inclusive, clipped to the blob), one ranged GET per chunk."""
        if start < 0:
            raise ValueError(f"start must be >= 0, got {start}")
        name = self.object_name(key)
        with self._errors("read", key):
            current = self._bucket.get_blob(name, retry=self._retry)
        if current is None:
            raise BlobNotFound(f"no blob {key!r}")
        last = min(end, int(current.size) - 1)
        pinned = self._bucket.blob(name, generation=current.generation)
        offset = start
        while offset <= last:
            window_end = min(offset + self.chunk_size - 1, last)
            with self._errors("read", key):
                # Partial reads carry no whole-object checksum to compare against.
                chunk = pinned.download_as_bytes(
                    start=offset, end=window_end, checksum=None, retry=self._retry
                )
            if not chunk:
                return
            offset += len(chunk)
            yield bytes(chunk)

    def delete(self, key: str) -> bool:
        name = self.object_name(key)
        try:
            with self._errors("delete", key):
                self._bucket.blob(name).delete(retry=self._retry)
        except BlobNotFound:
            return False
        return True

    def list_keys(self, prefix: str) -> Iterator[str]:
        start = self.prefix + prefix
        with self._errors("list", prefix):
            listing = self._bucket.list_blobs(prefix=start, retry=self._retry)
            names = [blob.name for blob in listing]
        for name in names:
            yield name[len(self.prefix) :]

    def can_sign(self) -> bool:
        """Whether this store's credentials can sign URLs (an emulator's anonymous ones can't)."""
        from google.auth.credentials import AnonymousCredentials

        return not isinstance(self._client._credentials, AnonymousCredentials)

    def signed_url(
        self, key: str, expires_s: int = DEFAULT_EXPIRY_S, download_name: str | None = None
    ) -> str:
        """A V4 URL that GETs ``key`` without credentials until it expires (15 minutes default).

        ``download_name`` makes browsers save the file under that name. See ``gcs_signing``
        for which credentials sign and how.
        """
        blob = self._bucket.blob(self.object_name(key))
        lifetime = expiry(expires_s)
        disposition = None if download_name is None else attachment_disposition(download_name)
        # The client keeps its credentials private; google-cloud-storage reads them the same way.
        signing = signing_arguments(self._client._credentials, self._signer_email)
        with self._errors("sign a URL for", key):
            url = blob.generate_signed_url(
                version="v4",
                method="GET",
                expiration=lifetime,
                response_disposition=disposition,
                **signing,
            )
        return str(url)

    def _upload(
        self, key: str, name: str, stream: BinaryIO, size: int, content_type: str
    ) -> BlobInfo:
        blob = self._bucket.blob(name, chunk_size=self.chunk_size)
        # Also in the object's metadata, not only on the media part: servers that parse the part
        # header (the emulator among them) keep the bare type and drop "; charset=utf-8".
        blob.content_type = content_type
        # ``size=None`` is what makes the library stream a resumable upload in ``chunk_size``
        # pieces; with a size it sends anything up to 8 MiB as one multipart request.
        upload_size = None if size > self.chunk_size else size
        with self._errors("store", key, missing=self._no_bucket):
            blob.upload_from_file(
                stream, size=upload_size, content_type=content_type, retry=self._retry
            )
        return _info(key, blob)

    def _no_bucket(self, key: str) -> VividlyError:
        return StageFailed(STAGE, f"cannot store {key!r}: bucket {self.bucket_name!r} not found")

    @contextmanager
    def _errors(
        self,
        action: str,
        key: str,
        missing: Callable[[str], VividlyError] | None = None,
    ) -> Iterator[None]:
        try:
            yield
        except api_errors.NotFound as exc:
            raise (missing(key) if missing else BlobNotFound(f"no blob {key!r}")) from exc
        except TRANSIENT_ERRORS as exc:
            raise StageFailed(STAGE, f"cannot {action} {key!r}: {exc}", retryable=True) from exc
        except api_errors.GoogleAPICallError as exc:
            raise StageFailed(STAGE, f"cannot {action} {key!r}: {exc}") from exc


def _info(key: str, blob: Any) -> BlobInfo:
    etag = blob.etag or str(blob.generation)
    content_type = blob.content_type or "application/octet-stream"
    return BlobInfo(key, int(blob.size or 0), str(etag), str(content_type))
