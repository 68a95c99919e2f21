"""The scene pools: narrator and script-writer deployments, and the stateless encode task.

Each replica builds its adapter once, through the composition root, and delegates to it.
"""

from __future__ import annotations

import ray
from ray import serve

from vividly_ray.bootstrap import build_encoder, build_library, build_narrator, build_writer
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
        self._narrator.warm_up()

    def narrate(self, scene: Scene, grade: Grade) -> SceneAudio:
        return self._narrator.narrate(scene, grade)


@serve.deployment(name="ScriptWriter")
class ScriptWriterPool:
    """The offline grounded writer, with the library loaded once per replica."""

    def __init__(self) -> None:
        self._writer = build_writer(build_library(load_settings()))

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        return self._writer.write(request, retrieval, topic)


@ray.remote(max_retries=2)
def encode_scene(spec: RenderSpec, threads: int, scene: Scene, audio: SceneAudio) -> SceneSegment:
    """Draw and encode one scene; it can run on any node (inputs and output are blobs)."""
    return build_encoder(load_settings(), spec, threads).encode(scene, audio)
