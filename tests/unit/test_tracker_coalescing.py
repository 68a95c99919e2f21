"""The dispatcher's tracker client batches progress and metadata, and keeps every guarantee.

The writes land in a real database (SQLite file and PostgreSQL, tests/conftest.py) through the
repository's batch path, the one the Tracker deployment runs.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest

from vividly_ray.domain.errors import IllegalTransition, LeaseLost
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.service.coalescing import CoalescingWriter, Write

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=2)
NEVER_S = 3600.0  # a flush interval no test reaches: only explicit sends happen


class RecordingSender:
    """Applies each batch with the repository and remembers what every batch held."""

    def __init__(self, repo: SqlRequestRepository) -> None:
        self.repo = repo
        self.batches: list[list[Write]] = []
        self.broken: Exception | None = None
        self.sent = threading.Event()

    def __call__(self, writes: Sequence[Write]) -> list[Any]:
        self.batches.append(list(writes))
        self.sent.set()
        if self.broken is not None:
            raise self.broken
        return self.repo.apply_batch(writes)


def scene_events(repo: SqlRequestRepository, request_id: str) -> list[int]:
    return [e.details["n"] for e in repo.events(request_id) if e.event_type == "scene"]


@pytest.fixture
def repo(database_url: str) -> SqlRequestRepository:
    return SqlRequestRepository.from_url(database_url)


def started(repo: SqlRequestRepository) -> str:
    request_id = repo.create(REQUEST)[0].request_id
    repo.transition(request_id, RequestStatus.VALIDATING)
    return request_id


def test_queued_events_go_out_with_the_next_transition_in_one_batch_and_in_order(
    repo: SqlRequestRepository,
) -> None:
    request_id = started(repo)
    sender = RecordingSender(repo)
    writer = CoalescingWriter(sender, flush_s=NEVER_S)
    for n in range(5):
        assert (
            writer.progress(request_id, 2 + n, f"step {n}", details={"n": n}, event_type="scene")
            is None
        )
    writer.merge_metadata(request_id, {"title": "The water cycle"})
    assert scene_events(repo, request_id) == []  # queued, not sent
    answer = writer.transition(request_id, RequestStatus.RETRIEVING, progress=8)
    assert getattr(answer, "status", answer) is RequestStatus.RETRIEVING
    assert len(sender.batches) == 1 and [w[0] for w in sender.batches[0]] == [
        *["progress"] * 5,
        "merge_metadata",
        "transition",
    ]
    assert scene_events(repo, request_id) == [0, 1, 2, 3, 4]
    record = repo.get(request_id)
    assert record.request_metadata["title"] == "The water cycle"
    events = repo.events(request_id)
    assert events[-1].event_type == "status" and events[-1].status is RequestStatus.RETRIEVING
    writer.close()


def test_a_refused_transition_raises_to_its_caller(repo: SqlRequestRepository) -> None:
    request_id = started(repo)
    writer = CoalescingWriter(RecordingSender(repo), flush_s=NEVER_S)
    with pytest.raises(IllegalTransition):
        writer.transition(request_id, RequestStatus.PROCESSING_VIDEO)
    assert repo.get(request_id).status is RequestStatus.VALIDATING
    writer.close()


def test_a_stale_tokens_queued_event_is_raised_at_that_requests_next_write(
    repo: SqlRequestRepository,
) -> None:
    queue = SqlDispatchQueue(repo.db, repo)
    fenced = repo.create(REQUEST)[0].request_id
    claim = queue.claim("worker-a", lease_s=30, max_attempts=3)
    assert claim is not None and claim.request_id == fenced
    other = started(repo)
    writer = CoalescingWriter(RecordingSender(repo), flush_s=NEVER_S)
    writer.transition(fenced, RequestStatus.VALIDATING, token=claim.token)
    writer.progress(fenced, 3, "late", token=claim.token - 1, details={"n": 1}, event_type="scene")
    writer.progress(other, 3, "fine", details={"n": 2}, event_type="scene")
    writer.flush()
    assert scene_events(repo, other) == [2]
    assert scene_events(repo, fenced) == []
    with pytest.raises(LeaseLost):
        writer.progress(fenced, 4, "next", token=claim.token)
    # Raised once: the holder's next writes go through.
    writer.progress(fenced, 5, "again", token=claim.token, details={"n": 3}, event_type="scene")
    writer.flush()
    assert scene_events(repo, fenced) == [3]
    writer.close()


def test_a_batch_that_cannot_be_sent_fails_its_requests_next_writes(
    repo: SqlRequestRepository,
) -> None:
    request_id = started(repo)
    sender = RecordingSender(repo)
    writer = CoalescingWriter(sender, flush_s=NEVER_S)
    writer.progress(request_id, 3, "queued")
    sender.broken = ConnectionError("the tracker is away")
    writer.flush()
    with pytest.raises(ConnectionError, match="away"):
        writer.progress(request_id, 4, "next")
    with pytest.raises(ConnectionError, match="away"):
        writer.transition(request_id, RequestStatus.RETRIEVING)
    sender.broken = None
    writer.transition(request_id, RequestStatus.RETRIEVING)  # raised once each, then through
    assert repo.get(request_id).status is RequestStatus.RETRIEVING
    writer.close()


def test_a_full_queue_is_sent_without_waiting_for_the_interval(
    repo: SqlRequestRepository,
) -> None:
    request_id = started(repo)
    sender = RecordingSender(repo)
    writer = CoalescingWriter(sender, flush_s=NEVER_S, max_pending=4)
    for n in range(4):
        writer.progress(request_id, 2, "scene", details={"n": n}, event_type="scene")
    assert sender.sent.wait(30), "a full queue was not sent"
    writer.close()
    assert sender.batches[0] == [
        ("progress", (request_id, 2, "scene"), {"details": {"n": n}, "event_type": "scene"})
        for n in range(4)
    ]
    assert scene_events(repo, request_id) == [0, 1, 2, 3]


def test_the_flushing_thread_sends_queued_events(repo: SqlRequestRepository) -> None:
    request_id = started(repo)
    sender = RecordingSender(repo)
    writer = CoalescingWriter(sender, flush_s=0.05)
    writer.progress(request_id, 2, "scene", details={"n": 7}, event_type="scene")
    assert sender.sent.wait(30), "the queued event was never sent"
    writer.close()
    assert scene_events(repo, request_id) == [7]


def test_many_pipelines_at_once_lose_nothing_and_keep_each_ones_order(
    repo: SqlRequestRepository,
) -> None:
    ids = [started(repo) for _ in range(4)]
    sender = RecordingSender(repo)
    writer = CoalescingWriter(sender, flush_s=0.01, max_pending=16)

    def pipeline(request_id: str) -> None:
        for n in range(50):
            writer.progress(request_id, 2, "scene", details={"n": n}, event_type="scene")
            if n == 25:
                writer.transition(request_id, RequestStatus.RETRIEVING)

    threads = [threading.Thread(target=pipeline, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    writer.close()
    for request_id in ids:
        assert scene_events(repo, request_id) == list(range(50))
        order = [
            "retrieving" if e.event_type == "status" else e.details["n"]
            for e in repo.events(request_id)
            if e.event_type == "scene" or e.status is RequestStatus.RETRIEVING
        ]
        assert order.index("retrieving") == 26  # after events 0..25, before 26
    assert len(sender.batches) < 4 * 50  # coalesced


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="flush_s"):
        CoalescingWriter(lambda writes: [], flush_s=0)
