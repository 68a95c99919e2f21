"""Hand-written fakes of our own ports, for unit tests of the pipeline (no Ray, no ffmpeg)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vividly_ray.domain.assessment import Assessment, Decision
from vividly_ray.domain.blobs import BlobInfo
from vividly_ray.domain.errors import BlobNotFound
from vividly_ray.domain.models import (
    DELIVERED_FILES,
    AssembledVideo,
    EncodedNarration,
    ErrorInfo,
    Grade,
    Passage,
    RenderSpec,
    Retrieval,
    RetrievedPassage,
    Scene,
    SceneAudio,
    SceneKind,
    SceneSegment,
    Script,
    SentenceTiming,
    SourceDocument,
    VideoRequest,
)
from vividly_ray.domain.status import RequestStatus, check_transition
from vividly_ray.pipeline.ports import SceneDone

SOURCE = SourceDocument(
    source_id="doc-1",
    title="The Water Cycle",
    subject="science",
    grade_band="3-5",
    license="CC0-1.0",
    attribution="The Water Cycle, test library, CC0",
)


@dataclass
class FakeAssessor:
    decision: Decision = Decision.PROCEED
    questions: tuple[str, ...] = ()

    def assess(self, question: str, grade: Grade) -> Assessment:
        return Assessment(
            decision=self.decision,
            reasons=(f"decided {self.decision}",),
            questions=self.questions,
            topic="water cycle" if self.decision == Decision.PROCEED else "",
        )


@dataclass
class FakeRetriever:
    empty: bool = False

    def retrieve(self, query: str, grade: Grade, limit: int = 12, topic: str = "") -> Retrieval:
        if self.empty:
            return Retrieval(query=query, passages=(), sources=())
        text = " ".join(
            f"Step {n} of the water cycle moves water between the oceans, the air and the land."
            for n in range(12)
        )
        passage = Passage("doc-1#0", "doc-1", SOURCE.title, text)
        return Retrieval(query, (RetrievedPassage(passage, 3.0),), (SOURCE,))


class FakeWriter:
    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str = "") -> Script:
        scenes = tuple(
            Scene(i, kind, f"Scene {i}", ("a point",), (f"Sentence {i}.",), ("doc-1",))
            for i, kind in enumerate(
                (SceneKind.TITLE, SceneKind.CONCEPT, SceneKind.RECAP, SceneKind.CREDITS)
            )
        )
        return Script("The Water Cycle", request.grade, request.minutes * 60, scenes, (SOURCE,))


@dataclass
class SequentialExecutor:
    """Runs scenes one by one in process; ``fail_at`` makes one scene raise."""

    fail_at: int | None = None
    error: Exception | None = None

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        results = []
        for scene in script.scenes:
            if scene.index == self.fail_at and self.error is not None:
                raise self.error
            timing = SentenceTiming(scene.narration[0], 0.4, 1.5)
            audio = SceneAudio(scene.index, f"cache/audio/{scene.index}.wav", 2.0, (timing,), "k")
            segment = SceneSegment(scene.index, f"cache/seg/{scene.index}.mp4", 2.0, "s")
            on_scene_done(audio, segment)
            results.append((audio, segment))
        return results


class FakeAssembler:
    """Writes a stand-in for each delivered file the assembler makes."""

    def assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
        *,
        narration: EncodedNarration | None = None,
    ) -> AssembledVideo:
        names = ("video.mp4", "captions.vtt", "captions.srt", "thumbnail.jpg")
        for name in names:
            (out_dir / name).write_bytes(f"{name} {spec.width}x{spec.height}".encode())
        # Two seconds a scene; the pieces of a scene cut into parts make one chapter.
        indices = list(dict.fromkeys(audio.scene_index for audio, _ in scenes))
        return AssembledVideo(
            video_path=out_dir / names[0],
            vtt_path=out_dir / names[1],
            srt_path=out_dir / names[2],
            thumbnail_path=out_dir / names[3],
            duration=2.0 * len(indices),
            chapters=tuple(
                (script.scenes[i].title, 2.0 * n, 2.0 * n + 2.0) for n, i in enumerate(indices)
            ),
        )


@dataclass
class FakeTracker:
    """Applies the real state machine in memory and records every call."""

    status: RequestStatus = RequestStatus.PENDING
    statuses: list[RequestStatus] = field(default_factory=list)
    progress_values: list[int] = field(default_factory=list)
    error: ErrorInfo | None = None
    details: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: ErrorInfo | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if status != self.status:
            check_transition(self.status, status)
            self.status = status
            self.statuses.append(status)
        if progress is not None:
            self.progress_values.append(progress)
        if error is not None:
            self.error = error
        if details:
            self.details.append(details)

    def progress(
        self,
        request_id: str,
        percentage: int,
        detail: str = "",
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.progress_values.append(percentage)
        if details:
            self.details.append(details)

    def annotate(self, request_id: str, values: dict[str, Any]) -> None:
        self.metadata.update(values)


class MemoryBlobStore:
    """The BlobStore port in memory."""

    def __init__(self) -> None:
        self.blobs: dict[str, tuple[bytes, str]] = {}

    def put_file(self, key: str, source: Path, content_type: str) -> BlobInfo:
        return self.put_bytes(key, Path(source).read_bytes(), content_type)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        self.blobs[key] = (data, content_type)
        return self._info(key)

    def stat(self, key: str) -> BlobInfo | None:
        return self._info(key) if key in self.blobs else None

    def get_file(self, key: str, dest: Path) -> Path:
        dest.write_bytes(self.get_bytes(key))
        return dest

    def get_bytes(self, key: str) -> bytes:
        if key not in self.blobs:
            raise BlobNotFound(key)
        return self.blobs[key][0]

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        yield self.get_bytes(key)[start : end + 1]

    def delete(self, key: str) -> bool:
        return self.blobs.pop(key, None) is not None

    def list_keys(self, prefix: str) -> Iterator[str]:
        yield from [key for key in self.blobs if key.startswith(prefix)]

    def _info(self, key: str) -> BlobInfo:
        data, content_type = self.blobs[key]
        return BlobInfo(key, len(data), str(hash(data)), content_type)


DELIVERED = tuple(DELIVERED_FILES)
