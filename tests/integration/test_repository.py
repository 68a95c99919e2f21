"""The request repository against real SQLite and real PostgreSQL."""

from __future__ import annotations

import pytest

from vividly_ray.domain.errors import IllegalTransition, RequestNotFound
from vividly_ray.domain.models import Aspect, ErrorInfo, Grade, Resolution, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus
from vividly_ray.persistence.repository import SqlRequestRepository

pytestmark = pytest.mark.integration

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=2)
TALL = VideoRequest(
    question="Explain the water cycle",
    grade=Grade(5),
    minutes=2.5,
    aspect=Aspect.TALL,
    resolution=Resolution.P1080,
    student_id="s-1",
    organization_id="org-1",
    correlation_id="c-1",
    voice="piper:en_US-joe-medium",
    callback_url="https://example.org/hook",
    clarifications=("the water cycle",),
)


def test_a_request_walks_the_whole_pipeline_and_keeps_its_history(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(TALL)[0].request_id
    for percent, status in zip((2, 8, 15, 25, 85, 95, 100), PIPELINE[1:], strict=True):
        repo.transition(request_id, status, progress=percent)
    record = repo.get(request_id)
    assert record.status is RequestStatus.COMPLETED
    assert record.progress_percentage == 100
    assert record.grade_level == "5" and record.student_query == REQUEST.question
    # The row alone is enough to rebuild the request on another worker.
    assert record.to_request() == TALL
    statuses = [e.status for e in repo.events(request_id) if e.event_type == "status"]
    assert statuses == list(PIPELINE)


def test_illegal_transition_is_refused_and_changes_nothing(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)[0].request_id
    with pytest.raises(IllegalTransition):
        repo.transition(request_id, RequestStatus.GENERATING_VIDEO)
    assert repo.get(request_id).status is RequestStatus.PENDING
    assert len(repo.events(request_id)) == 1


def test_progress_never_goes_backwards(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)[0].request_id
    repo.transition(request_id, RequestStatus.VALIDATING, progress=2)
    repo.progress(request_id, 40, "half")
    repo.progress(request_id, 10, "stale report")
    repo.transition(request_id, RequestStatus.RETRIEVING, progress=8)
    assert repo.get(request_id).progress_percentage == 40
    progress_events = [e for e in repo.events(request_id) if e.event_type == "progress"]
    assert [e.progress_percentage for e in progress_events] == [40]


def test_repeating_the_current_status_is_idempotent(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)[0].request_id
    repo.transition(request_id, RequestStatus.VALIDATING)
    repo.transition(request_id, RequestStatus.VALIDATING)
    assert len(repo.events(request_id)) == 2


def test_failure_keeps_the_error_message(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)[0].request_id
    repo.transition(request_id, RequestStatus.VALIDATING)
    error = ErrorInfo("validating", "stage_failed", "boom", "abc123")
    repo.transition(request_id, RequestStatus.FAILED, error=error)
    record = repo.get(request_id)
    assert record.status is RequestStatus.FAILED and record.error == error


def test_unknown_request_is_reported(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    with pytest.raises(RequestNotFound):
        repo.get("00000000-0000-0000-0000-000000000000")


def test_event_sequences_count_from_one_per_request(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    first = repo.create(REQUEST)[0].request_id
    second = repo.create(REQUEST)[0].request_id
    repo.transition(first, RequestStatus.VALIDATING)
    repo.transition(second, RequestStatus.VALIDATING)
    repo.progress(first, 5, "five")
    assert [e.sequence for e in repo.events(first)] == [1, 2, 3]
    assert [e.sequence for e in repo.events(second)] == [1, 2]
    assert [e.sequence for e in repo.events(first, after=1)] == [2, 3]
