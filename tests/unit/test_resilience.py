"""CircuitBreaker: opens after repeated failures, lets one trial through, closes on success."""

from __future__ import annotations

import threading

from vividly_ray.resilience import BreakerPolicy, BreakerState, CircuitBreaker


class ManualClock:
    """A clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _breaker(threshold: int = 3, open_seconds: float = 60.0) -> tuple[CircuitBreaker, ManualClock]:
    clock = ManualClock()
    policy = BreakerPolicy(failure_threshold=threshold, open_seconds=open_seconds)
    return CircuitBreaker("google-tts", policy, clock=clock), clock


def test_a_new_breaker_is_closed_and_allows_calls() -> None:
    breaker, _ = _breaker()
    assert breaker.state is BreakerState.CLOSED
    assert all(breaker.allow() for _ in range(10))


def test_it_opens_only_after_the_threshold_of_failures_in_a_row() -> None:
    breaker, _ = _breaker(threshold=3)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()


def test_a_success_resets_the_count_of_failures() -> None:
    breaker, _ = _breaker(threshold=3)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_it_stays_open_until_the_open_period_has_passed() -> None:
    breaker, clock = _breaker(threshold=1, open_seconds=60)
    breaker.record_failure()
    clock.advance(59.9)
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.advance(0.1)
    assert breaker.state is BreakerState.HALF_OPEN


def test_half_open_lets_exactly_one_trial_call_through() -> None:
    breaker, clock = _breaker(threshold=1, open_seconds=10)
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()


def test_a_successful_trial_closes_the_breaker() -> None:
    breaker, clock = _breaker(threshold=2, open_seconds=10)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(10)
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED
    assert breaker.allow() and breaker.allow()
    # Closed again means the full threshold is needed to re-open.
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_trial_reopens_at_once_for_a_fresh_period() -> None:
    breaker, clock = _breaker(threshold=3, open_seconds=10)
    for _ in range(3):
        breaker.record_failure()
    clock.advance(15)
    assert breaker.allow()
    breaker.record_failure()  # one failure is enough while it is not closed
    assert breaker.state is BreakerState.OPEN and not breaker.allow()
    clock.advance(9)
    assert breaker.state is BreakerState.OPEN
    clock.advance(1)
    assert breaker.allow()


def test_only_one_of_many_threads_gets_the_half_open_trial() -> None:
    breaker, clock = _breaker(threshold=1, open_seconds=5)
    breaker.record_failure()
    clock.advance(5)
    start = threading.Barrier(8)
    allowed: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait()
        answer = breaker.allow()
        with lock:
            allowed.append(answer)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(allowed) == [False] * 7 + [True]


def test_the_default_policy_and_clock_work_without_injection() -> None:
    breaker = CircuitBreaker("plain")
    for _ in range(BreakerPolicy().failure_threshold):
        breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
