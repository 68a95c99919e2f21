"""CPU seconds of a piece of work: the calling thread plus the child processes it waited for.

Workers run one scene at a time (the pools' ``max_ongoing_requests`` is 1), so the children
reaped while a meter runs are that scene's ffmpeg runs. ``resource`` is POSIX-only; elsewhere
only the thread's own time is counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

try:
    import resource
except ImportError:  # pragma: no cover - not on POSIX
    resource = None  # type: ignore[assignment]


def _children() -> float:
    if resource is None:  # pragma: no cover
        return 0.0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuMeter:
    seconds: float = 0.0


@contextmanager
def cpu_meter() -> Iterator[CpuMeter]:
    meter = CpuMeter()
    thread, children = time.thread_time(), _children()
    try:
        yield meter
    finally:
        meter.seconds = (time.thread_time() - thread) + (_children() - children)
