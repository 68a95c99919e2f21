"""InProcessSceneExecutor: every scene narrated, then every scene encoded, in one process.

The stage-by-stage way, with a barrier between narration and encoding. The benchmark runs it as
the baseline for the Ray executor; it is also handy for debugging a single scene.
"""

from __future__ import annotations

from collections.abc import Callable

from vividly_ray.domain.models import RenderSpec, SceneAudio, SceneSegment, Script
from vividly_ray.pipeline.ports import Narrator, SceneDone, SegmentEncoder


class InProcessSceneExecutor:
    """``encoders`` builds the encoder for a render spec (the composition root's builder)."""

    def __init__(
        self, narrator: Narrator, encoders: Callable[[RenderSpec], SegmentEncoder]
    ) -> None:
        self._narrator = narrator
        self._encoders = encoders

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        encoder = self._encoders(spec)
        audios = [self._narrator.narrate(scene, script.grade) for scene in script.scenes]
        results = []
        for scene, audio in zip(script.scenes, audios, strict=True):
            segment = encoder.encode(scene, audio)
            on_scene_done(audio, segment)
            results.append((audio, segment))
        return results
