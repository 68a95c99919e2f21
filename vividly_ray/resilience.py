"""Degrade, don't die: a circuit breaker per provider.

After ``failure_threshold`` failures in a row a provider's breaker opens and every call goes to
the fallback for ``open_seconds``; then one trial call is let through (half-open). A success
closes the breaker again, a failure re-opens it. One slow or broken provider therefore costs a
few failed calls, not every scene of every request.

``database_unavailable`` tells a passing database outage from a real error, so the edges answer
503 and the dispatcher waits instead of failing the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    failure_threshold: int = 3
    open_seconds: float = 60.0


class CircuitBreaker:
    """Thread-safe; ``clock`` is injectable so tests need not sleep."""

    def __init__(
        self,
        name: str,
        policy: BreakerPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._policy = policy or BreakerPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_out = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state_locked()

    def _state_locked(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._policy.open_seconds:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def allow(self) -> bool:
        """Whether the next call may go to the provider (False: use the fallback)."""
        with self._lock:
            state = self._state_locked()
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.HALF_OPEN and not self._trial_out:
                self._trial_out = True
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_out = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_out = False
            if self._opened_at is not None or self._failures >= self._policy.failure_threshold:
                self._opened_at = self._clock()


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database could not be used just now: the
    server is down or restarting, a connection was cut, the pool is exhausted, the file is
    locked. Such a failure passes: the same call may succeed later (every write of request state
    is idempotent or fenced, so trying one again is safe). A refused statement (a constraint,
    bad data) is not one of them."""
    # Imported here: the narration and encoding replicas use the breakers, never the database.
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if isinstance(current, sa_exc.TimeoutError):  # no pooled connection came free
            return True
        pending += [current.__cause__, current.__context__]
        # Ray hands a remote exception back wrapped, with the original as ``cause``.
        wrapped = getattr(current, "cause", None)
        if isinstance(wrapped, BaseException):
            pending.append(wrapped)
    return False
