"""The pipeline publishes finished scenes to the progressive stream in order, and never fails
the request over it; the executor sends the first scene first; the playlist text."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import (
    FakeAssembler,
    FakeAssessor,
    FakeRetriever,
    FakeTracker,
    FakeWriter,
    MemoryBlobStore,
)
from vividly_ray.domain.errors import LeaseLost, StageFailed
from vividly_ray.domain.models import (
    Grade,
    RenderSpec,
    Scene,
    SceneAudio,
    SceneKind,
    ScenePart,
    SceneSegment,
    Script,
    SentenceTiming,
    VideoRequest,
    delivered_key,
)
from vividly_ray.domain.status import RequestStatus
from vividly_ray.media.hls import (
    part_key,
    playlist_complete,
    playlist_text,
    rewrite_uris,
    target_duration,
)
from vividly_ray.pipeline.orchestrator import (
    PipelinePorts,
    VideoPipeline,
    _StreamFeed,
    stream_muxers,
)
from vividly_ray.pipeline.ports import SceneDone, SceneExecutor, StreamPart
from vividly_ray.script.pacing import EstimatedPacing

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=1)
DURATIONS = {0: 2.5, 1: 7.25, 2: 3.0, 3: 1.5}


@dataclass
class ShuffledExecutor:
    """Finishes scenes in ``finish_order`` (scene indices), as parallel pools might."""

    finish_order: Sequence[int]

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        by_index = {}
        for scene in script.scenes:
            timing = SentenceTiming(scene.narration[0], 0.1, 0.9)
            duration = DURATIONS[scene.index]
            audio = SceneAudio(scene.index, f"cache/audio/{scene.index}.wav", 1.0, (timing,), "a")
            segment = SceneSegment(scene.index, f"cache/seg/{scene.index}.mp4", duration, "s")
            by_index[scene.index] = (audio, segment)
        for index in self.finish_order:
            on_scene_done(*by_index[index])
        return [by_index[scene.index] for scene in script.scenes]


@dataclass
class MemoryStream:
    """The StreamPublisher port in memory; ``fail_at`` makes that scene's publication raise."""

    fail_at: int | None = None
    error: Exception = field(default_factory=lambda: StageFailed("generating_video", "boom"))
    cpu_per_part: float = 0.0  # what the publisher reports each part cost
    scenes: list[tuple[int, float]] = field(default_factory=list)  # (scene index, start)
    playlists: list[tuple[list[int], bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish_scene(
        self, request_id: str, start: float, audio: SceneAudio, segment: SceneSegment
    ) -> StreamPart:
        if segment.scene_index == self.fail_at:
            raise self.error
        with self.lock:
            self.scenes.append((segment.scene_index, start))
        media = f"videos/{request_id}/stream/scene-{segment.scene_index:03d}.m4s"
        init = f"videos/{request_id}/stream/init-{'0' * 16}.mp4"
        return StreamPart(
            segment.scene_index, media, init, start, segment.duration, self.cpu_per_part
        )

    def publish_playlist(
        self, request_id: str, parts: Sequence[StreamPart], *, complete: bool
    ) -> str:
        with self.lock:
            self.playlists.append(([p.scene_index for p in parts], complete))
        return f"videos/{request_id}/stream.m3u8"


def _run(
    tmp_path: Path,
    stream: MemoryStream,
    finish_order: Sequence[int],
    tracker: FakeTracker | None = None,
    executor: SceneExecutor | None = None,
) -> tuple[FakeTracker, MemoryBlobStore]:
    tracker, blobs = tracker or FakeTracker(), MemoryBlobStore()
    ports = PipelinePorts(
        assessor=FakeAssessor(),
        retriever=FakeRetriever(),
        writer=FakeWriter(),
        executor=executor or ShuffledExecutor(finish_order),
        assembler=FakeAssembler(),
        tracker=tracker,
        blobs=blobs,
        scratch=tmp_path / "scratch",
        pacing=EstimatedPacing(),
        stream=stream,
    )
    VideoPipeline(ports).run("r1", REQUEST)
    return tracker, blobs


def _manifest(tmp_path: Path, stream: MemoryStream) -> dict[str, Any]:
    _, blobs = _run(tmp_path, stream, finish_order=[0, 1, 2, 3])
    found: dict[str, Any] = json.loads(blobs.get_bytes(delivered_key("r1", "manifest.json")))
    return found


def _stream_events(tracker: FakeTracker) -> list[dict[str, object]]:
    return [d for d in tracker.details if "stream_scenes" in d]


def test_scenes_are_published_in_order_whatever_order_they_finish(tmp_path: Path) -> None:
    stream = MemoryStream()
    tracker, _ = _run(tmp_path, stream, finish_order=[2, 0, 3, 1])
    # Parts are made side by side, so in any order; each at its place on the timeline, the sum
    # of the segments before it. The playlist grows in timeline order.
    assert sorted(stream.scenes) == [(0, 0.0), (1, 2.5), (2, 9.75), (3, 12.75)]
    assert stream.playlists == [
        ([0], False),
        ([0, 1], False),
        ([0, 1, 2], False),
        ([0, 1, 2, 3], True),
    ]
    assert tracker.status is RequestStatus.COMPLETED


@dataclass
class PartedExecutor:
    """Cuts scene 1 into three parts (of 3.0, 2.25 and 2.0 s) and finishes the pieces in
    ``finish_order`` ((scene index, first sentence)), as pools spreading the parts might."""

    finish_order: Sequence[tuple[int, int]]

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        pieces: dict[tuple[int, int], tuple[SceneAudio, SceneSegment]] = {}
        for scene in script.scenes:
            cut = (
                [(ScenePart(0, 2, 5), 3.0), (ScenePart(2, 2, 5), 2.25), (ScenePart(4, 1, 5), 2.0)]
                if scene.index == 1
                else [(None, DURATIONS[scene.index])]
            )
            for part, duration in cut:
                first = 0 if part is None else part.first
                name = f"{scene.index}-{first}"
                timing = SentenceTiming(scene.narration[0], 0.1, 0.9)
                audio = SceneAudio(
                    scene.index, f"a/{name}.wav", duration, (timing,), name, part=part
                )
                segment = SceneSegment(scene.index, f"s/{name}.mp4", duration, name, part=part)
                pieces[(scene.index, first)] = (audio, segment)
        for place in self.finish_order:
            on_scene_done(*pieces[place])
        return [pieces[place] for place in sorted(pieces)]


def test_the_parts_of_a_scene_are_published_in_timeline_order(tmp_path: Path) -> None:
    stream = MemoryStream()
    order = [(1, 4), (2, 0), (1, 0), (0, 0), (3, 0), (1, 2)]
    tracker, _ = _run(tmp_path, stream, [], executor=PartedExecutor(order))
    made = sorted(stream.scenes, key=lambda placed: placed[1])
    assert [index for index, _ in made] == [0, 1, 1, 1, 2, 3]
    assert [start for _, start in made] == [0.0, 2.5, 5.5, 7.75, 9.75, 12.75]
    assert [parts for parts, _ in stream.playlists] == [
        [0],
        [0, 1],
        [0, 1, 1],
        [0, 1, 1, 1],
        [0, 1, 1, 1, 2],
        [0, 1, 1, 1, 2, 3],
    ]
    events = _stream_events(tracker)
    # A scene counts as playable once its last part is out; every part counts as a part.
    assert [e["stream_parts"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e["stream_scenes"] for e in events] == [1, 1, 1, 2, 3, 4]
    assert stream.playlists[-1][1] is True
    assert not any(complete for _, complete in stream.playlists[:-1])
    # Progress counts scenes, not pieces: four scenes, reported once each is whole.
    done = [d["scenes_done"] for d in tracker.details if "scenes_done" in d]
    assert done[-1] == 4 and max(done) == 4
    assert tracker.status is RequestStatus.COMPLETED


def test_every_publication_is_a_scene_event_naming_its_blobs(tmp_path: Path) -> None:
    tracker, _ = _run(tmp_path, MemoryStream(), finish_order=[0, 1, 2, 3])
    events = _stream_events(tracker)
    assert [e["stream_scenes"] for e in events] == [1, 2, 3, 4]
    assert all(e["stream_total"] == 4 for e in events)
    blobs = [key for e in events for key in e["blobs"]]  # type: ignore[attr-defined]
    assert "videos/r1/stream/scene-003.m4s" in blobs
    assert "videos/r1/stream.m3u8" in blobs
    # The shared init section is recorded once, with the first scene.
    assert sum(1 for key in blobs if "/init-" in key) == 1
    assert "videos/r1/stream/init-" + "0" * 16 + ".mp4" in events[0]["blobs"]  # type: ignore[operator]


def test_the_first_scene_is_published_before_the_later_scenes_finish(tmp_path: Path) -> None:
    """Scene 0 goes out as soon as it is done, not when generating_video ends."""
    published_when: list[int] = []
    stream = MemoryStream()
    finished = threading.Event()

    @dataclass
    class SlowExecutor(ShuffledExecutor):
        def run(
            self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
        ) -> list[tuple[SceneAudio, SceneSegment]]:
            def done(audio: SceneAudio, segment: SceneSegment) -> None:
                on_scene_done(audio, segment)
                if segment.scene_index == 0:
                    # Wait (bounded) for the stream thread to publish scene 0 meanwhile.
                    for _ in range(200):
                        if stream.scenes:
                            break
                        finished.wait(0.01)
                    published_when.append(len(stream.scenes))

            return super().run(script, spec, done)

    ports = PipelinePorts(
        assessor=FakeAssessor(),
        retriever=FakeRetriever(),
        writer=FakeWriter(),
        executor=SlowExecutor([0, 1, 2, 3]),
        assembler=FakeAssembler(),
        tracker=FakeTracker(),
        blobs=MemoryBlobStore(),
        scratch=tmp_path / "scratch",
        pacing=EstimatedPacing(),
        stream=stream,
    )
    VideoPipeline(ports).run("r1", REQUEST)
    assert published_when == [1]


def test_a_publishing_error_stops_the_stream_but_the_video_is_delivered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stream = MemoryStream(fail_at=1)
    tracker, blobs = _run(tmp_path, stream, finish_order=[0, 1, 2, 3])
    assert tracker.status is RequestStatus.COMPLETED
    assert blobs.stat("videos/r1/video.mp4") is not None
    # Later parts may have been made meanwhile; none is published after the failed one.
    assert stream.playlists == [([0], False)]
    assert [e["stream_scenes"] for e in _stream_events(tracker)] == [1]
    assert "stream publishing failed" in caplog.text


def test_an_unexpected_publishing_error_is_logged_not_raised(tmp_path: Path) -> None:
    stream = MemoryStream(fail_at=0, error=RuntimeError("disk on fire"))
    tracker, _ = _run(tmp_path, stream, finish_order=[3, 2, 1, 0])
    assert tracker.status is RequestStatus.COMPLETED
    assert stream.playlists == [] and _stream_events(tracker) == []


def test_a_lost_lease_stops_the_stream_quietly(tmp_path: Path) -> None:
    stream = MemoryStream(fail_at=2, error=LeaseLost("r1"))
    tracker, _ = _run(tmp_path, stream, finish_order=[0, 1, 2, 3])
    assert stream.playlists == [([0], False), ([0, 1], False)]
    assert tracker.status is RequestStatus.COMPLETED


@dataclass
class MeetingStream(MemoryStream):
    """Scenes 0 and 1 each wait (bounded) until both are being made at once; scene 0 then
    takes longer, so the later part is made first."""

    meeting: threading.Barrier = field(default_factory=lambda: threading.Barrier(2, timeout=10))

    def publish_scene(
        self, request_id: str, start: float, audio: SceneAudio, segment: SceneSegment
    ) -> StreamPart:
        if segment.scene_index in (0, 1):
            self.meeting.wait()  # raises BrokenBarrierError unless both are in flight
            if segment.scene_index == 0:
                threading.Event().wait(0.05)
        return super().publish_scene(request_id, start, audio, segment)


def test_parts_are_made_side_by_side_and_published_in_timeline_order(tmp_path: Path) -> None:
    stream = MeetingStream()
    # Scene 1 finishes first; scene 0 then releases both, and they are made together.
    tracker, _ = _run(tmp_path, stream, finish_order=[1, 0, 2, 3])
    made = [index for index, _ in stream.scenes]
    assert made.index(1) < made.index(0)  # made out of order...
    assert [parts for parts, _ in stream.playlists] == [[0], [0, 1], [0, 1, 2], [0, 1, 2, 3]]
    assert [e["stream_scenes"] for e in _stream_events(tracker)] == [1, 2, 3, 4]


@dataclass
class SlowLastStream(MemoryStream):
    """Takes ``seconds`` to make the last scene's part."""

    seconds: float = 0.3

    def publish_scene(
        self, request_id: str, start: float, audio: SceneAudio, segment: SceneSegment
    ) -> StreamPart:
        if segment.scene_index == 3:
            threading.Event().wait(self.seconds)
        return super().publish_scene(request_id, start, audio, segment)


def test_the_manifest_says_how_long_processing_video_waited_for_the_stream(
    tmp_path: Path,
) -> None:
    manifest = _manifest(tmp_path, SlowLastStream())
    waits = manifest["processing_waits_s"]
    # The last part is made once every piece is done, so processing_video waits for most of it.
    assert waits["stream"] >= 0.15
    assert "narration_track" not in waits  # this pipeline has no narration track
    assert _manifest(tmp_path / "fast", MemoryStream())["processing_waits_s"]["stream"] < 0.15


@pytest.mark.parametrize(("cores", "muxers"), [(1, 2), (2, 2), (5, 2), (8, 4), (16, 8), (64, 8)])
def test_stream_parts_made_at_once_follow_the_usable_cores(
    cores: int, muxers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert stream_muxers() == muxers


def test_an_abandoned_stream_makes_no_more_parts(tmp_path: Path) -> None:
    stream = MemoryStream()
    retrieval = FakeRetriever().retrieve(REQUEST.question, REQUEST.grade)
    feed = _StreamFeed(stream, FakeTracker(), "r1", FakeWriter().write(REQUEST, retrieval))
    feed.abandon()
    audio = SceneAudio(0, "a/0.wav", 1.0, (), "a")
    feed.put(0.0, audio, SceneSegment(0, "s/0.mp4", 1.0, "s"))
    feed.finish(5.0)
    assert stream.scenes == [] and stream.playlists == []


def test_a_resumed_request_publishes_the_whole_stream_again(tmp_path: Path) -> None:
    """After a crash the scenes come back from the cache and the playlist ends complete."""
    stream = MemoryStream()
    tracker = FakeTracker(status=RequestStatus.GENERATING_VIDEO)
    ports = PipelinePorts(
        assessor=FakeAssessor(),
        retriever=FakeRetriever(),
        writer=FakeWriter(),
        executor=ShuffledExecutor([1, 0, 2, 3]),
        assembler=FakeAssembler(),
        tracker=tracker,
        blobs=MemoryBlobStore(),
        scratch=tmp_path / "scratch",
        pacing=EstimatedPacing(),
        stream=stream,
    )
    VideoPipeline(ports).run("r1", REQUEST, resume_from=RequestStatus.GENERATING_VIDEO)
    assert stream.playlists[-1] == ([0, 1, 2, 3], True)


# -- the executor's order ------------------------------------------------------------------


def _scene(index: int, words: int) -> Scene:
    return Scene(index, SceneKind.CONCEPT, f"S{index}", ("b",), (" ".join(["word"] * words),))


def test_the_first_scene_is_sent_first_then_the_longest() -> None:
    scene_executor = pytest.importorskip("actors.scene_executor")
    scenes = [_scene(0, 3), _scene(1, 10), _scene(2, 40), _scene(3, 20), _scene(4, 40)]
    pieces = [(scene, None) for scene in scenes]
    order = [s.index for s, _ in scene_executor.dispatch_order(pieces, Grade(6))]
    assert order == [0, 2, 4, 3, 1]
    assert scene_executor.dispatch_order([], Grade(6)) == []


def test_the_first_scenes_parts_go_first_in_order_then_the_longest_pieces() -> None:
    scene_executor = pytest.importorskip("actors.scene_executor")
    opening = Scene(0, SceneKind.TITLE, "T", (), ("One two three.", "Four five six seven."))
    long_one = Scene(1, SceneKind.CONCEPT, "L", ("b",), tuple(["word " * 30 + "end."] * 2))
    pieces = [
        (opening, ScenePart(0, 1, 2)),
        (opening, ScenePart(1, 1, 2)),
        (_scene(2, 5), None),
        (long_one, ScenePart(0, 1, 2)),
        (long_one, ScenePart(1, 1, 2)),
    ]
    order = scene_executor.dispatch_order(pieces, Grade(6))
    placed = [(s.index, 0 if p is None else p.first) for s, p in order]
    # The opening's parts first and in order; then the long scene's two equal parts (in
    # timeline order), then the short scene.
    assert placed == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0)]


# -- the playlist text -----------------------------------------------------------------------


def _part(index: int, duration: float, init: str = "a" * 16) -> StreamPart:
    return StreamPart(
        index,
        part_key("r", f"scene-{index:03d}.m4s"),
        part_key("r", f"init-{init}.mp4"),
        0,
        duration,
    )


def test_a_growing_playlist_is_an_event_playlist_without_an_end() -> None:
    text = playlist_text([_part(0, 2.000011), _part(1, 9.5)], complete=False)
    assert text.splitlines() == [
        "#EXTM3U",
        "#EXT-X-VERSION:6",
        "#EXT-X-TARGETDURATION:10",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="stream/init-{"a" * 16}.mp4"',
        "#EXTINF:2.000011,",
        "stream/scene-000.m4s",
        "#EXTINF:9.500000,",
        "stream/scene-001.m4s",
    ]
    assert not playlist_complete(text)
    assert playlist_complete(playlist_text([_part(0, 2.0)], complete=True))


def test_target_duration_is_the_ceiling_of_the_longest_part() -> None:
    assert target_duration([_part(0, 4.0), _part(1, 4.000011)]) == 5
    assert target_duration([_part(0, 6.0)]) == 6
    assert target_duration([_part(0, 0.2)]) == 1


def test_a_different_init_section_starts_a_discontinuity_with_its_map() -> None:
    parts = [_part(0, 2.0), _part(1, 2.0, "b" * 16), _part(2, 2.0, "b" * 16)]
    lines = playlist_text(parts, complete=True).splitlines()
    at = lines.index("#EXT-X-DISCONTINUITY")
    assert lines[at + 1] == f'#EXT-X-MAP:URI="stream/init-{"b" * 16}.mp4"'
    assert lines[at + 3] == "stream/scene-001.m4s"
    assert lines.count("#EXT-X-DISCONTINUITY") == 1
    assert lines[-1] == "#EXT-X-ENDLIST"


def test_rewriting_uris_reaches_segments_and_maps_only() -> None:
    text = playlist_text([_part(0, 2.0)], complete=True)
    signed = rewrite_uris(text, lambda uri: uri + "?sig=1")
    assert f'URI="stream/init-{"a" * 16}.mp4?sig=1"' in signed
    assert "stream/scene-000.m4s?sig=1" in signed.splitlines()
    assert "#EXTINF:2.000000," in signed.splitlines()


def test_part_names_outside_the_stream_layout_are_refused() -> None:
    for name in ("../video.mp4", "scene-1.m4s", "init-xyz.mp4", "stream.m3u8"):
        with pytest.raises(ValueError, match="not a stream part name"):
            part_key("r", name)


# -- the benchmark's figure ------------------------------------------------------------------


def test_time_to_first_playable_scene_runs_from_generating_video_to_the_first_publication() -> None:
    from datetime import datetime, timedelta

    from benchmarks.pipeline import first_stream_scene_s
    from vividly_ray.persistence.records import EventRecord

    t0 = datetime(2026, 1, 1, 12, 0, 0)

    def event(kind: str, status: RequestStatus, seconds: float, **details: object) -> EventRecord:
        return EventRecord(0, kind, status, 0, "", dict(details), t0 + timedelta(seconds=seconds))

    video = RequestStatus.GENERATING_VIDEO
    events = [
        event("status", RequestStatus.GENERATING_SCRIPT, 0.0),
        event("status", video, 1.0),
        event("scene", video, 1.8, scenes_done=1, scenes_total=4),
        event("scene", video, 2.25, stream_scenes=1, stream_total=4),
        event("scene", video, 3.0, stream_scenes=2, stream_total=4),
    ]
    assert first_stream_scene_s(events) == 1.25
    assert first_stream_scene_s(events[:3]) is None


def test_the_streams_cpu_counts_to_generating_video(tmp_path: Path) -> None:
    plain = _manifest(tmp_path / "a", MemoryStream())["cost"]["cpu_seconds_by_stage"]
    costly = _manifest(tmp_path / "b", MemoryStream(cpu_per_part=0.25))["cost"]
    # Four scenes published whole, each reported at 0.25 CPU-seconds.
    extra = costly["cpu_seconds_by_stage"]["generating_video"] - plain["generating_video"]
    assert extra == pytest.approx(1.0, abs=0.002)
