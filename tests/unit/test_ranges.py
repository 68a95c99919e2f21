from __future__ import annotations

import pytest

from vividly_ray.domain.errors import VividlyError
from vividly_ray.service.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    content_range,
    etag_for,
    if_none_match,
    parse_range,
    unsatisfied_content_range,
)

SIZE = 1000


def test_byte_range_length_is_inclusive() -> None:
    assert ByteRange(0, 0).length == 1
    assert ByteRange(10, 19).length == 10


@pytest.mark.parametrize("start, end", [(-1, 5), (5, 4)])
def test_byte_range_rejects_impossible_bounds(start: int, end: int) -> None:
    with pytest.raises(ValueError):
        ByteRange(start, end)


def test_no_header_serves_the_whole_file() -> None:
    assert parse_range(None, SIZE) is None


@pytest.mark.parametrize(
    "header, expected",
    [
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=100-100", ByteRange(100, 100)),
        ("bytes=500-", ByteRange(500, 999)),
        ("bytes=0-", ByteRange(0, 999)),
        ("bytes=-100", ByteRange(900, 999)),
        ("bytes=-1", ByteRange(999, 999)),
        ("bytes=900-5000", ByteRange(900, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=999-999", ByteRange(999, 999)),
        ("Bytes=0-9", ByteRange(0, 9)),
        (" bytes=0-9 ", ByteRange(0, 9)),
        ("bytes=0-9,", ByteRange(0, 9)),
        ("bytes=007-010", ByteRange(7, 10)),
        ("bytes=0-" + "9" * 5000, ByteRange(0, 999)),
        ("bytes=-" + "9" * 5000, ByteRange(0, 999)),
    ],
)
def test_single_ranges(header: str, expected: ByteRange) -> None:
    assert parse_range(header, SIZE) == expected


@pytest.mark.parametrize(
    "header",
    [
        "",
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=abc",
        "bytes=5",
        "bytes=--5",
        "bytes=1-2-3",
        "bytes=10-5",
        "bytes=0x10-20",
        "bytes=1.5-2",
        "bytes=+1-2",
        "bytes=\u00b2-5",
        "items=0-9",
        "0-9",
        "bytes=,",
        "bytes=" + "9" * 30 + "-1",
    ],
)
def test_invalid_headers_are_ignored(header: str) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize("header", ["bytes=0-9,20-29", "bytes=0-9, -5", "bytes=5000-,0-9"])
def test_several_ranges_serve_the_whole_file(header: str) -> None:
    assert parse_range(header, SIZE) is None


@pytest.mark.parametrize(
    "header, size",
    [
        ("bytes=1000-", SIZE),
        ("bytes=1000-2000", SIZE),
        ("bytes=" + "9" * 5000 + "-", SIZE),
        ("bytes=-0", SIZE),
        ("bytes=0-", 0),
        ("bytes=0-0", 0),
        ("bytes=-5", 0),
    ],
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.size == size
    assert caught.value.retryable is False
    assert isinstance(caught.value, VividlyError)


def test_invalid_header_on_an_empty_file_is_still_ignored() -> None:
    assert parse_range("bytes=oops", 0) is None
    assert parse_range(None, 0) is None


def test_negative_size_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_range("bytes=0-1", -1)


def test_content_range() -> None:
    assert content_range(ByteRange(0, 99), SIZE) == "bytes 0-99/1000"
    assert content_range(ByteRange(999, 999), SIZE) == "bytes 999-999/1000"
    assert unsatisfied_content_range(SIZE) == "bytes */1000"


def test_content_range_rejects_a_range_past_the_end() -> None:
    with pytest.raises(ValueError):
        content_range(ByteRange(0, 1000), SIZE)


def test_etag_is_strong_quoted_and_32_hex() -> None:
    tag = etag_for("req-1", 1000, 1700000000)
    assert tag.startswith('"') and tag.endswith('"')
    assert not tag.startswith("W/")
    inner = tag[1:-1]
    assert len(inner) == 32
    assert all(c in "0123456789abcdef" for c in inner)


def test_etag_is_stable_and_sensitive_to_parts() -> None:
    assert etag_for("a", 1) == etag_for("a", 1)
    assert etag_for("a", 1) != etag_for("a", 2)
    assert etag_for("ab", "c") != etag_for("a", "bc")
    assert etag_for(1) != etag_for("1")


def test_etag_needs_a_part() -> None:
    with pytest.raises(ValueError):
        etag_for()


TAG = etag_for("req-1", 1000)
OTHER = etag_for("req-2", 1000)


@pytest.mark.parametrize(
    "header, matches",
    [
        (None, False),
        ("", False),
        ("*", True),
        (" * ", True),
        (TAG, True),
        (OTHER, False),
        (f"W/{TAG}", True),
        (f"{OTHER}, {TAG}", True),
        (f"{OTHER},W/{TAG}", True),
        (f"  {OTHER} ,  {OTHER}  ", False),
        (TAG[1:-1], False),
        (f"{OTHER}, garbage", False),
        ('"a,b", ' + TAG, True),
        (f"w/{TAG}", False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert if_none_match(header, TAG) is matches


def test_if_none_match_compares_weakly_against_a_weak_etag() -> None:
    assert if_none_match('"abc"', 'W/"abc"')
    assert if_none_match('W/"abc"', 'W/"abc"')
    assert not if_none_match('"abd"', 'W/"abc"')
