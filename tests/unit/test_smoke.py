"""The smoke command's pure parts: the request it sends, the length bound, the event-stream and
caption parsers, and the lines it prints."""

from __future__ import annotations

import httpx
import pytest

from vividly_ray.smoke import (
    SMOKE_QUESTION,
    SmokeReport,
    TimelineEntry,
    _reason_of,
    duration_bounds,
    iter_sse,
    smoke_body,
    summary_line,
    vtt_cues,
)


def test_the_smoke_request_is_the_platforms_water_cycle_request() -> None:
    body = smoke_body("smoke-1")
    assert body == {
        "student_query": "Create a 3-minute video explaining the water cycle, including "
        "evaporation, condensation, and precipitation. Include simple diagrams and examples.",
        "grade_level": "5",
        "duration_minutes": 3,
        "correlation_id": "smoke-1",
    }
    assert 3 <= len(SMOKE_QUESTION) <= 500


def test_three_minutes_allow_117_to_243_seconds() -> None:
    assert duration_bounds(3) == pytest.approx((117.0, 243.0))
    assert duration_bounds(2, 0.1) == pytest.approx((108.0, 132.0))


def test_events_are_parsed_with_ids_names_and_multiline_data() -> None:
    lines = [
        "retry: 2000",
        "",
        "id: 1",
        "event: status",
        'data: {"status": "pending"}',
        "",
        ": keep-alive",
        "",
        "id: 2",
        "data: first",
        "data:second",
        "",
        "id: 3",
        "event: scene",
        "data: {}",  # the stream ends before the blank line: no event
    ]
    events = list(iter_sse(lines))
    assert [(e.id, e.event, e.data) for e in events] == [
        ("1", "status", '{"status": "pending"}'),
        ("2", "message", "first\nsecond"),
    ]


def test_caption_cues_with_and_without_hours() -> None:
    text = "\ufeffWEBVTT\n\n00:01.500 --> 00:04.000\nOne.\n\n01:02:03.250 --> 01:02:05.000\nTwo.\n"
    assert vtt_cues(text) == [(1.5, 4.0), (3723.25, 3725.0)]
    assert vtt_cues("WEBVTT\n\n") == []
    with pytest.raises(ValueError, match="WEBVTT"):
        vtt_cues("1\n00:00:01,000 --> 00:00:02,000\nan SRT file\n")


def test_a_timeline_line_shows_the_stage_only_when_it_differs() -> None:
    line = TimelineEntry(12.34, "generating_video", 46, "generating_video", 1, 3).line()
    assert line == "   12.3 s  generating_video      46%  scenes 1/3"
    failed = TimelineEntry(20.0, "failed", 46, "retrieving", note="too little material").line()
    assert failed == "   20.0 s  failed                46%  stage retrieving  too little material"


def test_transport_errors_read_as_reasons() -> None:
    refused = httpx.ConnectError("[Errno 111] Connection refused")
    assert _reason_of(refused) == "connection refused"
    assert _reason_of(httpx.ReadTimeout("timed out")) == "no answer in time"
    unknown = httpx.ConnectError("[Errno -2] Name or service not known")
    assert _reason_of(unknown) == "name or service not known"


def test_the_summary_names_the_failed_stage() -> None:
    failed = SmokeReport(url="u", failed_stage="playback", reason="no audio stream")
    assert summary_line(failed) == "smoke failed at playback: no audio stream"
    passed = SmokeReport(
        url="u", ok=True, total_s=40.0, completed_after_s=35.5, video_seconds=181.2,
        video_bytes=3 << 20,
    )  # fmt: skip
    assert summary_line(passed) == (
        "smoke passed in 40.0 s: completed after 35.5 s, 181.2 s of video (3.0 MiB)"
    )
