"""Scenario 3, lease expiry: a holder that stalls past its lease loses the request to another
dispatcher, and every write it makes afterwards is refused by the fencing token.

Each run records a request, lets a first holder work up to a random point and stall there, has
two dispatchers race for the expired lease, lets the winner resume from the recorded stage (and
sometimes stall or retry in its turn) while the stale holders keep writing, and ends the request
one of the ways a real one ends: completed, failed, or cancelled by the caller. The whole event
history is checked afterwards: numbered without gaps, each stage entered once, one terminal
transition, progress never falling, and no write from a holder after it lost the request.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.reliability.ledger import Ledger
from vividly_ray.domain.errors import Conflict, LeaseLost
from vividly_ray.domain.models import ErrorInfo, Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, STAGE_START_PROGRESS, RequestStatus, band_progress
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import Claim, SqlDispatchQueue
from vividly_ray.persistence.records import EventRecord
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.service.dispatch import FencedTracker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FULL = os.environ.get("VIVIDLY_RELIABILITY") == "full"
RUNS = 120 if FULL else 30
# Claims take a long lease, so no holder loses one by being slow on a busy machine; a holder
# that is about to stall renews for a short one (its last heartbeat), then freezes past it.
CLAIM_LEASE_S = 30.0
LAST_LEASE_S = 0.03
STALL_S = LAST_LEASE_S + 0.03
MAX_ATTEMPTS = 10
ORG = "org-fencing"
REQUEST = VideoRequest(
    question="Explain the water cycle", grade=Grade(5), minutes=1, organization_id=ORG
)
STAGES = PIPELINE[1:-1]  # validating .. notifying; completed is the ending
REFUSED = (LeaseLost, Conflict)


@dataclass
class Stack:
    db: Database
    repo: SqlRequestRepository
    queue: SqlDispatchQueue


@pytest.fixture
def stack(database_url: str) -> Iterator[Stack]:
    db = Database.from_url(database_url)
    db.create_schema()
    repo = SqlRequestRepository(db)
    try:
        yield Stack(db, repo, SqlDispatchQueue(db, repo))
    finally:
        db.dispose()


@dataclass
class Holder:
    """One dispatcher's claim, writing the way a pipeline does (through ``FencedTracker``)."""

    name: str
    claim: Claim
    stack: Stack

    @property
    def tracker(self) -> FencedTracker:
        return FencedTracker(self.stack.repo, self.claim.token)

    @property
    def request_id(self) -> str:
        return self.claim.request_id


@dataclass
class Run:
    """What one run did and saw; ``problems`` are invariant violations."""

    number: int
    rng: random.Random
    holders: list[Holder] = field(default_factory=list)
    stale: list[Holder] = field(default_factory=list)
    late_refused: int = 0
    late_accepted: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ending: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(f"run {self.number}: {text}")


def _claim_race(stack: Stack, run: Run, names: tuple[str, str]) -> Holder:
    """Two dispatchers claim at once; exactly one may win. Both polling again when neither did
    is normal: on PostgreSQL a claim skips a row that a (refused) write has locked just then."""
    for _ in range(50):
        start = threading.Barrier(2)
        claims: dict[str, Claim | None] = {}

        def take(name: str, barrier: threading.Barrier, into: dict[str, Claim | None]) -> None:
            barrier.wait(timeout=30)
            into[name] = stack.queue.claim(name, CLAIM_LEASE_S, MAX_ATTEMPTS)

        threads = [threading.Thread(target=take, args=(n, start, claims)) for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        won = [(name, claim) for name, claim in claims.items() if claim is not None]
        if len(won) > 1:
            run.problem(f"{len(won)} dispatchers won one expired lease: {claims}")
        if won:
            name, claim = won[0]
            return Holder(name, claim, stack)
        time.sleep(0.01)
    raise AssertionError(f"run {run.number}: nobody could claim the expired lease")


def _work(holder: Holder, run: Run, until: int, ending: str | None) -> str:
    """Advance from the recorded stage through ``STAGES[:until]``, as a pipeline would: stages
    already recorded are not recorded again. Then end the request with ``ending``, or stall.

    Returns how it stopped: "stalled", "completed", "failed", "cancelled", "retry".
    """
    rng = run.rng
    recorded = holder.claim.record.status
    start = PIPELINE.index(recorded)
    tracker = holder.tracker
    for stage in STAGES[:until]:
        if PIPELINE.index(stage) > start:
            tracker.transition(
                holder.request_id,
                stage,
                message=f"{holder.name}: {stage.value}",
                progress=STAGE_START_PROGRESS[stage],
            )
        for _ in range(rng.randint(0, 2)):
            fraction = rng.random()
            if stage is RequestStatus.GENERATING_VIDEO:
                tracker.progress(
                    holder.request_id,
                    band_progress(stage, fraction),
                    f"{holder.name}: scene",
                    details={"scenes_done": 1, "scenes_total": 3, "blobs": []},
                )
            else:
                tracker.progress(
                    holder.request_id, band_progress(stage, fraction), f"{holder.name}: progress"
                )
        if rng.random() < 0.3:
            tracker.annotate(holder.request_id, {f"by_{holder.name}_{stage.value}": True})
    if ending is None:
        return "stalled"
    if ending == "completed":
        tracker.annotate(holder.request_id, {"files": {}, "title": f"by {holder.name}"})
        tracker.transition(
            holder.request_id,
            RequestStatus.COMPLETED,
            message=f"{holder.name}: completed",
            progress=100,
        )
    elif ending == "failed":
        stage = holder.stack.repo.get(holder.request_id).status
        tracker.transition(
            holder.request_id,
            RequestStatus.FAILED,
            message=f"{holder.name}: failed",
            error=ErrorInfo(stage.value, "stage_failed", "the stage failed"),
        )
    elif ending == "cancelled":
        holder.stack.repo.cancel(holder.request_id, ORG, "caller: cancelled")
        # The holder keeps going until its next write tells it to stop.
        try:
            tracker.progress(holder.request_id, 99, f"{holder.name}: after cancel")
            tracker.transition(
                holder.request_id, RequestStatus.COMPLETED, message=f"{holder.name}: completed"
            )
            run.problem("a write after the cancellation was accepted")
        except Conflict:
            pass
    elif ending == "retry":
        holder.stack.queue.retry_later(
            holder.request_id, holder.claim.token, 0.0, "narrator busy (retryable)"
        )
    return ending


def _late_writes(stale: Holder, run: Run) -> None:
    """Everything a stale holder might still send; each must be refused and change nothing."""
    rng = random.Random(run.rng.random())
    repo, queue = stale.stack.repo, stale.stack.queue
    request_id = stale.request_id
    tracker = stale.tracker
    stage = rng.choice(STAGES)
    writes: list[tuple[str, Callable[[], Any]]] = [
        (
            "transition",
            lambda: tracker.transition(
                request_id, stage, message=f"{stale.name}: LATE {stage.value}", progress=50
            ),
        ),
        (
            "complete",
            lambda: tracker.transition(
                request_id, RequestStatus.COMPLETED, message=f"{stale.name}: LATE", progress=100
            ),
        ),
        (
            "fail",
            lambda: tracker.transition(
                request_id,
                RequestStatus.FAILED,
                message=f"{stale.name}: LATE failure",
                error=ErrorInfo(stage.value, "stage_failed", "late"),
            ),
        ),
        ("progress", lambda: tracker.progress(request_id, 97, f"{stale.name}: LATE progress")),
        (
            "scene",
            lambda: tracker.progress(
                request_id, 60, f"{stale.name}: LATE scene", details={"scenes_done": 9}
            ),
        ),
        ("metadata", lambda: tracker.annotate(request_id, {"LATE": stale.name})),
        ("retry_later", lambda: queue.retry_later(request_id, stale.claim.token, 0.0, "LATE")),
    ]
    rng.shuffle(writes)
    for name, write in writes[: rng.randint(2, len(writes))]:
        try:
            write()
        except REFUSED:
            with run.lock:
                run.late_refused += 1
            continue
        with run.lock:
            run.late_accepted.append(f"{stale.name} {name}")
        run.problem(f"a late {name} by {stale.name} was accepted")
    # A batch (the Tracker deployment's path): each write refused in place, nothing committed.
    results = repo.apply_batch(
        [
            ("transition", (request_id, stage), {"token": stale.claim.token, "message": "LATE"}),
            ("progress", (request_id, 98, "LATE batch"), {"token": stale.claim.token}),
            ("merge_metadata", (request_id, {"LATE": "batch"}), {"token": stale.claim.token}),
        ]
    )
    for result in results:
        if isinstance(result, REFUSED):
            with run.lock:
                run.late_refused += 1
        else:
            run.problem(f"a late batched write by {stale.name} was accepted: {result!r}")
    # Renewing fails, or reports the ending (the holder must stop either way).
    try:
        status = queue.renew(request_id, stale.claim.token, 30.0)
        if not status.is_terminal:
            run.problem(f"{stale.name} renewed a lease it lost")
    except LeaseLost:
        with run.lock:
            run.late_refused += 1


def _check_history(stack: Stack, run: Run, request_id: str) -> None:
    record = stack.repo.get(request_id)
    events = stack.repo.events(request_id)
    if [e.sequence for e in events] != list(range(1, len(events) + 1)):
        run.problem(f"event numbers have gaps: {[e.sequence for e in events]}")
    statuses = [e.status for e in events if e.event_type == "status"]
    entered = Counter(statuses)
    repeated = [s.value for s, n in entered.items() if n > 1]
    if repeated:
        run.problem(f"stages entered more than once: {repeated}")
    order = [PIPELINE.index(s) for s in statuses if s in PIPELINE]
    if order != sorted(order):
        run.problem(f"stages out of order: {[s.value for s in statuses]}")
    terminal = [e for e in events if e.event_type == "status" and e.status.is_terminal]
    if len(terminal) != 1:
        run.problem(f"{len(terminal)} terminal transitions")
    if terminal and events[-1].sequence != terminal[-1].sequence:
        run.problem("events were recorded after the terminal transition")
    if not record.status.is_terminal or (terminal and record.status is not terminal[0].status):
        run.problem(f"the request ended {record.status.value}, its history says otherwise")
    progress = [e.progress_percentage for e in events]
    if progress != sorted(progress):
        run.problem(f"progress fell: {progress}")
    if record.status is RequestStatus.COMPLETED and record.progress_percentage != 100:
        run.problem(f"completed at {record.progress_percentage}%")
    if any("LATE" in e.message for e in events) or "LATE" in record.request_metadata:
        run.problem("a late write of a stale holder is in the history")
    if record.lease_owner is not None:
        run.problem(f"an ended request is still leased to {record.lease_owner}")
    _check_writers(run, events)


def _check_writers(run: Run, events: list[EventRecord]) -> None:
    """Holders wrote in the order they held the request: once a later holder wrote, no earlier
    one did again."""
    rank = {holder.name: index for index, holder in enumerate(run.holders)}
    seen = [rank[e.message.split(":")[0]] for e in events if e.message.split(":")[0] in rank]
    if seen != sorted(seen):
        run.problem(f"writers interleaved: {[e.message for e in events]}")


def _one_run(stack: Stack, number: int, seed: int) -> Run:
    run = Run(number, random.Random(seed))
    record, _ = stack.repo.create(REQUEST)
    try:
        _drive(stack, run, record.request_id)
    except Exception as exc:  # a run that breaks down is a violation, not the end of the test
        run.problem(f"the run broke down: {exc!r}")
        with contextlib.suppress(Conflict):  # so the next run claims its own request
            stack.repo.cancel(record.request_id, ORG, "run broke down")
    return run


def _drive(stack: Stack, run: Run, request_id: str) -> None:
    rng = run.rng
    first = stack.queue.claim("dispatcher-0", CLAIM_LEASE_S, MAX_ATTEMPTS)
    assert first is not None and first.request_id == request_id
    current = Holder("dispatcher-0", first, stack)
    run.holders.append(current)
    # The first holder stalls at a random point; later holders stall again now and then, or
    # hand the request back for a retry, until one of them ends it.
    stall_at = rng.randint(0, len(STAGES))
    late: list[threading.Thread] = []
    for turn in range(1, 5):
        ending = (
            None
            if turn == 1
            else rng.choices([None, "retry", "completed", "failed", "cancelled"], [2, 1, 6, 1, 1])[
                0
            ]
        )
        if turn == 4 and ending in (None, "retry"):
            ending = "completed"
        reached = PIPELINE.index(stack.repo.get(request_id).status)
        until = (
            rng.randint(max(0, reached - 1), len(STAGES)) if ending != "completed" else len(STAGES)
        )
        try:
            stopped = _work(current, run, stall_at if turn == 1 else until, ending)
        except REFUSED as exc:
            run.problem(f"a write of the current holder {current.name} was refused: {exc}")
            break
        if stopped in ("completed", "failed", "cancelled"):
            run.ending = stopped
            break
        if stopped == "stalled":
            stack.queue.renew(request_id, current.claim.token, LAST_LEASE_S)
            time.sleep(STALL_S)
        run.stale.append(current)
        names = (f"dispatcher-{2 * turn - 1}", f"dispatcher-{2 * turn}")
        current = _claim_race(stack, run, names)
        run.holders.append(current)
        if current.claim.token <= run.holders[-2].claim.token:
            run.problem("a new claim did not raise the fencing token")
        # A stale holder giving the request back releases nothing it no longer holds.
        for stale in run.stale:
            stack.queue.release(request_id, stale.claim.token)
        held = stack.repo.get(request_id)
        if (held.lease_owner, held.lease_token) != (current.name, current.claim.token):
            run.problem(f"a stale release took the lease from {current.name}: {held.lease_owner}")
        # The stale holders wake up and write while the new holder works.
        for stale in run.stale:
            thread = threading.Thread(target=_late_writes, args=(stale, run))
            thread.start()
            late.append(thread)
    for thread in late:
        thread.join(timeout=60)
    # And once more after the end, when every one of them is stale.
    for stale in run.holders[:-1]:
        _late_writes(stale, run)
    _check_history(stack, run, request_id)


@pytest.mark.parametrize("runs", [RUNS])
def test_a_stalled_holder_loses_the_request_and_every_late_write_is_refused(
    stack: Stack, ledger: Ledger, database_url: str, runs: int
) -> None:
    started = time.perf_counter()
    seed = int(os.environ.get("VIVIDLY_RELIABILITY_SEED", random.randrange(1 << 30)))
    seeds = random.Random(seed)
    results = [_one_run(stack, number, seeds.randrange(1 << 30)) for number in range(runs)]
    problems = [problem for run in results for problem in run.problems]
    endings = Counter(run.ending for run in results)
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    ledger.record(
        f"3. lease expiry and fencing ({backend})",
        runs=runs,
        faults=sum(len(run.holders) - 1 for run in results),
        violations=len(problems),
        seconds=time.perf_counter() - started,
        seed=seed,
        late_writes_refused=sum(run.late_refused for run in results),
        late_writes_accepted=sum(len(run.late_accepted) for run in results),
        holders_max=max(len(run.holders) for run in results),
        completed=endings["completed"],
        failed=endings["failed"],
        cancelled=endings["cancelled"],
    )
    assert problems == [], f"seed {seed}: " + "\n".join(problems[:20])
