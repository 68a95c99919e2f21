"""ServeSceneExecutor: narration on the Narrator pool, encoding on the SegmentEncoder pool.

Each scene runs on its own thread: narrate (the least-loaded Narrator replica takes it), then
send the encode at once. A scene's encode starts the moment its own audio exists: no barrier
between narrating and encoding. ``stop`` (cancelled, or the lease was lost) cancels the rest.

Scenes are sent in ``dispatch_order``: the first scene first, so the stream has something to
play almost at once (it publishes scenes in order), then the rest longest first, so the long
scenes do not finish last. The threads take turns to send, so the pools see that order.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ray.serve.exceptions import RequestCancelledError

from actors.errors import unwrapped
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import RenderSpec, Scene, SceneAudio, SceneSegment, Script
from vividly_ray.observability.logs import bind_context, current_context
from vividly_ray.pipeline.ports import SceneDone

POLL_S = 0.1


def dispatch_order(scenes: Sequence[Scene]) -> list[Scene]:
    """The first scene, then the others longest narration first (ties in scene order)."""
    if not scenes:
        return []
    first = min(scenes, key=lambda s: s.index)
    rest = [s for s in scenes if s is not first]
    return [first, *sorted(rest, key=lambda s: (-len(s.narration_text), s.index))]


class ServeSceneExecutor:
    """Implements the SceneExecutor port over the pools."""

    def __init__(self, narrators: Any, encoders: Any, *, stop: threading.Event) -> None:
        self._narrators = narrators
        self._encoders = encoders
        self._stop = stop

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        order = dispatch_order(script.scenes)
        # turns[i] is set once the scene before it has sent its narration.
        turns = [threading.Event() for _ in range(len(order) + 1)]
        turns[0].set()
        results: dict[int, tuple[SceneAudio, SceneSegment]] = {}
        calls: list[Any] = []
        lock = threading.Lock()
        context = current_context()  # this request's ids, for the logs of the scene threads

        def call(response: Any) -> Any:
            with lock:
                calls.append(response)
            if self._stop.is_set():
                response.cancel()
            try:
                return unwrapped(response.result)
            except RequestCancelledError:
                raise StageFailed("generating_video", "stopped", retryable=True) from None

        def one(scene: Scene, turn: int) -> tuple[SceneAudio, SceneSegment]:
            with bind_context(context):
                try:
                    turns[turn].wait()
                    if self._stop.is_set():
                        raise StageFailed("generating_video", "stopped", retryable=True)
                    narrating = self._narrators.narrate.remote(scene, script.grade)
                finally:
                    turns[turn + 1].set()
                audio: SceneAudio = call(narrating)
                segment: SceneSegment = call(self._encoders.encode.remote(spec, scene, audio))
                return audio, segment

        with ThreadPoolExecutor(max_workers=len(order), thread_name_prefix="scene") as pool:
            futures: dict[Future[tuple[SceneAudio, SceneSegment]], int] = {
                pool.submit(one, scene, turn): scene.index for turn, scene in enumerate(order)
            }
            pending = set(futures)
            try:
                while pending:
                    done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                    for future in done:
                        audio, segment = future.result()
                        results[futures[future]] = (audio, segment)
                        on_scene_done(audio, segment)
                    if self._stop.is_set() and pending:
                        raise StageFailed("generating_video", "stopped", retryable=True)
            except BaseException:
                self._stop.set()
                with lock:
                    for response in calls:
                        response.cancel()
                raise
        return [results[scene.index] for scene in script.scenes]
