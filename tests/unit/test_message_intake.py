"""MessageIntake's verdicts, with hand-written fakes of the recorder and the rejection log."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vividly_ray.domain.errors import Conflict, Overloaded
from vividly_ray.domain.models import VideoRequest
from vividly_ray.service.message_intake import IntakeMessage, MessageIntake, Verdict

BODY = {"student_query": "How do volcanoes erupt?", "grade_level": 6, "duration_minutes": 2}


@dataclass
class Record:
    request_id: str


@dataclass
class FakeRecorder:
    fail_with: Exception | None = None
    calls: list[dict[str, Any]] = field(default_factory=list)
    by_key: dict[str, str] = field(default_factory=dict)

    def record(self, request: VideoRequest, **kwargs: Any) -> tuple[Any, bool]:
        if self.fail_with is not None:
            raise self.fail_with
        self.calls.append({"request": request, **kwargs})
        key = kwargs["idempotency_key"]
        if key in self.by_key:
            return Record(self.by_key[key]), False
        self.by_key[key] = kwargs.get("request_id") or f"r{len(self.by_key) + 1}"
        return Record(self.by_key[key]), True


@dataclass
class FakeRejections:
    seen: dict[str, list[str]] = field(default_factory=dict)

    def record(self, message_id: str, source: str, reason: str, body: bytes) -> int:
        self.seen.setdefault(message_id, []).append(reason)
        return len(self.seen[message_id])


def message(body: object, message_id: str = "m1", attempt: int | None = 1) -> IntakeMessage:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return IntakeMessage(
        message_id=message_id,
        data=data,
        attributes={},
        publish_time=datetime(2026, 12, 1, 9, tzinfo=UTC),
        delivery_attempt=attempt,
    )


def intake(recorder: FakeRecorder, rejections: FakeRejections) -> MessageIntake:
    return MessageIntake(
        recorder, rejections, source="projects/p/subscriptions/s", default_organization="platform"
    )


def test_a_valid_message_is_recorded_under_the_default_organization_and_acknowledged() -> None:
    recorder, rejections = FakeRecorder(), FakeRejections()
    outcome = intake(recorder, rejections).handle(message(BODY))
    assert outcome.verdict is Verdict.ACK and outcome.created
    request = recorder.calls[0]["request"]
    assert request.organization_id == "platform" and request.student_id == "anonymous"
    assert request.grade.level == 6 and request.minutes == 2


def test_the_same_body_published_twice_the_same_day_has_one_key() -> None:
    recorder, rejections = FakeRecorder(), FakeRejections()
    handler = intake(recorder, rejections)
    first = handler.handle(message(BODY, "m1"))
    second = handler.handle(message(dict(reversed(list(BODY.items()))), "m2"))
    assert first.request_id == second.request_id and not second.created


def test_a_named_request_id_is_the_key_and_the_id() -> None:
    recorder, rejections = FakeRecorder(), FakeRejections()
    body = {**BODY, "request_id": "abc-123", "organization_id": "school-9"}
    outcome = intake(recorder, rejections).handle(message(body))
    assert outcome.request_id == "abc-123"
    assert recorder.calls[0]["idempotency_key"] == "pubsub:id:abc-123"
    assert recorder.calls[0]["request"].organization_id == "school-9"


def test_every_bad_field_is_named_in_the_rejection_and_the_message_is_given_back() -> None:
    recorder, rejections = FakeRecorder(), FakeRejections()
    body = {"student_query": "", "grade_level": "13", "duration_minutes": 99}
    outcome = intake(recorder, rejections).handle(message(body))
    assert outcome.verdict is Verdict.RETRY
    reason = rejections.seen["m1"][0]
    for name in ("student_query", "grade_level", "duration_minutes"):
        assert name in reason
    assert not recorder.calls


def test_without_a_dead_letter_policy_a_rejected_message_is_dropped_after_recording() -> None:
    recorder, rejections = FakeRecorder(), FakeRejections()
    outcome = intake(recorder, rejections).handle(message(b"\xff\xfe", attempt=None))
    assert outcome.verdict is Verdict.ACK and outcome.request_id is None
    assert "not JSON" in rejections.seen["m1"][0]


def test_a_json_array_and_a_bad_organization_are_rejected_with_reasons() -> None:
    recorder, rejections = FakeRecorder(), FakeRejections()
    handler = intake(recorder, rejections)
    handler.handle(message([1, 2], "a"))
    handler.handle(message({**BODY, "organization_id": 7}, "b"))
    assert "JSON object" in rejections.seen["a"][0]
    assert rejections.seen["b"][0].startswith("organization_id:")


def test_a_reused_request_id_with_another_body_is_a_rejection() -> None:
    rejections = FakeRejections()
    recorder = FakeRecorder(fail_with=Conflict("already used with a different request body"))
    outcome = intake(recorder, rejections).handle(message({**BODY, "request_id": "x"}))
    assert outcome.verdict is Verdict.RETRY
    assert "different request body" in rejections.seen["m1"][0]


def test_an_overloaded_service_gives_the_message_back_without_a_rejection() -> None:
    rejections = FakeRejections()
    recorder = FakeRecorder(fail_with=Overloaded("200 requests are already waiting", 5))
    outcome = intake(recorder, rejections).handle(message(BODY))
    assert outcome.verdict is Verdict.RETRY and not rejections.seen
