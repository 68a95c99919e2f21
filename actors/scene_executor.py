"""ServeSceneExecutor: narration on the Narrator pool and encoding as Ray tasks, per scene.

Each scene runs on its own thread: narrate (the least-loaded Narrator replica takes it), then
submit the encode task at once. A scene's encode starts the moment its own audio exists: no
barrier between narrating and encoding. ``stop`` (cancelled, or the lease was lost) cancels
the remaining work.
"""

from __future__ import annotations

import threading
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import ray

from actors.errors import unwrapped
from actors.pools import encode_scene
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import RenderSpec, Scene, SceneAudio, SceneSegment, Script
from vividly_ray.observability.logs import bind_context, current_context
from vividly_ray.pipeline.ports import SceneDone

POLL_S = 0.25


class ServeSceneExecutor:
    """Implements the SceneExecutor port over the pools."""

    def __init__(
        self,
        narrators: Any,
        *,
        encoder_cpus: float,
        encoder_threads: int,
        stop: threading.Event,
    ) -> None:
        self._narrators = narrators
        self._encoder_cpus = encoder_cpus
        self._encoder_threads = encoder_threads
        self._stop = stop

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        # Longest narration first, so the long scenes do not finish last.
        order = sorted(script.scenes, key=lambda s: -len(s.narration_text))
        results: dict[int, tuple[SceneAudio, SceneSegment]] = {}
        refs: list[Any] = []
        lock = threading.Lock()

        context = current_context()  # this request's ids, for the logs of the scene threads

        def one(scene: Scene) -> tuple[SceneAudio, SceneSegment]:
            with bind_context(context):
                return scene_work(scene)

        def scene_work(scene: Scene) -> tuple[SceneAudio, SceneSegment]:
            if self._stop.is_set():
                raise StageFailed("generating_video", "stopped")
            audio: SceneAudio = unwrapped(
                lambda: self._narrators.narrate.remote(scene, script.grade).result()
            )
            ref = encode_scene.options(num_cpus=self._encoder_cpus).remote(
                spec, self._encoder_threads, scene, audio
            )
            with lock:
                refs.append(ref)
            while True:
                ready, _ = ray.wait([ref], timeout=POLL_S)
                if ready:
                    break
                if self._stop.is_set():
                    ray.cancel(ref)
                    raise StageFailed("generating_video", "stopped")
            segment: SceneSegment = unwrapped(lambda: ray.get(ref))
            return audio, segment

        with ThreadPoolExecutor(max_workers=len(order), thread_name_prefix="scene") as pool:
            futures: dict[Future[tuple[SceneAudio, SceneSegment]], int] = {
                pool.submit(one, scene): scene.index for scene in order
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
                        raise StageFailed("generating_video", "stopped")
            except BaseException:
                self._stop.set()
                with lock:
                    for ref in refs:
                        ray.cancel(ref)
                raise
        return [results[scene.index] for scene in script.scenes]
