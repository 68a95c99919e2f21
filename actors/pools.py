"""Ray pools for per-scene work: narrator actors (voice loaded once) and encode tasks."""

from __future__ import annotations

from pathlib import Path

import ray

from vividly_ray.domain.models import Grade, RenderSpec, Scene, SceneAudio, SceneSegment
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.speech.piper_narrator import PiperNarrator
from vividly_ray.storage.cache import ContentCache


@ray.remote
class NarratorActor:
    """Holds one loaded Piper voice limited to its share of the cores."""

    def __init__(self, cache_root: str, threads: int) -> None:
        self._narrator = PiperNarrator(ContentCache(Path(cache_root)), threads=threads)

    def warm_up(self) -> bool:
        self._narrator.warm_up()
        return True

    def narrate(self, scene: Scene, grade: Grade) -> SceneAudio:
        return self._narrator.narrate(scene, grade)


@ray.remote
def encode_scene(
    spec: RenderSpec,
    cache_root: str,
    work_dir: str,
    threads: int,
    scene: Scene,
    audio: SceneAudio,
) -> tuple[SceneAudio, SceneSegment]:
    """Draw and encode one scene; Ray runs it as soon as ``audio`` (an ObjectRef) resolves."""
    encoder = FfmpegSegmentEncoder(spec, ContentCache(Path(cache_root)), Path(work_dir), threads)
    return audio, encoder.encode(scene, audio)
