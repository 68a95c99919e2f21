"""HTTP Range requests (RFC 9110 section 14) and entity tags for serving a video file.

Only a single byte range is honoured; a header asking for several ranges, a unit other
than ``bytes``, or a malformed header is ignored and the whole file is served, as the RFC
allows.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from vividly_ray.domain.errors import VividlyError

_RANGE_SPEC = re.compile(r"([0-9]*)-([0-9]*)")
_ENTITY_TAG = re.compile(r'(?:W/)?"([^"]*)"')


class RangeNotSatisfiable(VividlyError):
    """The requested range lies outside a representation of ``size`` bytes (HTTP 416)."""

    retryable = False

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for a representation of {size} bytes")
        self.size = size


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``end`` of a representation, both inclusive."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 0 or self.end < self.start:
            raise ValueError(f"invalid byte range {self.start}-{self.end}")

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def _digits_key(digits: str) -> tuple[int, str]:
    """Orders decimal digit strings numerically without converting them."""
    stripped = digits.lstrip("0") or "0"
    return len(stripped), stripped


def _position(digits: str, size: int) -> int:
    """``digits`` as an int, or ``size`` when it is at least that (avoids huge conversions)."""
    if _digits_key(digits) >= _digits_key(str(size)):
        return size
    return int(digits)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range a ``Range`` header asks of a ``size``-byte representation.

    None means serve the whole representation: no header, or one that is ignored
    (malformed, another unit, several ranges). Raises ``RangeNotSatisfiable`` when the
    range starts at or beyond the end, asks for a zero-length suffix, or the
    representation is empty.
    """
    if size < 0:
        raise ValueError(f"size must not be negative, got {size}")
    if header is None:
        return None
    unit, sep, range_set = header.strip().partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in range_set.split(",") if spec.strip()]
    if len(specs) != 1:
        return None
    match = _RANGE_SPEC.fullmatch(specs[0])
    if match is None:
        return None
    first, last = match.groups()
    if not first:
        if not last:
            return None
        return _suffix_range(last, size)
    if last and _digits_key(last) < _digits_key(first):
        return None
    start = _position(first, size)
    if start >= size:
        raise RangeNotSatisfiable(size)
    end = size - 1 if not last else min(_position(last, size), size - 1)
    return ByteRange(start, end)


def _suffix_range(digits: str, size: int) -> ByteRange:
    length = _position(digits, size)
    if length == 0 or size == 0:
        raise RangeNotSatisfiable(size)
    return ByteRange(size - length, size - 1)


def content_range(r: ByteRange, size: int) -> str:
    """The ``Content-Range`` value of a 206 response, e.g. ``bytes 0-99/1000``."""
    if r.end >= size:
        raise ValueError(f"range {r.start}-{r.end} lies outside {size} bytes")
    return f"bytes {r.start}-{r.end}/{size}"


def unsatisfied_content_range(size: int) -> str:
    """The ``Content-Range`` value of a 416 response, e.g. ``bytes */1000``."""
    return f"bytes */{size}"


def etag_for(*parts: str | int) -> str:
    """A strong, quoted ETag derived from ``parts`` (e.g. request id, file size, mtime)."""
    if not parts:
        raise ValueError("an ETag needs at least one part")
    digest = hashlib.sha256()
    for part in parts:
        kind = "i" if isinstance(part, int) else "s"
        data = str(part).encode("utf-8")
        digest.update(f"{kind}{len(data)}:".encode("ascii"))
        digest.update(data)
    return f'"{digest.hexdigest()[:32]}"'


def _opaque_tag(tag: str) -> str:
    """The part of an entity tag that weak comparison looks at: no ``W/``, no quotes."""
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag[1:-1] if len(tag) >= 2 and tag[0] == tag[-1] == '"' else tag


def if_none_match(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header matches ``etag`` (so a 304 may be sent).

    Uses the weak comparison the RFC requires for this header: ``W/`` prefixes are
    ignored. ``*`` matches any existing representation. A malformed list matches nothing.
    """
    if header is None:
        return False
    value = header.strip()
    if value == "*":
        return True
    tags = _ENTITY_TAG.findall(value)
    if not tags or _ENTITY_TAG.sub("", value).strip(" \t,"):
        return False
    return _opaque_tag(etag) in tags
