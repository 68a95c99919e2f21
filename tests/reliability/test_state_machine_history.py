"""Scenario 9, the state machine on the real repository: random sequences of claims by two
competing dispatchers, fenced and unfenced transitions, progress and scene reports, retries,
releases, renewals, cancellations, clarification answers and erasure requests, applied to a
request in SQLite and PostgreSQL and compared after every step with a model of what the
repository promises.

Besides matching the model exactly, the stored history must always hold on its own: every status
change in it is an allowed transition, progress never falls, event numbers have no gaps, a
request that ended stays ended, and there is at most one terminal event.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event as sql_event

from tests.conftest import fresh_schema
from tests.reliability.ledger import Ledger
from vividly_ray.domain.errors import (
    Conflict,
    IllegalTransition,
    InvalidRequest,
    LeaseLost,
    VividlyError,
)
from vividly_ray.domain.models import ErrorInfo, Grade, VideoRequest
from vividly_ray.domain.status import ALLOWED_TRANSITIONS, RequestStatus
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import RUNNABLE, SqlDispatchQueue
from vividly_ray.persistence.records import EventRecord
from vividly_ray.persistence.repository import SqlRequestRepository

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

FULL = os.environ.get("VIVIDLY_RELIABILITY") == "full"
ORG = "org-state"
REQUEST = VideoRequest(
    question="Explain the water cycle", grade=Grade(5), minutes=1, organization_id=ORG
)
HOLDERS = ("dispatcher-a", "dispatcher-b")
ACTORS: tuple[str | None, ...] = (*HOLDERS, None)  # None: an unfenced writer (intake, tools)
# Mostly the current holder, often another dispatcher or an unfenced writer.
WRITERS: tuple[str | None, ...] = (*ACTORS, "holder", "holder")
MAX_ATTEMPTS = 4
MAX_ROUNDS = 3
LONG_S = 3600.0
STATUSES = list(RequestStatus)
EXAMPLES = {"sqlite": 300 if FULL else 30, "postgresql": 100 if FULL else 8}
STEPS = 50 if FULL else 30


@dataclass(frozen=True)
class Model:
    """What the row should hold. ``live``: the lease has not expired; ``due``: no retry delay
    is pending."""

    status: RequestStatus = RequestStatus.PENDING
    progress: int = 0
    events: int = 1
    answers: int = 0
    attempts: int = 0
    token: int = 0
    owner: str | None = None
    live: bool = False
    due: bool = True
    erase_scheduled: bool = False
    tokens: dict[str, int] = field(default_factory=dict)

    def who(self, actor: str | None) -> str | None:
        """``"holder"`` is whichever dispatcher holds the request now (or the first one)."""
        return (self.owner or HOLDERS[0]) if actor == "holder" else actor

    def fenced(self, actor: str | None) -> type[VividlyError] | None:
        """The error a write by ``actor`` is refused with before anything else, if any."""
        if actor is None:
            return None
        if self.tokens.get(actor, 0) != self.token or self.owner is None:
            return Conflict if self.status.is_terminal else LeaseLost
        return None

    def ended(self, **changes: Any) -> Model:
        return replace(self, owner=None, live=False, **changes)


@dataclass
class Tally:
    examples: int = 0
    requests: int = 0
    steps: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


def _no_fsync(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.execute("PRAGMA synchronous=OFF")


@dataclass
class Stack:
    repo: SqlRequestRepository
    queue: SqlDispatchQueue


def _stack(url: str) -> Iterator[Stack]:
    db = Database.from_url(url)
    if url.startswith("sqlite"):
        # Durability is not under test here; skipping fsync keeps the examples fast.
        sql_event.listen(db.engine, "connect", _no_fsync)
    db.create_schema()
    repo = SqlRequestRepository(db)
    try:
        yield Stack(repo, SqlDispatchQueue(db, repo))
    finally:
        db.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("state-history") / "requests.db"
        yield from _stack(f"sqlite:///{path}")
    else:
        with fresh_schema() as url:
            yield from _stack(url)


def _check_history(events: list[EventRecord]) -> list[str]:
    """What is wrong with a stored history on its own, without the model."""
    problems = []
    if [e.sequence for e in events] != list(range(1, len(events) + 1)):
        problems.append(f"event numbers have gaps: {[e.sequence for e in events]}")
    if events and (events[0].status, events[0].event_type) != (RequestStatus.PENDING, "status"):
        problems.append("the history does not start with the pending request")
    progress = [e.progress_percentage for e in events]
    if progress != sorted(progress) or not all(0 <= p <= 100 for p in progress):
        problems.append(f"progress fell or left 0-100: {progress}")
    terminal = [e for e in events if e.status.is_terminal and e.event_type == "status"]
    if len(terminal) > 1:
        problems.append(f"{len(terminal)} terminal events")
    for before, after in zip(events, events[1:], strict=False):
        if before.status.is_terminal and (after.status is not before.status):
            problems.append(f"left the terminal {before.status.value} for {after.status.value}")
        if after.status is before.status:
            if after.event_type == "status":
                problems.append(f"a status event that changed nothing at {after.sequence}")
            continue
        if after.event_type != "status":
            problems.append(f"a {after.event_type} event changed the status at {after.sequence}")
        if after.status not in ALLOWED_TRANSITIONS[before.status]:
            problems.append(f"{before.status.value} -> {after.status.value} is not allowed")
    return problems


class RepositoryMachine(RuleBasedStateMachine):
    """One request, driven by random operations; checked against ``Model`` after each."""

    stack: Stack
    tally: Tally

    def __init__(self) -> None:
        super().__init__()
        self.model = Model()
        self.request_id = ""
        self.tally.examples += 1

    @initialize()
    def record_a_request(self) -> None:
        record, created = self.stack.repo.create(REQUEST)
        assert created
        self.request_id = record.request_id
        self.model = Model()
        self.tally.requests += 1

    @precondition(lambda self: self.model.status.is_terminal)
    @rule()
    def record_another_request(self) -> None:
        """The request ended (and was checked to stay ended for a while): the next one."""
        self.record_a_request()

    def teardown(self) -> None:
        # A request left runnable would be claimed by the next example's dispatchers.
        if self.request_id and self.stack.repo.get(self.request_id).status.value in (
            *RUNNABLE,
            RequestStatus.CLARIFICATION_NEEDED.value,
        ):
            self.stack.repo.cancel(self.request_id, ORG, "end of example")

    # -- the operations -------------------------------------------------------------------

    def _expect(
        self, name: str, expected: Model | type[VividlyError], call: Callable[[], Any]
    ) -> Any:
        """Run ``call``; it must raise exactly the expected error, or succeed and leave the
        model's state."""
        self.tally.steps += 1
        if isinstance(expected, type):
            with pytest.raises(expected) as raised:
                call()
            # An IllegalTransition is a Conflict; a Conflict that should be one must be exact.
            if expected is Conflict:
                assert not isinstance(raised.value, IllegalTransition), raised.value
            self.tally.outcomes[f"{name}: refused ({expected.__name__})"] += 1
            return None
        result = call()
        self.tally.outcomes[f"{name}: applied"] += 1
        self.model = expected
        return result

    @precondition(lambda self: not self.model.status.is_terminal)
    @rule(holder=st.sampled_from(HOLDERS), long_lease=st.booleans())
    def claim(self, holder: str, long_lease: bool) -> None:
        """A dispatcher claims; a short lease has expired by the next operation (a holder that
        stalled), so the other dispatcher may take the request over."""
        m = self.model
        runnable = not m.status.is_terminal and m.status is not RequestStatus.CLARIFICATION_NEEDED
        free = m.owner is None or not m.live
        expected = m
        if runnable and free and m.due:
            token = m.token + 1
            tokens = {**m.tokens, holder: token}
            expected = replace(
                m,
                token=token,
                attempts=m.attempts + 1,
                owner=holder,
                live=long_lease,
                tokens=tokens,
            )
            if expected.attempts > MAX_ATTEMPTS:  # given up instead of claimed
                expected = expected.ended(status=RequestStatus.FAILED, events=m.events + 1)
        lease = LONG_S if long_lease else 0.0
        claim = self._expect(
            "claim", expected, lambda: self.stack.queue.claim(holder, lease, MAX_ATTEMPTS)
        )
        got = claim is not None
        assert got == (expected.owner == holder and expected.token != m.token), (claim, m)
        if claim is not None:
            assert claim.request_id == self.request_id and claim.token == expected.token
        if not long_lease:
            time.sleep(0.001)  # the short lease is over before anything else happens

    @precondition(lambda self: not self.model.status.is_terminal)
    @rule(long_lease=st.booleans())
    def take_over(self, long_lease: bool) -> None:
        """The dispatcher that does not hold the request claims it (it gets it once the
        holder's lease has run out)."""
        other = HOLDERS[1] if self.model.owner == HOLDERS[0] else HOLDERS[0]
        self.claim(other, long_lease)

    @rule(
        actor=st.sampled_from(WRITERS),
        goal=st.sampled_from(STATUSES),
        progress=st.none() | st.integers(-5, 120),
        data=st.data(),
    )
    def transition(
        self, actor: str | None, goal: RequestStatus, progress: int | None, data: st.DataObject
    ) -> None:
        m = self.model
        if data.draw(st.booleans(), label="an allowed goal"):
            allowed = sorted(ALLOWED_TRANSITIONS[m.status])
            if allowed:
                goal = data.draw(st.sampled_from(allowed), label="allowed goal")
        expected: Model | type[VividlyError]
        refused = m.fenced(actor)
        if refused is not None:
            expected = refused
        elif goal is m.status:
            expected = m
        elif goal not in ALLOWED_TRANSITIONS[m.status]:
            expected = IllegalTransition
        else:
            raised = m.progress if progress is None else max(m.progress, min(progress, 100))
            expected = replace(m, status=goal, progress=raised, events=m.events + 1)
            if goal.is_terminal:
                expected = expected.ended()
        token = None if actor is None else m.tokens.get(actor, 0)
        error = (
            ErrorInfo(m.status.value, "stage_failed", "failed")
            if goal is RequestStatus.FAILED
            else None
        )
        self._expect(
            f"transition to {goal.value}",
            expected,
            lambda: self.stack.repo.transition(
                self.request_id,
                goal,
                progress=progress,
                token=token,
                error=error,
                details={"questions": ["Which part of the water cycle?"]},
                message=f"{actor}: {goal.value}",
            ),
        )

    @precondition(lambda self: not self.model.status.is_terminal)
    @rule(actor=st.sampled_from(WRITERS), progress=st.integers(0, 100))
    def advance(self, actor: str | None, progress: int) -> None:
        """The usual path: the request's holder (mostly) moves it one stage on."""
        m = self.model
        who = m.who(actor)
        onward = sorted(s for s in ALLOWED_TRANSITIONS[m.status] if not s.is_terminal)
        if m.status is RequestStatus.NOTIFYING:
            onward = [RequestStatus.COMPLETED]
        goal = onward[progress % len(onward)] if onward else m.status
        expected: Model | type[VividlyError]
        refused = m.fenced(who)
        if refused is not None:
            expected = refused
        elif goal is m.status:
            expected = m
        else:
            expected = replace(
                m, status=goal, progress=max(m.progress, progress), events=m.events + 1
            )
            if goal.is_terminal:
                expected = expected.ended()
        token = None if who is None else m.tokens.get(who, 0)
        self._expect(
            f"advance to {goal.value}",
            expected,
            lambda: self.stack.repo.transition(
                self.request_id,
                goal,
                progress=progress,
                token=token,
                details={"questions": ["Which part of the water cycle?"]},
                message=f"{who}: {goal.value}",
            ),
        )

    @rule(actor=st.sampled_from(WRITERS), percentage=st.integers(-10, 130), scene=st.booleans())
    def report_progress(self, actor: str | None, percentage: int, scene: bool) -> None:
        m = self.model
        actor = m.who(actor)
        expected: Model | type[VividlyError]
        refused = m.fenced(actor)
        if refused is not None:
            expected = refused
        elif m.status.is_terminal:
            expected = m
        elif min(percentage, 100) > m.progress or scene:
            expected = replace(
                m, progress=max(m.progress, min(percentage, 100)), events=m.events + 1
            )
        else:
            expected = m
        token = None if actor is None else m.tokens.get(actor, 0)
        self._expect(
            "scene" if scene else "progress",
            expected,
            lambda: self.stack.repo.progress(
                self.request_id,
                percentage,
                "report",
                token=token,
                details={"scenes_done": 1, "scenes_total": 2} if scene else None,
                event_type="scene" if scene else "progress",
            ),
        )

    @rule(actor=st.sampled_from(WRITERS))
    def annotate(self, actor: str | None) -> None:
        m = self.model
        actor = m.who(actor)
        token = None if actor is None else m.tokens.get(actor, 0)
        refused = m.fenced(actor)
        key = f"note_{self.tally.steps}"
        self._expect(
            "metadata",
            refused or m,
            lambda: self.stack.repo.merge_metadata(self.request_id, {key: actor}, token=token),
        )
        stored = self.stack.repo.get(self.request_id).request_metadata
        assert (key in stored) == (refused is None)

    @rule(holder=st.sampled_from((*HOLDERS, "holder")), delayed=st.booleans())
    def retry_later(self, holder: str, delayed: bool) -> None:
        m = self.model
        holder = m.who(holder) or HOLDERS[0]
        refused = m.fenced(holder)
        expected = refused or replace(
            m, events=m.events + 1, owner=None, live=False, due=not delayed
        )
        token = m.tokens.get(holder, 0)
        self._expect(
            "retry_later",
            expected,
            lambda: self.stack.queue.retry_later(
                self.request_id, token, LONG_S if delayed else 0.0, "provider busy"
            ),
        )

    @precondition(lambda self: not self.model.status.is_terminal)
    @rule(holder=st.sampled_from(HOLDERS), patience=st.integers(0, 2))
    def release(self, holder: str, patience: int) -> None:
        if patience:
            return
        m = self.model
        held = m.tokens.get(holder, 0) == m.token
        expected = replace(m, owner=None, live=False) if held else m
        self._expect(
            "release",
            expected,
            lambda: self.stack.queue.release(self.request_id, m.tokens.get(holder, 0)),
        )

    @precondition(lambda self: not self.model.status.is_terminal)
    @rule(holder=st.sampled_from(HOLDERS), long_lease=st.booleans())
    def renew(self, holder: str, long_lease: bool) -> None:
        m = self.model
        expected: Model | type[VividlyError]
        if m.status.is_terminal:
            expected = m
        elif m.tokens.get(holder, 0) != m.token or m.owner is None:
            expected = LeaseLost
        else:
            expected = replace(m, live=long_lease)
        status = self._expect(
            "renew",
            expected,
            lambda: self.stack.queue.renew(
                self.request_id, m.tokens.get(holder, 0), LONG_S if long_lease else 0.0
            ),
        )
        if status is not None:
            assert status is m.status
        if not long_lease:
            time.sleep(0.001)

    @rule(patience=st.integers(0, 4))
    def cancel(self, patience: int) -> None:
        """The caller cancels, now and then."""
        if patience:
            return
        m = self.model
        expected = (
            Conflict
            if m.status.is_terminal
            else m.ended(status=RequestStatus.CANCELLED, events=m.events + 1)
        )
        self._expect(
            "cancel", expected, lambda: self.stack.repo.cancel(self.request_id, ORG, "caller")
        )

    @precondition(lambda self: not self.model.status.is_terminal)
    @rule(
        answer=st.sampled_from(
            ["the part about rain", "  evaporation  ", "clouds", "", "   ", "x" * 501]
        )
    )
    def answer(self, answer: str) -> None:
        m = self.model
        expected: Model | type[VividlyError]
        if not 1 <= len(answer.strip()) <= 500:
            expected = InvalidRequest
        elif m.status is not RequestStatus.CLARIFICATION_NEEDED or m.answers >= MAX_ROUNDS:
            expected = Conflict
        else:
            expected = replace(
                m,
                status=RequestStatus.VALIDATING,
                events=m.events + 1,
                answers=m.answers + 1,
                attempts=0,
                due=True,
            )
        self._expect(
            "answer",
            expected,
            lambda: self.stack.repo.answer(
                self.request_id, answer, organization_id=ORG, max_rounds=MAX_ROUNDS
            ),
        )

    @rule(patience=st.integers(0, 4))
    def schedule_erasure(self, patience: int) -> None:
        """The caller asks for erasure (DELETE), now and then: a running request is cancelled."""
        if patience:
            return
        m = self.model
        if m.status.is_terminal:
            expected = replace(m, erase_scheduled=True)
        else:
            expected = m.ended(
                status=RequestStatus.CANCELLED, events=m.events + 1, erase_scheduled=True
            )
        due = self._expect(
            "erasure",
            expected,
            lambda: self.stack.repo.schedule_erasure(
                self.request_id, ORG, grace=timedelta(seconds=30)
            ),
        )
        assert due is not None

    @precondition(lambda self: not self.model.status.is_terminal)
    @rule(holder=st.sampled_from((*HOLDERS, "holder")), percentage=st.integers(0, 100))
    def batch(self, holder: str, percentage: int) -> None:
        """The Tracker's path: several fenced writes in one transaction, each refused in place."""
        m = self.model
        holder = m.who(holder) or HOLDERS[0]
        token = m.tokens.get(holder, 0)
        refused = m.fenced(holder)
        self.tally.steps += 1
        results = self.stack.repo.apply_batch(
            [
                ("progress", (self.request_id, percentage, "batched"), {"token": token}),
                ("merge_metadata", (self.request_id, {"batched": holder}), {"token": token}),
            ]
        )
        if refused is not None:
            assert all(isinstance(r, refused) for r in results), results
            self.tally.outcomes["batch: refused"] += 1
            return
        assert not any(isinstance(r, Exception) for r in results), results
        if not m.status.is_terminal and min(percentage, 100) > m.progress:
            self.model = replace(m, progress=min(percentage, 100), events=m.events + 1)
        self.tally.outcomes["batch: applied"] += 1

    # -- what must always hold ------------------------------------------------------------

    @invariant()
    def the_row_and_its_history_match_the_model(self) -> None:
        if not self.request_id:
            return
        m = self.model
        record = self.stack.repo.get(self.request_id)
        events = self.stack.repo.events(self.request_id)
        assert _check_history(events) == []
        assert record.status is m.status
        assert record.progress_percentage == m.progress
        assert len(events) == m.events and events[-1].status is m.status
        assert (record.lease_owner, record.lease_token, record.attempts) == (
            m.owner,
            m.token,
            m.attempts,
        )
        assert len(record.request_metadata["clarifications"]) == m.answers
        terminal = [e for e in events if e.status.is_terminal and e.event_type == "status"]
        assert len(terminal) == (1 if m.status.is_terminal else 0)


def test_random_operations_by_competing_holders_keep_the_state_machine(
    stack: Stack, ledger: Ledger
) -> None:
    backend = "sqlite" if stack.repo.db.engine.dialect.name == "sqlite" else "postgresql"
    tally = Tally()
    machine = type("Machine", (RepositoryMachine,), {"stack": stack, "tally": tally})
    started = time.perf_counter()
    failure: BaseException | None = None
    try:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES[backend],
                stateful_step_count=STEPS,
                # The same runs on every `make test`; `make reliability` explores new ones.
                derandomize=not FULL,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    except BaseException as exc:  # recorded first, then raised
        failure = exc
    refused = sum(n for name, n in tally.outcomes.items() if "refused" in name)
    fenced = sum(n for name, n in tally.outcomes.items() if "LeaseLost" in name)
    ledger.record(
        f"9. state machine on the repository ({backend})",
        runs=tally.examples,
        requests=tally.requests,
        faults=fenced,
        violations=0 if failure is None else 1,
        seconds=time.perf_counter() - started,
        operations=tally.steps,
        refused=refused,
        fenced=fenced,
        claims=tally.outcomes["claim: applied"],
        terminal_refusals=sum(n for name, n in tally.outcomes.items() if "(Conflict)" in name),
    )
    if failure is not None:
        raise failure
