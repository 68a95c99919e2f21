"""Ray wraps a remote exception; the edges want our own error back."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import ray

from vividly_ray.domain.errors import StageFailed, VividlyError

T = TypeVar("T")


def unwrapped(call: Callable[[], T], stage: str = "generating_video") -> T:
    """Run ``call``; a remote VividlyError comes back as itself, and a lost worker or node
    (the process was killed, the node went away) as a retryable ``StageFailed``."""
    try:
        return call()
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause
        if isinstance(cause, VividlyError):
            raise cause from None
        raise
    except (
        ray.exceptions.RayActorError,
        ray.exceptions.WorkerCrashedError,
        ray.exceptions.ObjectLostError,
        ray.exceptions.NodeDiedError,
    ) as exc:
        raise StageFailed(
            stage, f"a worker was lost ({type(exc).__name__})", retryable=True
        ) from exc
