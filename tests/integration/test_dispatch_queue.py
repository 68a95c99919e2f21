"""The dispatch queue against real SQLite and real PostgreSQL: leases, fencing, retries."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event

from vividly_ray.domain.errors import LeaseLost
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import Claim, SqlDispatchQueue
from vividly_ray.persistence.repository import SqlRequestRepository

pytestmark = pytest.mark.integration

REQUEST = VideoRequest(
    question="Explain the water cycle", grade=Grade(5), minutes=1, organization_id="org"
)
LONG_LEASE_S = 30.0
SHORT_LEASE_S = 0.2


@dataclass
class Stack:
    db: Database
    repo: SqlRequestRepository
    queue: SqlDispatchQueue

    def new_request(self) -> str:
        record, created = self.repo.create(REQUEST)
        assert created
        return record.request_id


def _stack(url: str) -> Iterator[Stack]:
    db = Database.from_url(url)
    db.create_schema()
    repo = SqlRequestRepository(db)
    try:
        yield Stack(db, repo, SqlDispatchQueue(db, repo))
    finally:
        db.dispose()


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    yield from _stack(database_url)


@pytest.fixture
def pg_stack(postgres_url: str) -> Iterator[Stack]:
    yield from _stack(postgres_url)


def _claim(stack: Stack, owner: str, lease_s: float = LONG_LEASE_S, attempts: int = 5) -> Claim:
    claim = stack.queue.claim(owner, lease_s, attempts)
    assert claim is not None, f"{owner} found nothing to claim"
    return claim


def _wait_out(lease_s: float) -> None:
    time.sleep(lease_s + 0.15)


def _walk_to(stack: Stack, request_id: str, status: RequestStatus, token: int | None) -> None:
    for step in PIPELINE[1 : PIPELINE.index(status) + 1]:
        stack.repo.transition(request_id, step, token=token)


def test_claim_takes_the_oldest_pending_request_and_fences_it(stack: Stack) -> None:
    first, second, third = (stack.new_request() for _ in range(3))

    claim = _claim(stack, "worker-a")

    assert claim.request_id == first
    assert claim.token == 1 and claim.attempt == 1
    assert claim.record.lease_token == 1 and claim.record.attempts == 1
    assert claim.record.lease_owner == "worker-a"
    stored = stack.repo.get(first)
    assert (stored.lease_token, stored.attempts, stored.lease_owner) == (1, 1, "worker-a")
    untouched = [stack.repo.get(other) for other in (second, third)]
    assert [(r.lease_token, r.attempts, r.lease_owner) for r in untouched] == [(0, 0, None)] * 2


def test_a_held_request_is_not_claimed_again(stack: Stack) -> None:
    only = stack.new_request()
    _claim(stack, "worker-a")

    assert stack.queue.claim("worker-b", LONG_LEASE_S, 5) is None
    assert stack.queue.active_leases() == 1
    assert stack.repo.get(only).lease_owner == "worker-a"


def test_the_next_claim_skips_a_held_request(stack: Stack) -> None:
    first, second = stack.new_request(), stack.new_request()

    claims = [_claim(stack, "worker-a"), _claim(stack, "worker-b")]

    assert [c.request_id for c in claims] == [first, second]
    assert stack.queue.claim("worker-c", LONG_LEASE_S, 5) is None


def test_an_expired_lease_is_claimed_by_another_owner_with_a_higher_token(stack: Stack) -> None:
    request_id = stack.new_request()
    old = _claim(stack, "worker-a", SHORT_LEASE_S)
    _wait_out(SHORT_LEASE_S)

    new = _claim(stack, "worker-b")

    assert new.request_id == request_id
    assert new.token > old.token
    assert new.attempt == old.attempt + 1
    assert stack.repo.get(request_id).lease_owner == "worker-b"


def test_writes_under_a_lost_lease_are_refused_and_change_nothing(stack: Stack) -> None:
    request_id = stack.new_request()
    old = _claim(stack, "worker-a", SHORT_LEASE_S)
    stack.repo.transition(request_id, RequestStatus.VALIDATING, progress=2, token=old.token)
    _wait_out(SHORT_LEASE_S)
    new = _claim(stack, "worker-b")
    before = stack.repo.get(request_id)
    events_before = stack.repo.events(request_id)

    with pytest.raises(LeaseLost):
        stack.repo.transition(request_id, RequestStatus.RETRIEVING, progress=8, token=old.token)
    with pytest.raises(LeaseLost):
        stack.repo.progress(request_id, 6, "late report", token=old.token)
    with pytest.raises(LeaseLost):
        stack.repo.transition(
            request_id, RequestStatus.FAILED, message="late failure", token=old.token
        )

    after = stack.repo.get(request_id)
    assert after.status is RequestStatus.VALIDATING
    assert after.progress_percentage == before.progress_percentage == 2
    assert after.error is None
    assert stack.repo.events(request_id) == events_before
    stack.repo.transition(request_id, RequestStatus.RETRIEVING, progress=8, token=new.token)
    assert stack.repo.get(request_id).status is RequestStatus.RETRIEVING


def test_renewing_with_a_stale_token_raises_lease_lost(stack: Stack) -> None:
    request_id = stack.new_request()
    old = _claim(stack, "worker-a", SHORT_LEASE_S)
    _wait_out(SHORT_LEASE_S)
    new = _claim(stack, "worker-b", SHORT_LEASE_S)

    with pytest.raises(LeaseLost):
        stack.queue.renew(request_id, old.token, LONG_LEASE_S)
    assert stack.queue.renew(request_id, new.token, LONG_LEASE_S) is RequestStatus.PENDING
    _wait_out(SHORT_LEASE_S)
    assert stack.queue.claim("worker-c", LONG_LEASE_S, 5) is None


def test_renewing_reports_a_cancellation(stack: Stack) -> None:
    request_id = stack.new_request()
    claim = _claim(stack, "worker-a")
    stack.repo.transition(request_id, RequestStatus.VALIDATING, token=claim.token)

    stack.repo.cancel(request_id, "org", "student changed their mind")

    assert stack.queue.renew(request_id, claim.token, LONG_LEASE_S) is RequestStatus.CANCELLED
    assert stack.repo.get(request_id).lease_owner is None


def test_retry_later_hides_the_request_until_its_delay_has_passed(stack: Stack) -> None:
    request_id = stack.new_request()
    first = _claim(stack, "worker-a")
    stack.repo.transition(request_id, RequestStatus.VALIDATING, progress=2, token=first.token)
    delay_s = 0.4

    stack.queue.retry_later(request_id, first.token, delay_s, "narrator busy")

    assert stack.queue.claim("worker-b", LONG_LEASE_S, 5) is None
    record = stack.repo.get(request_id)
    assert record.lease_owner is None and record.status is RequestStatus.VALIDATING
    retry_events = [e for e in stack.repo.events(request_id) if e.event_type == "retry"]
    assert len(retry_events) == 1
    assert retry_events[0].details["reason"] == "narrator busy"
    assert retry_events[0].progress_percentage == 2
    time.sleep(delay_s + 0.15)

    again = _claim(stack, "worker-b")
    assert again.request_id == request_id
    assert again.token > first.token and again.attempt == 2
    assert again.record.status is RequestStatus.VALIDATING


def test_a_request_claimed_too_often_is_failed_instead_of_claimed(stack: Stack) -> None:
    request_id = stack.new_request()
    max_attempts = 2
    for _ in range(max_attempts):
        _claim(stack, "crashing-worker", SHORT_LEASE_S, max_attempts)
        _wait_out(SHORT_LEASE_S)

    assert stack.queue.claim("worker-b", LONG_LEASE_S, max_attempts) is None

    record = stack.repo.get(request_id)
    assert record.status is RequestStatus.FAILED
    assert record.error is not None and record.error.code == "attempts_exhausted"
    assert record.error.stage == RequestStatus.PENDING.value
    assert record.lease_owner is None
    failed = [e for e in stack.repo.events(request_id) if e.status is RequestStatus.FAILED]
    assert len(failed) == 1


def test_an_exhausted_request_does_not_block_the_next_one(stack: Stack) -> None:
    stuck = stack.new_request()
    _claim(stack, "crashing-worker", SHORT_LEASE_S, 1)
    fresh = stack.new_request()
    _wait_out(SHORT_LEASE_S)

    claim = _claim(stack, "worker-b", LONG_LEASE_S, 1)

    assert claim.request_id == fresh
    assert stack.repo.get(stuck).status is RequestStatus.FAILED


def test_waiting_and_ended_requests_are_never_claimed(stack: Stack) -> None:
    waiting, completed, failed, cancelled = (stack.new_request() for _ in range(4))
    stack.repo.transition(waiting, RequestStatus.VALIDATING)
    stack.repo.transition(
        waiting, RequestStatus.CLARIFICATION_NEEDED, details={"questions": ["Which part?"]}
    )
    _walk_to(stack, completed, RequestStatus.COMPLETED, None)
    stack.repo.transition(failed, RequestStatus.FAILED, message="refused")
    stack.repo.cancel(cancelled)

    assert stack.queue.claim("worker-a", LONG_LEASE_S, 5) is None
    tokens = [stack.repo.get(r).lease_token for r in (waiting, completed, failed, cancelled)]
    assert tokens == [0, 0, 0, 0]

    stack.repo.answer(waiting, "the part about rain")
    claim = _claim(stack, "worker-a")
    assert claim.request_id == waiting
    assert claim.record.status is RequestStatus.VALIDATING


def _claim_concurrently(
    stack: Stack, claimants: int, claim: Callable[[str], Claim | None] | None = None
) -> list[Claim | None]:
    take = claim or (lambda owner: stack.queue.claim(owner, LONG_LEASE_S, 5))
    barrier = threading.Barrier(claimants)
    results: list[Claim | None] = [None] * claimants
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = take(f"worker-{index}")
        except BaseException as exc:  # reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(claimants)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_concurrent_claimers_on_postgres_each_get_a_different_request(pg_stack: Stack) -> None:
    requests = {pg_stack.new_request() for _ in range(8)}

    claims = _claim_concurrently(pg_stack, 8)

    claimed = [c.request_id for c in claims if c is not None]
    assert len(claimed) == 8, claims
    assert set(claimed) == requests
    assert {c.token for c in claims if c is not None} == {1}


def test_concurrent_claimers_never_share_a_request(stack: Stack) -> None:
    requests = {stack.new_request() for _ in range(8)}

    claims = _claim_concurrently(stack, 12)

    claimed = [c.request_id for c in claims if c is not None]
    assert sorted(claimed) == sorted(requests)
    owners = {c.request_id: f"worker-{i}" for i, c in enumerate(claims) if c is not None}
    for request_id, owner in owners.items():
        record = stack.repo.get(request_id)
        assert (record.lease_owner, record.lease_token, record.attempts) == (owner, 1, 1)


def test_a_fenced_write_racing_a_new_claim_never_lands_after_it(stack: Stack) -> None:
    """The old holder reads the row while its token is current; a new claim commits before the
    old holder's write does. That write must then be refused, or the claim must wait for it."""
    request_id = stack.new_request()
    old = _claim(stack, "worker-a", SHORT_LEASE_S)
    stack.repo.transition(request_id, RequestStatus.VALIDATING, token=old.token)
    _wait_out(SHORT_LEASE_S)
    read_done, resume = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def pause_old_holder_before_its_update(
        _conn: Any, _cursor: Any, statement: str, *_args: Any
    ) -> None:
        if threading.current_thread() is old_writer and statement.lstrip().upper().startswith(
            "UPDATE CONTENT_REQUESTS"
        ):
            read_done.set()
            resume.wait(5)

    def write_as_old_holder() -> None:
        try:
            stack.repo.transition(request_id, RequestStatus.RETRIEVING, token=old.token)
            outcome["old_write"] = "committed"
        except LeaseLost:
            outcome["old_write"] = "refused"

    def claim_as_new_holder() -> None:
        outcome["new_claim"] = stack.queue.claim("worker-b", LONG_LEASE_S, 5)

    event.listen(stack.db.engine, "before_cursor_execute", pause_old_holder_before_its_update)
    old_writer = threading.Thread(target=write_as_old_holder)
    new_claimer = threading.Thread(target=claim_as_new_holder)
    try:
        old_writer.start()
        assert read_done.wait(5), "the old holder never reached its update"
        new_claimer.start()
        new_claimer.join(timeout=1.0)
        claimed_while_old_write_pending = (
            not new_claimer.is_alive() and outcome.get("new_claim") is not None
        )
    finally:
        resume.set()
        old_writer.join(timeout=30)
        new_claimer.join(timeout=30)
        event.remove(stack.db.engine, "before_cursor_execute", pause_old_holder_before_its_update)

    if claimed_while_old_write_pending:
        assert outcome["old_write"] == "refused"
        assert stack.repo.get(request_id).status is RequestStatus.VALIDATING
    else:
        assert outcome["old_write"] == "committed"
    assert stack.repo.get(request_id).lease_owner == (
        "worker-b" if outcome.get("new_claim") is not None else "worker-a"
    )
