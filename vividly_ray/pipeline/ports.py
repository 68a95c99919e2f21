"""Ports: the small interfaces the pipeline depends on. Adapters implement them; tests fake them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from vividly_ray.domain.models import (
    Grade,
    Retrieval,
    Scene,
    SceneAudio,
    SceneSegment,
    Script,
    VideoRequest,
)
from vividly_ray.domain.status import RequestStatus
from vividly_ray.media.assemble import AssembledVideo
from vividly_ray.validation.assess import Assessment


class Retriever(Protocol):
    """Finds ranked passages for a question in the OER library."""

    def retrieve(
        self, query: str, grade: Grade, limit: int = 12, topic: str = ""
    ) -> Retrieval: ...


class ScriptWriter(Protocol):
    """Writes a grounded scene plan paced to the requested minutes."""

    def write(self, request: VideoRequest, retrieval: Retrieval) -> Script: ...


class Narrator(Protocol):
    """Speaks one scene's narration and reports exact sentence timings."""

    def narrate(self, scene: Scene, grade: Grade) -> SceneAudio: ...


class SegmentEncoder(Protocol):
    """Draws one scene's slides in step with its narration and encodes a video segment."""

    def encode(self, scene: Scene, audio: SceneAudio) -> SceneSegment: ...


SceneDone = Callable[[SceneAudio, SceneSegment], None]


class SceneExecutor(Protocol):
    """Runs narration then encoding for every scene, in parallel where it can.

    A scene's encode starts as soon as its own audio exists. ``on_scene_done`` is called once
    per finished scene, in completion order. Results come back in scene order.
    """

    def run(
        self, script: Script, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]: ...


class StatusTracker(Protocol):
    """Persists a request's status, progress and events (the database is the source of truth)."""

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: str | None = None,
    ) -> object: ...

    def progress(self, request_id: str, percentage: int, detail: str = "") -> object: ...


class QuestionAssessor(Protocol):
    """Decides whether a question proceeds, needs clarification or is refused."""

    def assess(self, question: str, grade: Grade) -> Assessment: ...


class Assembler(Protocol):
    """Joins scene segments into the delivered video with captions, chapters and a thumbnail."""

    def assemble(
        self, script: Script, scenes: Sequence[tuple[SceneAudio, SceneSegment]], out_dir: Path
    ) -> AssembledVideo: ...


class PipelineListener(Protocol):
    """Live view of a running request (a progress bar, an event stream)."""

    def stage(self, status: RequestStatus) -> None: ...

    def scenes(self, done: int, total: int) -> None: ...


class SilentListener:
    def stage(self, status: RequestStatus) -> None:
        pass

    def scenes(self, done: int, total: int) -> None:
        pass
