"""Ports: the small interfaces the pipeline depends on. Adapters implement them; tests fake them.

Every type here comes from ``vividly_ray.domain``; a unit test keeps it that way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from vividly_ray.domain.assessment import Assessment
from vividly_ray.domain.blobs import BlobInfo, BlobStore
from vividly_ray.domain.models import (
    AssembledVideo,
    EncodedNarration,
    ErrorInfo,
    Grade,
    RenderSpec,
    Retrieval,
    Scene,
    SceneAudio,
    ScenePart,
    SceneSegment,
    Script,
    VideoRequest,
)
from vividly_ray.domain.status import RequestStatus

__all__ = [
    "Assembler",
    "BlobInfo",
    "BlobStore",
    "Narrator",
    "PipelineListener",
    "QuestionAssessor",
    "Retriever",
    "SceneDone",
    "SceneExecutor",
    "ScriptWriter",
    "SegmentEncoder",
    "SilentListener",
    "SpeechPacing",
    "StatusTracker",
    "StreamPart",
    "StreamPublisher",
]


class QuestionAssessor(Protocol):
    """Decides whether a question proceeds, needs clarification or is refused."""

    def assess(self, question: str, grade: Grade) -> Assessment: ...


class Retriever(Protocol):
    """Finds ranked passages for a question in the OER library."""

    def retrieve(self, query: str, grade: Grade, limit: int = 12, topic: str = "") -> Retrieval: ...


class SpeechPacing(Protocol):
    """How long a text takes to narrate for a grade (the voice's measured speaking rate)."""

    def seconds(self, text: str, grade: Grade) -> float: ...


class ScriptWriter(Protocol):
    """Writes a grounded scene plan paced to the requested minutes.

    ``topic`` is the validator's topic; ``retrieval`` carries the query retrieval searched with.
    """

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script: ...


class Narrator(Protocol):
    """Speaks one scene's narration (or one part of it) and reports exact sentence timings.

    With a ``part``, only its sentences are spoken, laid out as they sit in the whole scene
    (``speech.timing.part_edges``), so the parts' audio joined is the whole scene's.
    """

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio: ...


class SegmentEncoder(Protocol):
    """Draws one scene's slides in step with its narration and encodes a video segment.

    For audio of one part of a scene, the segment shows that part only: the slide as it stands
    when the part starts, and the reveals that fall within it.
    """

    def encode(self, scene: Scene, audio: SceneAudio) -> SceneSegment: ...


SceneDone = Callable[[SceneAudio, SceneSegment], None]


class SceneExecutor(Protocol):
    """Runs narration then encoding for every scene, in parallel where it can.

    An executor may cut a long scene into parts (``ScenePart``), each narrated and encoded as
    its own piece. A piece's encode starts as soon as its own audio exists. ``on_scene_done``
    is called once per finished piece, in completion order; if it raises, the remaining work is
    cancelled. Results come back in timeline order: by scene, and a scene's parts in order.
    """

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]: ...


class Assembler(Protocol):
    """Joins scene segments into the delivered video with captions, chapters and a thumbnail.

    ``narration``, when given, is the track already encoded from exactly these pieces; an
    assembler that cannot use it (other pieces, a file gone) encodes the narration itself.
    """

    def assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
        *,
        narration: EncodedNarration | None = None,
    ) -> AssembledVideo: ...


class NarrationTrack(Protocol):
    """One request's narration, encoded as its pieces finish.

    ``add`` takes the pieces in timeline order and never blocks on the encode; ``finish``
    waits (at most ``timeout`` seconds) for the encode and returns it, or None when there is
    nothing to use (no piece needed encoding, or the encode failed: the assembler then encodes
    the narration itself). ``abandon`` stops any encode and removes its files; it is always
    called once the request is done with the track.
    """

    def add(self, audio: SceneAudio, segment: SceneSegment) -> None: ...

    def finish(self, timeout: float) -> EncodedNarration | None: ...

    def abandon(self) -> None: ...


class NarrationEncoder(Protocol):
    """Starts a progressive narration track for a request."""

    def start(self) -> NarrationTrack: ...


class StatusTracker(Protocol):
    """Persists a request's status, progress and events (the database is the source of truth)."""

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: ErrorInfo | None = None,
        details: dict[str, Any] | None = None,
    ) -> object: ...

    def progress(
        self,
        request_id: str,
        percentage: int,
        detail: str = "",
        *,
        details: dict[str, Any] | None = None,
    ) -> object: ...

    def annotate(self, request_id: str, values: dict[str, Any]) -> object:
        """Store results on the request (title, files, stage times)."""
        ...


@dataclass(frozen=True)
class StreamPart:
    """One scene published to a request's progressive stream.

    ``init_key`` names the initialisation section the media needs (scenes whose initialisation
    bytes are identical share one key); ``start`` and ``duration`` place it on the video's
    timeline, which is the delivered MP4's timeline too. ``cpu_seconds`` is what making it
    cost (0 when it came from the cache).
    """

    scene_index: int
    media_key: str
    init_key: str
    start: float
    duration: float
    cpu_seconds: float = 0.0


class StreamPublisher(Protocol):
    """Publishes finished scenes as a growing stream (HLS) that players follow while it renders.

    The pipeline calls ``publish_scene`` for each piece once its place on the timeline is known,
    several at once from different threads (so an implementation must be thread-safe), and
    ``publish_playlist`` in timeline order with every part so far; ``complete`` marks the last
    one. Both only write blobs, so a reader on any node sees the stream grow; a part made but
    not yet in the playlist is never seen.
    """

    def publish_scene(
        self, request_id: str, start: float, audio: SceneAudio, segment: SceneSegment
    ) -> StreamPart: ...

    def publish_playlist(
        self, request_id: str, parts: Sequence[StreamPart], *, complete: bool
    ) -> str:
        """Write the playlist naming ``parts``; returns its blob key."""
        ...


class PipelineListener(Protocol):
    """Live view of a running request in this process (used by benchmarks and tests)."""

    def stage(self, status: RequestStatus) -> None: ...

    def scenes(self, done: int, total: int) -> None: ...


class SilentListener:
    def stage(self, status: RequestStatus) -> None:
        pass

    def scenes(self, done: int, total: int) -> None:
        pass
