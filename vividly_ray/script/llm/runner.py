"""Running the scene tasks of one script, in parallel.

The writer hands every concept scene to a ``SceneRunner`` at once. The thread runner here calls
the writer's ``write_scene`` in this process; a runner for a cluster can send each task to a
pool of replicas instead, since a task and its draft are plain picklable data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from typing import Protocol

from vividly_ray.script.llm.tasks import SceneDraft, SceneTask

WriteScene = Callable[[SceneTask], SceneDraft]


class SceneRunner(Protocol):
    """Writes every task's scene, as concurrently as it can, and returns the drafts in task
    order.

    ``write_scene`` does not raise for a provider failure (the scene falls back instead), so a
    runner raises only when it lost a worker, as StageFailed (the writer then falls back to the
    offline writer for the whole script), or for a bug, which propagates.
    """

    def run(self, tasks: Sequence[SceneTask]) -> list[SceneDraft]: ...


class ThreadSceneRunner:
    """Runs ``write_scene`` on up to ``max_workers`` threads (the calls wait on the network)."""

    def __init__(self, write_scene: WriteScene, max_workers: int = 4) -> None:
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self._write_scene = write_scene
        self._max_workers = max_workers

    def run(self, tasks: Sequence[SceneTask]) -> list[SceneDraft]:
        if len(tasks) <= 1:
            return [self._write_scene(task) for task in tasks]
        workers = min(self._max_workers, len(tasks))
        # Threads do not inherit context variables (the request id that logs carry): each
        # task runs in a copy of the caller's context.
        contexts = [copy_context() for _ in tasks]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scene") as pool:
            futures = [
                pool.submit(context.run, self._write_scene, task)
                for context, task in zip(contexts, tasks, strict=True)
            ]
            return [future.result() for future in futures]
