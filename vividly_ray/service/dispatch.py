"""The dispatcher: claims recorded requests, drives their pipelines, and retries what may pass.

Nothing here holds state that matters after a crash: the lease, attempt count and progress are
in the database. While a pipeline runs, a heartbeat renews its lease and watches for a
cancellation; a dispatcher that dies simply stops renewing, and another one resumes the request
once the lease has expired. Every write of a pipeline carries its claim's fencing token.

A database outage is neither the request's failure nor a crash: a pipeline whose write cannot
reach the database stops without recording anything more (``DatabaseUnavailable``), its lease
runs out, and once the database is back the request is claimed again and resumes from the stage
it had recorded. A holder that could not renew its lease for a whole lease stops its pipeline,
since another dispatcher may hold the request by then.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from vividly_ray.domain.errors import (
    ClarificationNeeded,
    Conflict,
    IllegalTransition,
    InternalError,
    LeaseLost,
    RefusedUnsafe,
    StageFailed,
    VividlyError,
)
from vividly_ray.domain.models import ErrorInfo, VideoResult
from vividly_ray.domain.status import RequestStatus
from vividly_ray.observability.logs import bind_context, log_context
from vividly_ray.persistence.dispatch_queue import Claim, SqlDispatchQueue
from vividly_ray.pipeline.orchestrator import VideoPipeline
from vividly_ray.pipeline.ports import StatusTracker
from vividly_ray.resilience import database_unavailable

log = logging.getLogger("vividly.dispatch")


class DatabaseUnavailable(StageFailed):
    """A write of request state could not reach the database. Retryable, and never recorded
    as the request's failure: the request waits for its lease to run out and is resumed."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(
            "database", f"the database is unavailable ({type(cause).__name__})", retryable=True
        )


class RequestWriter(Protocol):
    """Fenced writes of request state (the repository, or the Tracker deployment's client)."""

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: ErrorInfo | None = None,
        token: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> object: ...

    def progress(
        self,
        request_id: str,
        percentage: int,
        detail: str = "",
        *,
        token: int | None = None,
        details: dict[str, Any] | None = None,
        event_type: str = "progress",
    ) -> object: ...

    def merge_metadata(
        self, request_id: str, values: dict[str, Any], *, token: int | None = None
    ) -> object: ...


class FencedTracker:
    """The pipeline's StatusTracker, bound to one claim: every write carries its token.

    A token of None writes unfenced (a caller that holds no lease, such as the benchmark).
    """

    def __init__(self, writer: RequestWriter, token: int | None) -> None:
        self._writer = writer
        self._token = token

    @staticmethod
    def _reaching(write: Callable[[], object]) -> object:
        """Run one write; a database outage becomes ``DatabaseUnavailable``, so the pipeline
        does not take it for a bug (and try to record the request as failed)."""
        try:
            return write()
        except VividlyError:
            raise
        except Exception as exc:
            if database_unavailable(exc):
                raise DatabaseUnavailable(exc) from exc
            raise

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: ErrorInfo | None = None,
        details: dict[str, Any] | None = None,
    ) -> object:
        return self._reaching(
            lambda: self._writer.transition(
                request_id,
                status,
                message=message,
                progress=progress,
                error=error,
                details=details,
                token=self._token,
            )
        )

    def progress(
        self,
        request_id: str,
        percentage: int,
        detail: str = "",
        *,
        details: dict[str, Any] | None = None,
    ) -> object:
        return self._reaching(
            lambda: self._writer.progress(
                request_id,
                percentage,
                detail,
                details=details,
                token=self._token,
                event_type="scene" if details else "progress",
            )
        )

    def annotate(self, request_id: str, values: dict[str, Any]) -> object:
        return self._reaching(
            lambda: self._writer.merge_metadata(request_id, values, token=self._token)
        )


# Builds the pipeline for one claim: the tracker to write through and an event that is set when
# the work should stop (cancelled, or the lease was lost).
PipelineFactory = Callable[[StatusTracker, threading.Event], VideoPipeline]


@dataclass(frozen=True)
class DispatchPolicy:
    lease_s: float
    max_attempts: int
    retry_base_s: float
    retry_cap_s: float = 300.0

    @property
    def heartbeat_s(self) -> float:
        return max(0.2, self.lease_s / 3)

    def backoff(self, attempt: int) -> float:
        return float(min(self.retry_cap_s, self.retry_base_s * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class Outcome:
    """How one claim ended, for logs, metrics and tests."""

    request_id: str
    # completed | clarification_needed | failed | retry | cancelled | lease_lost | released
    # | database_unavailable (left to its lease; resumed once the database is back)
    status: str
    result: VideoResult | None = None
    detail: str = ""


class Dispatcher:
    """Claims requests one at a time and runs each to an outcome."""

    def __init__(
        self,
        queue: SqlDispatchQueue,
        writer: RequestWriter,
        pipelines: PipelineFactory,
        policy: DispatchPolicy,
        owner: str,
    ) -> None:
        self._queue = queue
        self._writer = writer
        self._pipelines = pipelines
        self._policy = policy
        self.owner = owner
        self._active: set[threading.Event] = set()
        self._shutting_down = threading.Event()

    def running(self) -> int:
        """How many requests this dispatcher is driving now."""
        return len(self._active)

    def shutdown(self) -> None:
        """Stop every running pipeline and give its request back at once (an upgrade, a
        scale-down): the next dispatcher need not wait for the lease to expire."""
        self._shutting_down.set()
        for stop in list(self._active):
            stop.set()

    def claim(self) -> Claim | None:
        """Claim the next runnable request, or None when there is nothing to do."""
        return self._queue.claim(self.owner, self._policy.lease_s, self._policy.max_attempts)

    def run_next(self) -> Outcome | None:
        """Claim the next runnable request and drive it; None when there is nothing to do."""
        claim = self.claim()
        if claim is None:
            return None
        return self.drive(claim)

    def drive(self, claim: Claim) -> Outcome:
        record = claim.record
        with log_context(request_id=claim.request_id, correlation_id=record.correlation_id):
            log.info(
                "claimed",
                extra={"fields": {"attempt": claim.attempt, "stage": record.status.value}},
            )
            stop = threading.Event()
            self._active.add(stop)
            heartbeat = _Heartbeat(self._queue, claim, self._policy, stop)
            heartbeat.start()
            try:
                return self._run(claim, stop)
            except Exception as exc:
                # Whatever write met the outage (the pipeline's, a release, a retry), nothing
                # more can be recorded now; the lease runs out and the request is resumed.
                if not database_unavailable(exc):
                    raise
                log.warning(
                    "database unavailable; the request waits for its lease to run out",
                    extra={"fields": {"error": type(exc).__name__}},
                )
                return Outcome(claim.request_id, "database_unavailable", detail=str(exc)[:200])
            finally:
                heartbeat.finish()
                self._active.discard(stop)

    def _run(self, claim: Claim, stop: threading.Event) -> Outcome:
        request_id = claim.request_id
        record = claim.record
        pipeline = self._pipelines(FencedTracker(self._writer, claim.token), stop)
        try:
            result = pipeline.run(request_id, record.to_request(), resume_from=record.status)
        except ClarificationNeeded as exc:
            self._queue.release(request_id, claim.token)
            return Outcome(request_id, "clarification_needed", detail=exc.message)
        except RefusedUnsafe as exc:
            return Outcome(request_id, "failed", detail=exc.message)
        except LeaseLost as exc:
            log.warning("lease lost", extra={"fields": {"reason": exc.message}})
            return Outcome(request_id, "lease_lost", detail=exc.message)
        except DatabaseUnavailable:
            raise  # handled in drive(), with every other write that meets the outage
        except IllegalTransition as exc:  # a bug: the pipeline asked for a move it may not make
            error_id = uuid.uuid4().hex[:12]
            log.error("illegal transition %s: %s", error_id, exc.message)
            with contextlib.suppress(LeaseLost, Conflict):
                self._writer.transition(
                    request_id,
                    RequestStatus.FAILED,
                    message=f"internal error {error_id}",
                    error=ErrorInfo(
                        record.status.value, "internal", f"internal error {error_id}", error_id
                    ),
                    token=claim.token,
                )
            return Outcome(request_id, "failed", detail=exc.message)
        except Conflict as exc:  # cancelled while running
            log.info("stopped", extra={"fields": {"reason": exc.message}})
            return Outcome(request_id, "cancelled", detail=exc.message)
        except InternalError as exc:
            return Outcome(request_id, "failed", detail=exc.message)
        except StageFailed as exc:
            if stop.is_set() and self._cancelled(request_id):
                return Outcome(request_id, "cancelled", detail="cancelled")
            if self._shutting_down.is_set():
                with contextlib.suppress(LeaseLost, Conflict):
                    self._queue.release(request_id, claim.token)
                log.info("released at shutdown")
                return Outcome(request_id, "released", detail="dispatcher shut down")
            if not exc.retryable:
                return Outcome(request_id, "failed", detail=exc.message)
            return self._retry_or_fail(claim, exc)
        return Outcome(request_id, "completed", result=result)

    def _retry_or_fail(self, claim: Claim, failure: StageFailed) -> Outcome:
        request_id = claim.request_id
        if claim.attempt >= self._policy.max_attempts:
            error = ErrorInfo(
                failure.stage,
                "retries_exhausted",
                f"{failure.reason} (gave up after {claim.attempt} attempts)",
            )
            with contextlib.suppress(LeaseLost, Conflict):
                self._writer.transition(
                    request_id,
                    RequestStatus.FAILED,
                    message=error.message,
                    error=error,
                    token=claim.token,
                )
            return Outcome(request_id, "failed", detail=error.message)
        delay = self._policy.backoff(claim.attempt)
        try:
            self._queue.retry_later(request_id, claim.token, delay, failure.message)
        except (LeaseLost, Conflict):
            return Outcome(request_id, "lease_lost", detail="lost while scheduling a retry")
        log.warning(
            "retry scheduled",
            extra={"fields": {"attempt": claim.attempt, "delay_s": delay, "stage": failure.stage}},
        )
        return Outcome(request_id, "retry", detail=failure.message)

    def _cancelled(self, request_id: str) -> bool:
        return self._queue.status(request_id) is RequestStatus.CANCELLED


class _Heartbeat:
    """Renews a claim's lease until finished; sets ``stop`` on cancellation or a lost lease."""

    def __init__(
        self,
        queue: SqlDispatchQueue,
        claim: Claim,
        policy: DispatchPolicy,
        stop: threading.Event,
    ) -> None:
        self._queue = queue
        self._claim = claim
        self._policy = policy
        self._stop = stop
        self._done = threading.Event()
        self._context = {"request_id": claim.request_id}
        self._thread = threading.Thread(target=self._loop, name="lease-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def finish(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        renewed = time.monotonic()
        with bind_context(self._context):
            while not self._done.wait(self._policy.heartbeat_s):
                try:
                    status = self._queue.renew(
                        self._claim.request_id, self._claim.token, self._policy.lease_s
                    )
                except LeaseLost:
                    log.warning("lease lost at heartbeat")
                    self._stop.set()
                    return
                except Exception as exc:  # the database may be briefly away; the lease has slack
                    if not database_unavailable(exc):
                        log.exception("heartbeat failed")
                    elif time.monotonic() - renewed < self._policy.lease_s:
                        log.warning("heartbeat could not reach the database; trying again")
                    else:
                        # The lease has run out by now: another dispatcher may hold the request
                        # once the database is back, so this one stops its work.
                        log.warning("lease ran out while the database was unreachable")
                        self._stop.set()
                        return
                    continue
                renewed = time.monotonic()
                if status is RequestStatus.CANCELLED:
                    log.info("cancellation seen at heartbeat")
                    self._stop.set()
                    return


def dispatch_forever(
    dispatcher: Dispatcher,
    slots: int,
    stopping: threading.Event,
    poll_s: float,
    on_outcome: Callable[[Outcome], None] | None = None,
    wake: threading.Event | None = None,
) -> None:
    """Keep up to ``slots`` pipelines running until ``stopping`` is set.

    The loop claims whenever a slot is free and then sleeps until ``wake`` is set (an intake
    says a request is waiting, or the owner is stopping) or a pipeline ends, or at most
    ``poll_s``: the poll finds whatever no one rang for (a retry that came due, a lease that
    expired, a ring that was lost), so a request waits one poll at most even unannounced.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    wake = wake or threading.Event()
    running: set[Future[Outcome | None]] = set()

    def ended(_: Future[Outcome | None]) -> None:
        wake.set()

    with ThreadPoolExecutor(max_workers=slots, thread_name_prefix="pipeline") as pool:
        while not stopping.is_set():
            # Cleared before looking, so a ring that comes while this pass claims is kept for
            # the wait below, which then returns at once and claims again.
            wake.clear()
            for future in [f for f in running if f.done()]:
                running.discard(future)
                _report(future, on_outcome)
            while len(running) < slots and not stopping.is_set():
                try:
                    claim = dispatcher.claim()
                except Exception as exc:
                    if database_unavailable(exc):
                        log.warning("claim failed: the database is unavailable")
                    else:
                        log.exception("claim failed")
                    claim = None
                if claim is None:
                    break
                future = pool.submit(dispatcher.drive, claim)
                running.add(future)
                future.add_done_callback(ended)
            if not stopping.is_set():
                wake.wait(poll_s)
        for future in running:
            _report(future, on_outcome, wait_s=None)


def _report(
    future: Any, on_outcome: Callable[[Outcome], None] | None, wait_s: float | None = 0
) -> None:
    try:
        outcome = future.result(timeout=wait_s)
    except Exception:
        log.exception("pipeline crashed")
        return
    if outcome is not None and on_outcome is not None:
        on_outcome(outcome)
