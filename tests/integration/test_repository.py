"""The request repository against real SQLite and real PostgreSQL."""

from __future__ import annotations

import pytest

from vividly_ray.domain.errors import IllegalTransition, RequestNotFound
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus
from vividly_ray.persistence.repository import SqlRequestRepository

pytestmark = pytest.mark.integration

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=2)


def test_a_request_walks_the_whole_pipeline_and_keeps_its_history(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST, {"source": "test"})
    for percent, status in zip((2, 8, 15, 25, 85, 95, 100), PIPELINE[1:], strict=True):
        repo.transition(request_id, status, progress=percent)
    record = repo.get(request_id)
    assert record.status is RequestStatus.COMPLETED
    assert record.progress_percentage == 100
    assert record.grade_level == "5" and record.student_query == REQUEST.question
    assert record.request_metadata == {"source": "test"}
    statuses = [e.status for e in repo.events(request_id) if e.event_type == "status"]
    assert statuses == list(PIPELINE)


def test_illegal_transition_is_refused_and_changes_nothing(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)
    with pytest.raises(IllegalTransition):
        repo.transition(request_id, RequestStatus.GENERATING_VIDEO)
    assert repo.get(request_id).status is RequestStatus.PENDING
    assert len(repo.events(request_id)) == 1


def test_progress_never_goes_backwards(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)
    repo.transition(request_id, RequestStatus.VALIDATING, progress=2)
    repo.progress(request_id, 40, "half")
    repo.progress(request_id, 10, "stale report")
    repo.transition(request_id, RequestStatus.RETRIEVING, progress=8)
    assert repo.get(request_id).progress_percentage == 40
    progress_events = [e for e in repo.events(request_id) if e.event_type == "progress"]
    assert [e.progress_percentage for e in progress_events] == [40]


def test_repeating_the_current_status_is_idempotent(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)
    repo.transition(request_id, RequestStatus.VALIDATING)
    repo.transition(request_id, RequestStatus.VALIDATING)
    assert len(repo.events(request_id)) == 2


def test_failure_keeps_the_error_message(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)
    repo.transition(request_id, RequestStatus.VALIDATING)
    repo.transition(request_id, RequestStatus.FAILED, error="validating: boom")
    record = repo.get(request_id)
    assert record.status is RequestStatus.FAILED and record.error_message == "validating: boom"


def test_unknown_request_is_reported(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    with pytest.raises(RequestNotFound):
        repo.get("00000000-0000-0000-0000-000000000000")
