"""RaySceneExecutor: narration and encoding of every scene, pipelined across the pools.

Each scene's encode task takes the ObjectRef of its narration as an argument, so Ray starts the
encode the moment that one scene's audio exists: no barrier between narrating and encoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray

from actors.pools import encode_scene
from vividly_ray.domain.errors import VividlyError
from vividly_ray.domain.models import RenderSpec, SceneAudio, SceneSegment, Script
from vividly_ray.pipeline.ports import SceneDone


class RaySceneExecutor:
    """Implements the SceneExecutor port on a narrator actor pool and encode tasks."""

    def __init__(
        self,
        narrators: Sequence[Any],
        spec: RenderSpec,
        cache_root: Path,
        work_dir: Path,
        *,
        encoder_cpus: float,
        encoder_threads: int,
    ) -> None:
        if not narrators:
            raise ValueError("at least one narrator actor is needed")
        self._narrators = list(narrators)
        self._spec = spec
        self._cache_root = str(cache_root)
        self._work_dir = str(work_dir)
        self._encoder_cpus = encoder_cpus
        self._encoder_threads = encoder_threads

    def run(
        self, script: Script, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        # Longest narration first onto the least-loaded narrator keeps the pool evenly busy.
        load = [0] * len(self._narrators)
        order = sorted(script.scenes, key=lambda s: -len(s.narration_text))
        pending: dict[Any, int] = {}
        for scene in order:
            slot = load.index(min(load))
            load[slot] += len(scene.narration_text)
            audio_ref = self._narrators[slot].narrate.remote(scene, script.grade)
            encoded = encode_scene.options(num_cpus=self._encoder_cpus).remote(
                self._spec,
                self._cache_root,
                self._work_dir,
                self._encoder_threads,
                scene,
                audio_ref,
            )
            pending[encoded] = scene.index
        results: dict[int, tuple[SceneAudio, SceneSegment]] = {}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    index = pending.pop(ref)
                    audio, segment = _get(ref)
                    results[index] = (audio, segment)
                    on_scene_done(audio, segment)
        except BaseException:
            for ref in pending:
                ray.cancel(ref)
            raise
        return [results[scene.index] for scene in script.scenes]


def _get(ref: Any) -> tuple[SceneAudio, SceneSegment]:
    """ray.get that re-raises our own errors as themselves rather than Ray's wrapper."""
    try:
        result: tuple[SceneAudio, SceneSegment] = ray.get(ref)
        return result
    except ray.exceptions.RayTaskError as exc:
        if isinstance(exc.cause, VividlyError):
            raise exc.cause from None
        raise
