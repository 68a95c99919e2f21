"""The Tracker's batched write path: many writes, one transaction, every check still made.

``database_url`` is a real SQLite file and a real PostgreSQL database (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from vividly_ray.domain.errors import LeaseLost
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
from vividly_ray.persistence.repository import SqlRequestRepository

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=2)


@contextmanager
def statements(repo: SqlRequestRepository) -> Iterator[list[str]]:
    """The SQL statements the repository sends while the block runs."""
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(" ".join(statement.split()).upper())

    event.listen(repo.db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(repo.db.engine, "before_cursor_execute", record)


def progress_write(request_id: str, n: int, **kwargs: Any) -> tuple[str, tuple[Any, ...], dict]:
    return (
        "progress",
        (request_id, 0, f"event {n}"),
        {"details": {"n": n}, "event_type": "benchmark", **kwargs},
    )


def test_a_batch_reads_each_row_once_and_numbers_every_event(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    first = repo.create(REQUEST)[0].request_id
    second = repo.create(REQUEST)[0].request_id
    for request_id in (first, second):
        repo.transition(request_id, RequestStatus.VALIDATING)
    writes = [progress_write(first if n % 2 else second, n) for n in range(40)]
    with statements(repo) as sent:
        results = repo.apply_batch(writes)
    assert all(r.status is RequestStatus.VALIDATING for r in results)
    reads = [s for s in sent if s.startswith("SELECT") and "FROM CONTENT_REQUESTS" in s]
    assert len(reads) == 2  # one locking read per request, not one per write
    for request_id, expected in ((first, range(1, 40, 2)), (second, range(0, 40, 2))):
        events = repo.events(request_id)
        assert [e.sequence for e in events] == list(range(1, len(events) + 1))
        assert [e.details["n"] for e in events if e.event_type == "benchmark"] == list(expected)


def test_writes_in_one_batch_see_the_ones_before_them(database_url: str) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    request_id = repo.create(REQUEST)[0].request_id
    results = repo.apply_batch(
        [
            ("transition", (request_id, RequestStatus.VALIDATING), {"progress": 2}),
            ("progress", (request_id, 5, "checking"), {}),
            ("transition", (request_id, RequestStatus.RETRIEVING), {"progress": 8}),
            ("progress", (request_id, 3, "a late, lower report"), {}),
            # Skipping a stage is refused in place: the state machine saw RETRIEVING.
            ("transition", (request_id, RequestStatus.PROCESSING_VIDEO), {}),
            ("merge_metadata", (request_id, {"title": "The water cycle"}), {}),
        ]
    )
    assert results[2].status is RequestStatus.RETRIEVING
    assert type(results[4]).__name__ == "IllegalTransition"
    record = repo.get(request_id)
    assert record.status is RequestStatus.RETRIEVING
    assert record.progress_percentage == 8
    assert record.request_metadata["title"] == "The water cycle"
    messages = [e.message for e in repo.events(request_id)]
    assert "checking" in messages and "a late, lower report" not in messages


def test_a_stale_token_is_refused_inside_a_batch_and_the_holders_writes_commit(
    database_url: str,
) -> None:
    repo = SqlRequestRepository.from_url(database_url)
    queue = SqlDispatchQueue(repo.db, repo)
    request_id = repo.create(REQUEST)[0].request_id
    claim = queue.claim("worker-a", lease_s=30, max_attempts=3)
    assert claim is not None and claim.request_id == request_id
    stale = claim.token - 1
    results = repo.apply_batch(
        [
            ("transition", (request_id, RequestStatus.VALIDATING), {"token": claim.token}),
            progress_write(request_id, 1, token=stale),
            progress_write(request_id, 2, token=claim.token),
            ("merge_metadata", (request_id, {"late": True}), {"token": stale}),
        ]
    )
    assert isinstance(results[1], LeaseLost) and isinstance(results[3], LeaseLost)
    record = repo.get(request_id)
    assert record.status is RequestStatus.VALIDATING and "late" not in record.request_metadata
    numbers = [e.details.get("n") for e in repo.events(request_id) if e.event_type == "benchmark"]
    assert numbers == [2]


def test_a_returned_batch_is_committed_for_every_other_connection(database_url: str) -> None:
    writer = SqlRequestRepository.from_url(database_url)
    request_id = writer.create(REQUEST)[0].request_id
    writer.transition(request_id, RequestStatus.VALIDATING)
    writer.apply_batch([progress_write(request_id, n) for n in range(100)])
    # Another engine, as another process (the Gateway, a resumed Dispatcher) would read it.
    reader = SqlRequestRepository.from_url(database_url)
    assert len([e for e in reader.events(request_id) if e.event_type == "benchmark"]) == 100


@pytest.mark.parametrize("mode", ["journal_mode", "synchronous"])
def test_sqlite_runs_in_wal_with_normal_sync(tmp_path: Any, mode: str) -> None:
    repo = SqlRequestRepository.from_url(f"sqlite:///{tmp_path / 'v.db'}")
    with repo.db.engine.connect() as conn:
        value = conn.exec_driver_sql(f"PRAGMA {mode}").scalar()
    assert str(value).lower() == {"journal_mode": "wal", "synchronous": "1"}[mode]
