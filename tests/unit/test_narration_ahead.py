"""The pipeline feeds the narration track its pieces in timeline order as they finish, hands
the assembler what the track encoded, and always lets the track go (so no encode outlives its
request)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fakes import (
    FakeAssembler,
    FakeAssessor,
    FakeRetriever,
    FakeTracker,
    FakeWriter,
    MemoryBlobStore,
)
from tests.unit.test_hls_progressive import DURATIONS, REQUEST, ShuffledExecutor
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    AssembledVideo,
    EncodedNarration,
    RenderSpec,
    SceneAudio,
    SceneSegment,
    Script,
    delivered_key,
)
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
from vividly_ray.pipeline.ports import SceneDone
from vividly_ray.script.pacing import EstimatedPacing


@dataclass
class RecordingTrack:
    """The NarrationTrack port in memory: records what it is given and when it is let go."""

    result: EncodedNarration | None
    added: list[tuple[int, float]] = field(default_factory=list)  # (scene index, slot)
    finished: list[float] = field(default_factory=list)
    abandoned: int = 0

    def add(self, audio: SceneAudio, segment: SceneSegment) -> None:
        assert not self.finished, "a piece arrived after the track was finished"
        self.added.append((segment.scene_index, segment.duration))

    def finish(self, timeout: float) -> EncodedNarration | None:
        self.finished.append(timeout)
        return self.result

    def abandon(self) -> None:
        self.abandoned += 1


@dataclass
class RecordingEncoder:
    result: EncodedNarration | None = None
    tracks: list[RecordingTrack] = field(default_factory=list)

    def start(self) -> RecordingTrack:
        self.tracks.append(RecordingTrack(self.result))
        return self.tracks[-1]


@dataclass
class RecordingAssembler(FakeAssembler):
    given: list[EncodedNarration | None] = field(default_factory=list)

    def assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
        *,
        narration: EncodedNarration | None = None,
    ) -> AssembledVideo:
        self.given.append(narration)
        return super().assemble(script, scenes, spec, out_dir)


@dataclass
class FailingExecutor:
    """Finishes the first scene, then fails, as a pool that lost its replicas would."""

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        ShuffledExecutor([]).run(script, spec, lambda a, s: None)
        audio = SceneAudio(0, "cache/audio/0.wav", 1.0, (), "a")
        on_scene_done(audio, SceneSegment(0, "cache/seg/0.mp4", DURATIONS[0], "s"))
        raise StageFailed("generating_video", "every Narrator replica is gone")


def _pipeline(
    tmp_path: Path, encoder: RecordingEncoder, assembler: FakeAssembler, executor: object
) -> VideoPipeline:
    ports = PipelinePorts(
        assessor=FakeAssessor(),
        retriever=FakeRetriever(),
        writer=FakeWriter(),
        executor=executor,  # type: ignore[arg-type]
        assembler=assembler,
        tracker=FakeTracker(),
        blobs=MemoryBlobStore(),
        scratch=tmp_path / "scratch",
        pacing=EstimatedPacing(),
        narration=encoder,
    )
    return VideoPipeline(ports)


def test_pieces_reach_the_track_in_timeline_order_and_its_encode_reaches_the_assembler(
    tmp_path: Path,
) -> None:
    encoded = EncodedNarration(tmp_path / "narration.m4a", (("w", "c", 1.0),), 0.5)
    encoder, assembler = RecordingEncoder(encoded), RecordingAssembler()
    pipeline = _pipeline(tmp_path, encoder, assembler, ShuffledExecutor([2, 0, 3, 1]))
    pipeline.run("r1", REQUEST)

    (track,) = encoder.tracks
    assert track.added == [(i, DURATIONS[i]) for i in range(4)]
    assert len(track.finished) == 1 and track.finished[0] > 0
    assert assembler.given == [encoded]
    assert track.abandoned == 1  # its files go once the video is delivered
    # The manifest records how long processing_video waited for the track to close.
    manifest = json.loads(pipeline._ports.blobs.get_bytes(delivered_key("r1", "manifest.json")))
    assert set(manifest["processing_waits_s"]) == {"narration_track"}


def test_a_track_with_nothing_encoded_leaves_the_assembler_to_encode(tmp_path: Path) -> None:
    encoder, assembler = RecordingEncoder(None), RecordingAssembler()
    _pipeline(tmp_path, encoder, assembler, ShuffledExecutor([0, 1, 2, 3])).run("r1", REQUEST)
    assert assembler.given == [None]


def test_a_failed_render_lets_the_track_go_without_finishing_it(tmp_path: Path) -> None:
    encoder, assembler = RecordingEncoder(None), RecordingAssembler()
    with pytest.raises(StageFailed, match="Narrator replica is gone"):
        _pipeline(tmp_path, encoder, assembler, FailingExecutor()).run("r1", REQUEST)
    (track,) = encoder.tracks
    assert track.added == [(0, DURATIONS[0])]
    assert track.finished == [] and track.abandoned == 1
    assert assembler.given == []


def test_without_the_port_the_assembler_gets_no_narration(tmp_path: Path) -> None:
    assembler = RecordingAssembler()
    ports = PipelinePorts(
        assessor=FakeAssessor(),
        retriever=FakeRetriever(),
        writer=FakeWriter(),
        executor=ShuffledExecutor([1, 0, 2, 3]),
        assembler=assembler,
        tracker=FakeTracker(),
        blobs=MemoryBlobStore(),
        scratch=tmp_path / "scratch",
        pacing=EstimatedPacing(),
    )
    VideoPipeline(ports).run("r1", REQUEST)
    assert assembler.given == [None]
