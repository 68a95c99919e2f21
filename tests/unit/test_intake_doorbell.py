"""Intake rings its doorbell once a new request is committed, and only then.

The ring tells the dispatchers a request is waiting; it is a hint, so a doorbell that fails
never costs the caller its request (the dispatchers' poll finds it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.doorbell import DispatcherDoorbell
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.service.intake import Intake, IntakePolicy

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=2)
POLICY = IntakePolicy(max_queue_depth=100, allow_private_callbacks=False)


class Bell:
    def __init__(self, broken: bool = False) -> None:
        self.rings: list[RequestStatus] = []
        self.broken = broken
        self.repo: SqlRequestRepository | None = None
        self.request_id = ""

    def __call__(self) -> None:
        # What a dispatcher woken by the ring would see: the row is already committed.
        assert self.repo is not None
        self.rings.append(self.repo.get(self.request_id).status)
        if self.broken:
            raise ConnectionError("no dispatcher answered")


@pytest.fixture
def repo(tmp_path: Path) -> SqlRequestRepository:
    return SqlRequestRepository.from_url(f"sqlite:///{tmp_path / 'vividly.db'}")


def test_a_new_request_rings_once_after_its_row_is_committed(repo: SqlRequestRepository) -> None:
    bell = Bell()
    bell.repo, bell.request_id = repo, "req-1"

    record, created = Intake(repo, POLICY, bell).record(REQUEST, request_id="req-1")

    assert created and record.status is RequestStatus.PENDING
    assert bell.rings == [RequestStatus.PENDING]


def test_a_replayed_request_does_not_ring_again(repo: SqlRequestRepository) -> None:
    bell = Bell()
    bell.repo, bell.request_id = repo, "req-1"
    intake = Intake(repo, POLICY, bell)
    intake.record(REQUEST, idempotency_key="k", fingerprint="f", request_id="req-1")

    again, created = intake.record(REQUEST, idempotency_key="k", fingerprint="f")

    assert not created and again.request_id == "req-1"
    assert len(bell.rings) == 1


def test_a_failing_doorbell_still_records_the_request(repo: SqlRequestRepository) -> None:
    bell = Bell(broken=True)
    bell.repo, bell.request_id = repo, "req-1"

    record, created = Intake(repo, POLICY, bell).record(REQUEST, request_id="req-1")

    assert created and repo.get("req-1").status is RequestStatus.PENDING
    assert record.request_id == "req-1" and bell.rings == [RequestStatus.PENDING]


def test_an_intake_without_a_doorbell_records_as_before(repo: SqlRequestRepository) -> None:
    intake = Intake(repo, POLICY)
    record, created = intake.record(REQUEST)
    intake.ring()  # nothing to ring: a no-op
    assert created and repo.get(record.request_id).status is RequestStatus.PENDING


def test_the_dispatcher_doorbell_outside_ray_starts_nothing() -> None:
    import ray

    assert not ray.is_initialized()
    doorbell = DispatcherDoorbell("vividly")
    doorbell.prime()
    doorbell()
    assert not ray.is_initialized()
