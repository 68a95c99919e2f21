"""Random sequences of operations on the real repository keep the state machine's promises."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_event
from hypothesis import strategies as st
from sqlalchemy import event

from vividly_ray.domain.errors import Conflict, IllegalTransition, InvalidRequest
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import ALLOWED_TRANSITIONS, RequestStatus
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.records import EventRecord, RequestRecord
from vividly_ray.persistence.repository import SqlRequestRepository

REQUEST = VideoRequest(
    question="Explain the water cycle", grade=Grade(5), minutes=1, organization_id="org"
)
MAX_ROUNDS = 3
STATUSES = list(RequestStatus)
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _no_fsync(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA synchronous=OFF")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlRequestRepository]:
    path: Path = tmp_path_factory.mktemp("state-machine") / "requests.db"
    db = Database.from_url(f"sqlite:///{path}")
    # Durability is not under test here; skipping fsync keeps the examples fast.
    event.listen(db.engine, "connect", _no_fsync)
    db.create_schema()
    try:
        yield SqlRequestRepository(db)
    finally:
        db.dispose()


@dataclass(frozen=True)
class Model:
    """What the repository should hold after the operations so far."""

    status: RequestStatus = RequestStatus.PENDING
    progress: int = 0
    events: int = 1
    answers: int = 0


def _transition(model: Model, target: RequestStatus, progress: int | None) -> Model | None:
    """The model after ``transition``; None when the repository must refuse it."""
    if target is model.status:
        return model
    if target not in ALLOWED_TRANSITIONS[model.status]:
        return None
    raised = model.progress if progress is None else max(model.progress, min(progress, 100))
    return replace(model, status=target, progress=raised, events=model.events + 1)


def _progress(model: Model, percentage: int) -> Model:
    if model.status.is_terminal or percentage <= model.progress:
        return model
    return replace(model, progress=min(percentage, 100), events=model.events + 1)


def _cancel(model: Model) -> Model | None:
    if model.status.is_terminal:
        return None
    return replace(model, status=RequestStatus.CANCELLED, events=model.events + 1)


def _answer(model: Model) -> Model | None:
    if model.status is not RequestStatus.CLARIFICATION_NEEDED or model.answers >= MAX_ROUNDS:
        return None
    return replace(
        model, status=RequestStatus.VALIDATING, events=model.events + 1, answers=model.answers + 1
    )


def _check(
    repo: SqlRequestRepository, request_id: str, model: Model
) -> tuple[RequestRecord, list[EventRecord]]:
    record = repo.get(request_id)
    assert record.status is model.status
    assert record.progress_percentage == model.progress
    events = repo.events(request_id)
    assert [e.sequence for e in events] == list(range(1, model.events + 1))
    assert events[-1].status is model.status
    assert len(record.request_metadata["clarifications"]) == model.answers
    return record, events


def _targets(status: RequestStatus) -> st.SearchStrategy[RequestStatus]:
    """Any status, but mostly the allowed ones, and among those mostly the non-ending ones."""
    allowed = sorted(ALLOWED_TRANSITIONS[status])
    onward = [s for s in allowed if not s.is_terminal]
    choices = [st.sampled_from(STATUSES)]
    if allowed:
        choices.append(st.sampled_from(allowed))
    if onward:
        choices += [st.sampled_from(onward)] * 3
    return st.one_of(choices)


def _operations(status: RequestStatus) -> list[str]:
    """Mostly transitions; answers mostly where one is expected; cancellations now and then."""
    if status is RequestStatus.CLARIFICATION_NEEDED:
        return ["answer"] * 4 + ["transition", "progress", "cancel"]
    return ["transition"] * 4 + ["progress"] * 2 + ["cancel", "answer"]


@PROPERTY_SETTINGS
@given(data=st.data())
def test_random_operations_follow_the_state_machine(
    repo: SqlRequestRepository, data: st.DataObject
) -> None:
    record, _ = repo.create(REQUEST)
    request_id = record.request_id
    model = Model()
    before, events_before = _check(repo, request_id, model)
    ended: RequestStatus | None = None
    for _ in range(data.draw(st.integers(1, 15), label="steps")):
        operation = data.draw(st.sampled_from(_operations(model.status)), label="operation")
        expected: Model | None
        try:
            if operation == "transition":
                target = data.draw(_targets(model.status), label="target")
                progress = data.draw(st.none() | st.integers(0, 100), label="with progress")
                expected = _transition(model, target, progress)
                details = {"questions": ["Which part?"]}
                repo.transition(request_id, target, progress=progress, details=details)
            elif operation == "progress":
                percentage = data.draw(st.integers(0, 100), label="percentage")
                expected = _progress(model, percentage)
                repo.progress(request_id, percentage, "step")
            elif operation == "cancel":
                expected = _cancel(model)
                repo.cancel(request_id, "org", "random cancel")
            else:
                expected = _answer(model)
                repo.answer(request_id, "the part about rain", max_rounds=MAX_ROUNDS)
        except (IllegalTransition, Conflict):
            assert expected is None, f"{operation} was refused from {model.status}"
            note_event(f"{operation} refused")
            assert repo.get(request_id) == before
            assert repo.events(request_id) == events_before
            continue
        assert expected is not None, f"{operation} was allowed from {model.status}"
        note_event(f"{operation} to {expected.status.value}")
        after, events_after = _check(repo, request_id, expected)
        assert after.progress_percentage >= before.progress_percentage
        assert events_after[: len(events_before)] == events_before
        if ended is not None:
            assert after.status is ended
        if after.status.is_terminal:
            ended = after.status
        model, before, events_before = expected, after, events_after


@PROPERTY_SETTINGS
@given(
    reports=st.lists(st.integers(-20, 250), min_size=1, max_size=15),
)
def test_progress_reports_never_lower_progress_or_record_a_non_rise(
    repo: SqlRequestRepository, reports: list[int]
) -> None:
    record, _ = repo.create(REQUEST)
    request_id = record.request_id
    repo.transition(request_id, RequestStatus.VALIDATING)
    for percentage in reports:
        before = repo.get(request_id).progress_percentage
        events_before = len(repo.events(request_id))
        repo.progress(request_id, percentage, "report")
        after = repo.get(request_id).progress_percentage
        events_after = len(repo.events(request_id))
        assert after == max(before, min(percentage, 100))
        assert 0 <= after <= 100
        assert events_after == events_before + (1 if after > before else 0)


@settings(PROPERTY_SETTINGS, max_examples=25)
@given(answer=st.one_of(st.text(max_size=20), st.text(min_size=495, max_size=510)))
def test_an_answer_outside_1_to_500_characters_is_refused_and_changes_nothing(
    repo: SqlRequestRepository, answer: str
) -> None:
    record, _ = repo.create(REQUEST)
    request_id = record.request_id
    repo.transition(request_id, RequestStatus.VALIDATING)
    repo.transition(request_id, RequestStatus.CLARIFICATION_NEEDED)
    before, events_before = repo.get(request_id), repo.events(request_id)
    if 1 <= len(answer.strip()) <= 500:
        assert repo.answer(request_id, answer).status is RequestStatus.VALIDATING
        assert repo.get(request_id).request_metadata["clarifications"] == [answer.strip()]
        return
    with pytest.raises(InvalidRequest):
        repo.answer(request_id, answer)
    assert repo.get(request_id) == before
    assert repo.events(request_id) == events_before
