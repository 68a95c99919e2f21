"""The scene pools: narrator, segment-encoder and script-writer deployments.

Each replica builds its adapter once, through the composition root, and delegates to it.
"""

from __future__ import annotations

from ray import serve

from vividly_ray.bootstrap import (
    build_encoder,
    build_library,
    build_narrator,
    build_writer,
    warm_up,
)
from vividly_ray.domain.models import (
    Grade,
    RenderSpec,
    Retrieval,
    Scene,
    SceneAudio,
    SceneSegment,
    Script,
    VideoRequest,
)
from vividly_ray.settings import load_settings


@serve.deployment(name="Narrator")
class NarratorPool:
    """Holds one loaded Piper voice, limited to its share of the cores."""

    def __init__(self, threads: int) -> None:
        self._narrator = build_narrator(load_settings(), threads=threads)
        warm_up(self._narrator)

    def narrate(self, scene: Scene, grade: Grade) -> SceneAudio:
        return self._narrator.narrate(scene, grade)


@serve.deployment(name="ScriptWriter")
class ScriptWriterPool:
    """The offline grounded writer, with the library loaded once per replica."""

    def __init__(self) -> None:
        self._writer = build_writer(build_library(load_settings()))

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        return self._writer.write(request, retrieval, topic)


@serve.deployment(name="SegmentEncoder")
class SegmentEncoderPool:
    """Draws and encodes one scene at a time; any replica on any node (inputs and output are
    blobs). Warm replicas, rather than a task per scene, spare each scene a worker start-up."""

    def __init__(self, threads: int) -> None:
        self._settings = load_settings()
        self._threads = threads

    def encode(self, spec: RenderSpec, scene: Scene, audio: SceneAudio) -> SceneSegment:
        return build_encoder(self._settings, spec, self._threads).encode(scene, audio)
