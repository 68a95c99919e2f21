"""A scene cut into parts, encoded and joined by the real ffmpeg, is the same video as the scene
made whole: the same length, the same chapters and captions, the same slide on screen at every
moment, every frame decodable, and the stream of its parts as long as the MP4."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from vividly_ray.domain.models import (
    AssembledVideo,
    Grade,
    RenderSpec,
    Scene,
    SceneAudio,
    SceneKind,
    ScenePart,
    SceneSegment,
    Script,
)
from vividly_ray.media.assemble import VideoAssembler
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.media.hls import BlobHlsPublisher
from vividly_ray.speech.parts import script_pieces
from vividly_ray.speech.silent_narrator import SilentNarrator
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

SPEC = RenderSpec(width=640, height=360)
GRADE = Grade(6)
SCENES = (
    Scene(0, SceneKind.TITLE, "How Clouds Form", ("Grade 6 science",), ("How clouds form.",)),
    Scene(
        1,
        SceneKind.CONCEPT,
        "Evaporation and Condensation",
        ("The sun warms water", "Vapour rises", "Vapour cools", "Droplets make clouds"),
        (
            "The sun warms the water in oceans, lakes and rivers every day.",
            "Some of that water turns into an invisible gas called water vapour.",
            "The warm vapour rises high into the sky with the moving air.",
            "High above the ground the air is cold, so the vapour cools down.",
            "Cool vapour condenses into tiny droplets of liquid water.",
            "Billions of these droplets together make the clouds we see.",
        ),
        reveal_at=(0, 1, 3, 4),
    ),
    Scene(2, SceneKind.RECAP, "What We Learned", ("Water rises and cools",), ("That is all.",)),
)
SCRIPT = Script("How Clouds Form", GRADE, 30.0, SCENES, ())


@dataclass
class Made:
    pieces: list[tuple[SceneAudio, SceneSegment]]
    video: AssembledVideo
    store: LocalBlobStore


def _make(root: Path, max_seconds: float) -> Made:
    store = LocalBlobStore(root / "blobs")
    cache = ContentCache(store, root / "tmp")
    narrator = SilentNarrator(cache)
    encoder = FfmpegSegmentEncoder(SPEC, cache, root / "work")
    pieces = []
    for scene, part in script_pieces(SCENES, GRADE, max_seconds, max_seconds):
        audio = narrator.narrate(scene, GRADE, part)
        pieces.append((audio, encoder.encode(scene, audio)))
    video = VideoAssembler(store, root / "work").assemble(SCRIPT, pieces, SPEC, root / "out")
    return Made(pieces, video, store)


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Made:
    return _make(tmp_path_factory.mktemp("whole"), max_seconds=60.0)


@pytest.fixture(scope="module")
def parted(tmp_path_factory: pytest.TempPathFactory) -> Made:
    return _make(tmp_path_factory.mktemp("parted"), max_seconds=6.0)


def test_the_long_scene_was_cut_and_the_short_ones_were_not(whole: Made, parted: Made) -> None:
    assert all(audio.part is None for audio, _ in whole.pieces)
    parts = [audio.part for audio, _ in parted.pieces if audio.scene_index == 1]
    assert len(parts) >= 3 and all(isinstance(p, ScenePart) for p in parts)
    assert [audio.part for audio, _ in parted.pieces if audio.scene_index != 1] == [None, None]


def test_the_joined_parts_last_as_long_as_the_whole_scene(whole: Made, parted: Made) -> None:
    assert parted.video.duration == pytest.approx(whole.video.duration, abs=0.01)


def test_a_scene_cut_into_parts_is_still_one_chapter(whole: Made, parted: Made) -> None:
    with av.open(str(parted.video.video_path)) as container:
        chapters = container.chapters()
    assert [c["metadata"]["title"] for c in chapters] == [s.title for s in SCENES]
    assert [c[0] for c in parted.video.chapters] == [c[0] for c in whole.video.chapters]
    for got, want in zip(parted.video.chapters, whole.video.chapters, strict=True):
        assert got[1:] == pytest.approx(want[1:], abs=0.01)


def test_captions_are_the_same_cues_at_the_same_times(whole: Made, parted: Made) -> None:
    def cues(video: AssembledVideo) -> list[str]:
        return [b for b in video.vtt_path.read_text("utf-8").split("\n\n")[1:] if b.strip()]

    got, want = cues(parted.video), cues(whole.video)
    assert len(got) == len(want) > 6
    assert [c.split("\n", 1)[1] for c in got] == [c.split("\n", 1)[1] for c in want]

    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    for a, b in zip(got, want, strict=True):
        (a_start, a_end), (b_start, b_end) = (
            [seconds(t) for t in c.split("\n", 1)[0].split(" --> ")] for c in (a, b)
        )
        assert (a_start, a_end) == pytest.approx((b_start, b_end), abs=0.01)


def _frames(video: AssembledVideo) -> list[tuple[float, np.ndarray]]:
    with av.open(str(video.video_path)) as container:
        return [(float(f.time), f.to_ndarray(format="gray")) for f in container.decode(video=0)]


def _shown(frames: list[tuple[float, np.ndarray]], at: float) -> np.ndarray:
    return [picture for time, picture in frames if time <= at + 1e-6][-1]


def test_the_same_slide_is_on_screen_at_every_moment(whole: Made, parted: Made) -> None:
    got, want = _frames(parted.video), _frames(whole.video)
    # Every 100 ms of the video (a reveal is at a sentence start, and the parts cut there too).
    for step in range(int(whole.video.duration * 10) - 1):
        at = step / 10
        difference = np.abs(
            _shown(got, at).astype(np.int16) - _shown(want, at).astype(np.int16)
        ).mean()
        assert difference < 1.0, f"the slides differ at {at:.1f} s (mean difference {difference})"


def test_the_stream_of_the_parts_lasts_as_long_as_the_mp4(parted: Made, tmp_path: Path) -> None:
    publisher = BlobHlsPublisher(parted.store, tmp_path / "stream", reuse=False)
    parts, start = [], 0.0
    for audio, segment in parted.pieces:
        parts.append(publisher.publish_scene("r1", start, audio, segment))
        start += segment.duration
    key = publisher.publish_playlist("r1", parts, complete=True)
    playlist = parted.store.path_of(key).read_text("utf-8")
    names = [line for line in playlist.splitlines() if line.endswith(".m4s")]
    assert len(names) == len(parted.pieces)
    assert any(name.startswith("stream/scene-001-") for name in names)
    assert sum(p.duration for p in parts) == pytest.approx(parted.video.duration, abs=0.05)
