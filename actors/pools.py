"""The scene pools: narrator, segment-encoder and script-writer deployments.

Each replica builds its adapter once, through the composition root, and delegates to it. The
scene pools stamp what they return with their node's id, so a request's manifest shows which
node narrated and which encoded each scene.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import ray
from ray import serve

from actors.errors import unwrapped
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
    ScenePart,
    SceneSegment,
    Script,
    TaskSpan,
    VideoRequest,
)
from vividly_ray.pipeline.ports import ScriptWriter
from vividly_ray.script.llm.tasks import SceneDraft, SceneTask
from vividly_ray.settings import load_settings
from vividly_ray.storage.cache import content_key


@serve.deployment(name="Narrator")
class NarratorPool:
    """Holds one loaded Piper voice, limited to its share of the cores."""

    def __init__(self, threads: int) -> None:
        self._narrator = build_narrator(load_settings(), threads=threads)
        self._node_id = this_node_id()
        warm_up(self._narrator)

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        started = time.time()
        audio = self._narrator.narrate(scene, grade, part)
        span = TaskSpan(worker_name("Narrator", self._node_id), started, time.time())
        return dataclasses.replace(audio, node_id=self._node_id, span=span)


def this_node_id() -> str:
    """The id of the Ray node this replica runs on (as ``ray.util.state`` reports it)."""
    node_id: str = ray.get_runtime_context().get_node_id()
    return node_id


def worker_name(pool: str, node_id: str) -> str:
    """A replica's name in a task span: its pool, its node and its process."""
    return f"{pool} {node_id[:6]}:{os.getpid()}"


class ServeSceneRunner:
    """Sends each scene task of a script to the SceneWriter pool, all at once, so the scenes of
    one script are written in parallel on every replica; drafts come back in task order."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle

    def run(self, tasks: Sequence[SceneTask]) -> list[SceneDraft]:
        responses = [self._handle.write_scene.remote(task) for task in tasks]
        drafts: list[SceneDraft] = [
            unwrapped(response.result, "generating_script") for response in responses
        ]
        return drafts


# Identity and delivery fields of a request, which no script writer reads.
_NOT_WRITTEN_FROM = ("student_id", "organization_id", "correlation_id", "callback_url")


class RepeatWriter:
    """A deterministic writer (the offline one) with its latest scripts kept in memory: the same
    request with the same passages and topic gets the script it got before, at no cost.

    Only for writers whose script is a function of those inputs: a model's answer differs from
    call to call, so a model-backed writer is never wrapped.
    """

    def __init__(self, writer: ScriptWriter, size: int = 32) -> None:
        self._writer = writer
        self._size = size
        self._scripts: OrderedDict[str, Script] = OrderedDict()

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        started = time.thread_time()
        fields = dataclasses.asdict(request)
        for name in _NOT_WRITTEN_FROM:
            fields.pop(name, None)
        key = content_key("script", fields, dataclasses.asdict(retrieval), topic)
        script = self._scripts.get(key)
        if script is None:
            script = self._writer.write(request, retrieval, topic)
            self._scripts[key] = script
            if len(self._scripts) > self._size:
                self._scripts.popitem(last=False)
            return script
        self._scripts.move_to_end(key)
        # Reused: the work it reports is this lookup's, not the first writing's.
        spent = max(time.thread_time() - started, 1e-6)
        return dataclasses.replace(
            script, usage=dataclasses.replace(script.usage, cpu_seconds=spent)
        )


@serve.deployment(name="ScriptWriter")
class ScriptWriterPool:
    """The configured script writer, with the library loaded once per replica.

    With a model-backed writer, ``scene_writers`` is the SceneWriter pool (this same class,
    deployed under another name without one): this replica plans the outline and the pool
    writes the scenes. Scenes go to a separate deployment so that a replica busy planning can
    never wait on a scene queued behind itself.
    """

    def __init__(self, scene_writers: Any = None) -> None:
        settings = load_settings()
        runner = ServeSceneRunner(scene_writers) if scene_writers is not None else None
        self._writer: ScriptWriter = build_writer(settings, build_library(settings), runner)
        if settings.script_writer == "offline":
            self._writer = RepeatWriter(self._writer)

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        # Serve runs each call on a thread of its own, so this thread's CPU is this script's.
        started = time.thread_time()
        script = self._writer.write(request, retrieval, topic)
        if script.usage.cpu_seconds:
            return script  # a reused script reports its lookup
        spent = max(time.thread_time() - started, 1e-6)
        return dataclasses.replace(
            script, usage=dataclasses.replace(script.usage, cpu_seconds=spent)
        )

    def write_scene(self, task: SceneTask) -> SceneDraft:
        write_scene = getattr(self._writer, "write_scene", None)
        if write_scene is None:
            raise RuntimeError("the offline writer writes whole scripts, not scene tasks")
        draft: SceneDraft = write_scene(task)
        return draft


@serve.deployment(name="SegmentEncoder")
class SegmentEncoderPool:
    """Draws and encodes one scene (or part of one) at a time; any replica on any node (inputs
    and output are blobs). Warm replicas, rather than a task per scene, spare each scene a
    worker start-up."""

    def __init__(self, threads: int) -> None:
        self._settings = load_settings()
        self._threads = threads
        self._node_id = this_node_id()

    def encode(self, spec: RenderSpec, scene: Scene, audio: SceneAudio) -> SceneSegment:
        started = time.time()
        segment = build_encoder(self._settings, spec, self._threads).encode(scene, audio)
        span = TaskSpan(worker_name("SegmentEncoder", self._node_id), started, time.time())
        return dataclasses.replace(segment, node_id=self._node_id, span=span)
