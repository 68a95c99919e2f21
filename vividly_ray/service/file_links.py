"""Signed, expiring links to a request's files, usable without an Authorization header.

A ``<video src>`` or a download link cannot send a bearer token, so each file link carries an
expiry and an HMAC over (request id, file name, expiry) keyed by the organization's secret,
in the manner of a GCS signed URL.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode


def _signature(secret: str, request_id: str, name: str, expires: int) -> str:
    message = f"{request_id}\n{name}\n{expires}".encode()
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:43]


def signed_query(
    secret: str, request_id: str, name: str, ttl_s: int, now: float | None = None
) -> str:
    """``expires=...&signature=...`` for the request's file ``name`` (``stream.m3u8`` and
    ``stream/<part>`` name the progressive stream's files)."""
    expires = int((time.time() if now is None else now) + ttl_s)
    return urlencode(
        {"expires": expires, "signature": _signature(secret, request_id, name, expires)}
    )


def signed_path(
    secret: str, request_id: str, name: str, ttl_s: int, now: float | None = None
) -> str:
    return (
        f"/v1/videos/{request_id}/files/{name}?{signed_query(secret, request_id, name, ttl_s, now)}"
    )


def signature_valid(
    secret: str,
    request_id: str,
    name: str,
    expires: str | None,
    signature: str | None,
    now: float | None = None,
) -> bool:
    if not expires or not signature or not expires.isdigit():
        return False
    if int(expires) < (time.time() if now is None else now):
        return False
    expected = _signature(secret, request_id, name, int(expires))
    return hmac.compare_digest(expected, signature)
