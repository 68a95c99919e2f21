"""CPU seconds of a piece of work: the calling thread plus the child processes it ran.

A Dispatcher runs several pipelines at once, each with its own threads (the pipeline, its
stream) starting ffmpeg runs, so the process-wide figure for reaped children
(``RUSAGE_CHILDREN``) would mix one request's ffmpeg runs into another's. Instead each child's
own usage is taken when it is reaped (``os.wait4``, in ``media.ffmpeg.run_ffmpeg``) and added to
the thread that ran it (``add_child_seconds``); a meter counts the thread's own time and the
children its thread ran while it was open.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_local = threading.local()


def add_child_seconds(seconds: float) -> None:
    """Count ``seconds`` of a child process (user and system) to the calling thread."""
    _local.children = _children() + seconds


def _children() -> float:
    seconds: float = getattr(_local, "children", 0.0)
    return seconds


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
