"""InProcessSceneExecutor: every scene narrated, then every scene encoded, in one process.

The stage-by-stage way, with a barrier between narration and encoding. The benchmark runs it as
the baseline for the Ray executor; it is also handy for debugging a single scene.
"""

from __future__ import annotations

from vividly_ray.domain.models import SceneAudio, SceneSegment, Script
from vividly_ray.pipeline.ports import Narrator, SceneDone, SegmentEncoder


class InProcessSceneExecutor:
    def __init__(self, narrator: Narrator, encoder: SegmentEncoder) -> None:
        self._narrator = narrator
        self._encoder = encoder

    def run(
        self, script: Script, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        audios = [self._narrator.narrate(scene, script.grade) for scene in script.scenes]
        results = []
        for scene, audio in zip(script.scenes, audios, strict=True):
            segment = self._encoder.encode(scene, audio)
            on_scene_done(audio, segment)
            results.append((audio, segment))
        return results
