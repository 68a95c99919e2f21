"""Signed webhook delivery following the Standard Webhooks scheme.

Every message carries ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` headers. The
signature is ``v1,`` + base64(HMAC-SHA256(key, "{id}.{timestamp}." + body)), where the key is the
base64 part of a ``whsec_...`` secret. The id stays the same across retries so a receiver can
drop duplicates; the timestamp is fresh on every attempt so a receiver can refuse replays.

Callback URLs are checked before they are stored and again before every send: only http(s), no
credentials in the URL, and (unless private targets are allowed) no host that resolves to a
loopback, link-local, private, multicast, reserved or unspecified address.

The sender never raises for HTTP or network problems; it returns a ``DeliveryOutcome`` that says
whether the attempt worked and whether trying again later may help. ``backoff_seconds`` gives
the delay before attempt ``n``; a caller stops after ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from vividly_ray.domain.errors import InvalidRequest, VividlyError

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
USER_AGENT = "vividly-ray-webhooks"
MAX_URL_LENGTH = 2048
MAX_ATTEMPTS = 8
DEFAULT_TOLERANCE_S = 300

Resolver = Callable[[str], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_ALLOWED_SCHEMES = frozenset({"http", "https"})
_RETRYABLE_STATUS = frozenset({408, 425, 429})
_NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class WebhookVerificationError(VividlyError):
    """A received webhook's signature or timestamp did not check out."""

    retryable = False


class UnresolvableCallbackHost(InvalidRequest):
    """The callback URL's host did not resolve; DNS trouble may pass, so it is retryable."""

    retryable = True


# --- signing -------------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def new_webhook_id() -> str:
    """A fresh message id, ``msg_`` + 32 hex digits; reuse it for every retry of one message."""
    return f"msg_{uuid.uuid4().hex}"


def secret_key(secret: str) -> bytes:
    """The HMAC key: base64-decoded after ``whsec_``, else the secret's UTF-8 bytes."""
    if not secret:
        raise InvalidRequest("secret", "must not be empty")
    if not secret.startswith(SECRET_PREFIX):
        return secret.encode("utf-8")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error:
        raise InvalidRequest("secret", "the part after whsec_ is not valid base64") from None
    if not key:
        raise InvalidRequest("secret", "the part after whsec_ is empty")
    return key


def signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    """The bytes the signature covers: ``{id}.{timestamp}.`` followed by the body."""
    return f"{webhook_id}.{timestamp}.".encode() + body


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message."""
    digest = hmac.new(
        secret_key(secret), signed_content(webhook_id, timestamp, body), hashlib.sha256
    ).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


# --- verifying (what a receiver runs) ------------------------------------------------------


def _lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _required_header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name, "").strip()
    if not value:
        raise WebhookVerificationError(f"missing {name} header")
    return value


def _parse_timestamp(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit():
        raise WebhookVerificationError("webhook-timestamp is not a whole number of seconds")
    return int(raw)


def _v1_signatures(header: str) -> list[str]:
    """The ``v1`` entries of a space-separated signature header, as ``v1,<base64>`` strings."""
    prefix = SIGNATURE_VERSION + ","
    return [entry for entry in header.split() if entry.startswith(prefix)]


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int | None = None,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> None:
    """Raise ``WebhookVerificationError`` unless one ``v1`` signature matches and is fresh."""
    lowered = _lower_keys(headers)
    webhook_id = _required_header(lowered, "webhook-id")
    timestamp = _parse_timestamp(_required_header(lowered, "webhook-timestamp"))
    signature_header = _required_header(lowered, "webhook-signature")
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookVerificationError("webhook-timestamp is outside the allowed tolerance")
    expected = sign(secret, webhook_id, timestamp, body).encode("ascii")
    matches = [
        hmac.compare_digest(expected, candidate.encode("utf-8"))
        for candidate in _v1_signatures(signature_header)
    ]
    if not any(matches):
        raise WebhookVerificationError("no matching v1 signature")


# --- callback URL policy -------------------------------------------------------------------


def _refuse(reason: str) -> InvalidRequest:
    return InvalidRequest("callback_url", reason)


def _has_control_or_space(text: str) -> bool:
    return any(ord(ch) <= 0x20 or ord(ch) == 0x7F for ch in text)


def _host_of(url: str) -> str:
    """The URL's host (lower case, no brackets) after the syntactic checks."""
    if len(url) > MAX_URL_LENGTH:
        raise _refuse(f"longer than {MAX_URL_LENGTH} characters")
    if _has_control_or_space(url):
        raise _refuse("contains spaces or control characters")
    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        raise _refuse("is not a valid URL") from None
    if parts.scheme.lower() not in _ALLOWED_SCHEMES:
        raise _refuse("must use http or https")
    if "@" in parts.netloc:
        raise _refuse("must not contain a user name or password")
    host = parts.hostname
    if not host:
        raise _refuse("has no host")
    return host


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside an IPv6 one (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    embedded: list[ipaddress.IPv4Address] = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in _NAT64_PREFIX:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def _own_non_public_reason(address: IPAddress) -> str | None:
    checks = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address.is_private, "private"),
        (address.is_reserved, "reserved"),
        (not address.is_global, "not globally routable"),
    )
    return next((reason for failed, reason in checks if failed), None)


def non_public_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or ``None`` when it is."""
    for candidate in (address, *_embedded_ipv4(address)):
        reason = _own_non_public_reason(candidate)
        if reason is not None:
            return reason
    return None


def system_resolve(host: str) -> list[str]:
    """Every address ``host`` resolves to via ``socket.getaddrinfo``; empty when it does not."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


def _parse_resolved(raw: str) -> IPAddress:
    address = _ip_literal(raw)
    if address is None:
        raise _refuse("host resolved to something that is not an IP address")
    return address


def _host_addresses(host: str, resolve: Resolver) -> list[IPAddress]:
    literal = _ip_literal(host)
    if literal is not None:
        return [literal]
    resolved = resolve(host)
    if not resolved:
        raise UnresolvableCallbackHost("callback_url", "host does not resolve")
    return [_parse_resolved(raw) for raw in resolved]


def check_callback_url(url: str, *, allow_private: bool, resolve: Resolver | None = None) -> None:
    """Raise ``InvalidRequest("callback_url", ...)`` unless ``url`` is a safe webhook target."""
    vetted_addresses(url, allow_private=allow_private, resolve=resolve)


def vetted_addresses(
    url: str, *, allow_private: bool, resolve: Resolver | None = None
) -> list[IPAddress]:
    """The addresses ``url``'s host resolves to, every one of them public (unless private
    targets are allowed, when nothing is resolved and the list is empty)."""
    host = _host_of(url)
    if allow_private:
        return []
    addresses = _host_addresses(host, resolve or system_resolve)
    for address in addresses:
        reason = non_public_reason(address)
        if reason is not None:
            raise _refuse(f"host resolves to a {reason} address ({address})")
    return addresses


def pinned_target(url: str, address: IPAddress) -> tuple[str, str, str]:
    """(URL addressed to ``address``, Host header, TLS server name) for ``url``.

    Connecting to the address that was checked, rather than letting the client resolve the
    host again, closes the gap in which DNS could answer with a private address the second
    time. The Host header and the TLS server name keep the original host, so virtual hosting
    and certificate checks work as before.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    shown = f"[{address}]" if address.version == 6 else str(address)
    netloc = shown if parts.port is None else f"{shown}:{parts.port}"
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(netloc=netloc).geturl(), host_header, host


# --- messages ------------------------------------------------------------------------------


def _check_webhook_id(webhook_id: str) -> None:
    if not webhook_id or len(webhook_id) > 256:
        raise InvalidRequest("webhook_id", "must be 1-256 characters")
    if not webhook_id.isascii() or _has_control_or_space(webhook_id):
        raise InvalidRequest("webhook_id", "must be printable ASCII without spaces")


def _encode_json(document: Mapping[str, Any]) -> bytes:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


@dataclass(frozen=True)
class WebhookMessage:
    """One event for one callback URL; ``webhook_id`` stays the same across retries.

    The body is ``{"data": payload, "type": event_type}`` as compact JSON with sorted keys.
    """

    webhook_id: str
    url: str
    event_type: str
    payload: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_webhook_id(self.webhook_id)
        if not self.event_type or _has_control_or_space(self.event_type):
            raise InvalidRequest("event_type", "must be a non-empty name without spaces")
        try:
            self.body()
        except (TypeError, ValueError) as exc:
            raise InvalidRequest("payload", f"is not JSON-serialisable: {exc}") from None

    def body(self) -> bytes:
        """The exact bytes sent and signed."""
        return _encode_json({"type": self.event_type, "data": self.payload})

    def headers(self, secret: str, timestamp: int) -> dict[str, str]:
        """The request headers for one attempt made at ``timestamp`` (Unix seconds)."""
        return {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": self.webhook_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, self.webhook_id, timestamp, self.body()),
        }


# --- delivery ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryOutcome:
    """The result of one delivery attempt; ``error`` is short and never holds secrets."""

    delivered: bool
    status_code: int | None
    error: str
    retryable: bool
    elapsed_s: float


def status_is_retryable(status_code: int) -> bool:
    """408, 425, 429 and every 5xx may succeed later; other failures will not."""
    return status_code in _RETRYABLE_STATUS or 500 <= status_code <= 599


def outcome_for_status(status_code: int, elapsed_s: float) -> DeliveryOutcome:
    """Classify an HTTP response: 2xx delivered, else failed and maybe retryable."""
    if 200 <= status_code <= 299:
        return DeliveryOutcome(True, status_code, "", False, elapsed_s)
    return DeliveryOutcome(
        False, status_code, f"HTTP {status_code}", status_is_retryable(status_code), elapsed_s
    )


def _outcome_for_transport_error(exc: httpx.HTTPError, elapsed_s: float) -> DeliveryOutcome:
    kind = "timeout" if isinstance(exc, httpx.TimeoutException) else "network error"
    retryable = isinstance(exc, httpx.TransportError) and not isinstance(
        exc, httpx.UnsupportedProtocol
    )
    return DeliveryOutcome(False, None, f"{kind}: {type(exc).__name__}", retryable, elapsed_s)


def backoff_seconds(attempt: int, *, base: float = 2.0, cap: float = 300.0) -> float:
    """Delay before retry ``attempt`` (1-based): ``base``, doubling each time, at most ``cap``."""
    if attempt < 1:
        raise InvalidRequest("attempt", "must be 1 or more")
    if base <= 0 or cap <= 0:
        raise InvalidRequest("backoff", "base and cap must be positive")
    exponent = min(attempt - 1, 64)
    return float(min(cap, base * 2.0**exponent))


class HttpWebhookSender:
    """POSTs signed webhook messages with httpx; never follows redirects, never raises for I/O.

    Holds one connection pool; call ``close()`` (or use it as a context manager) when done.
    """

    def __init__(
        self,
        *,
        timeout_s: float = 10.0,
        allow_private: bool = False,
        transport: httpx.BaseTransport | None = None,
        resolve: Resolver | None = None,
    ) -> None:
        self.allow_private = allow_private
        self._resolve = resolve
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )

    def __enter__(self) -> HttpWebhookSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def send(
        self, message: WebhookMessage, secret: str, *, now: int | None = None
    ) -> DeliveryOutcome:
        """Make one delivery attempt of ``message`` signed with ``secret``."""
        started = time.perf_counter()
        try:
            addresses = vetted_addresses(
                message.url, allow_private=self.allow_private, resolve=self._resolve
            )
        except InvalidRequest as refused:
            return DeliveryOutcome(
                False, None, refused.message, refused.retryable, time.perf_counter() - started
            )
        timestamp = int(time.time()) if now is None else now
        headers = message.headers(secret, timestamp)
        target, extensions = message.url, {}
        if addresses and _ip_literal(_host_of(message.url)) is None:
            target, headers["host"], server_name = pinned_target(message.url, addresses[0])
            extensions["sni_hostname"] = server_name
        try:
            request = self._client.build_request(
                "POST", target, content=message.body(), headers=headers, extensions=extensions
            )
            response = self._client.send(request, stream=True)
            response.close()
        except httpx.HTTPError as exc:
            return _outcome_for_transport_error(exc, time.perf_counter() - started)
        except httpx.InvalidURL:
            return DeliveryOutcome(
                False,
                None,
                "callback_url: rejected by the HTTP client",
                False,
                time.perf_counter() - started,
            )
        return outcome_for_status(response.status_code, time.perf_counter() - started)
