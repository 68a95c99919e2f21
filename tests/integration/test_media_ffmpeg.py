"""Segments and the final video with the real bundled ffmpeg, probed independently with PyAV."""

from __future__ import annotations

import struct
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    Grade,
    RenderSpec,
    Scene,
    SceneAudio,
    SceneKind,
    SceneSegment,
    Script,
    SentenceTiming,
)
from vividly_ray.media.assemble import AssembledVideo, VideoAssembler
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.media.ffmpeg import run_ffmpeg, segment_encode_args
from vividly_ray.media.narration import join_narration
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

RATE = 22050
WIDE = RenderSpec(width=1280, height=720)
TALL = RenderSpec(width=720, height=1280)


def write_tone(path: Path, seconds: float, rate: int = RATE, freq: float = 440.0) -> None:
    """A quiet mono 16-bit sine tone."""
    t = np.arange(round(seconds * rate)) / rate
    samples = (0.05 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())


def read_pcm(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as src:
        return src.getframerate(), np.frombuffer(src.readframes(src.getnframes()), "<i2")


def make_audio(folder: Path, index: int, seconds: float, sentences: Sequence[str]) -> SceneAudio:
    """Narration timings spread over the tone: 0.4 s lead, even sentences, 0.6 s tail."""
    path = folder / f"scene-{index}.wav"
    write_tone(path, seconds, freq=300.0 + 100 * index)
    step = (seconds - 1.0) / len(sentences)
    timings = tuple(
        SentenceTiming(text, round(0.4 + i * step, 3), round(0.4 + (i + 1) * step - 0.15, 3))
        for i, text in enumerate(sentences)
    )
    return SceneAudio(index, path.name, seconds, timings, f"tone-{index}-{seconds}")


SCENES = (
    Scene(0, SceneKind.TITLE, "Rain, Snow & Clouds", ("Grade 5 science",), ("Welcome.",)),
    Scene(
        1,
        SceneKind.CONCEPT,
        "Where rain comes from",
        ("Sun warms the sea", "Vapour rises and cools", "Clouds form and rain falls"),
        (
            "The sun warms the surface of the sea, and a little of the water at the top turns "
            "into invisible vapour.",
            "The warm vapour rises high into the sky, where it cools down and condenses into "
            "tiny droplets of water.",
            "Millions of droplets join together into clouds until they are heavy enough to fall "
            "back down as rain.",
        ),
        reveal_at=(0, 1, 2),
    ),
    Scene(3, SceneKind.CREDITS, "Sources", ("OpenStax, CC BY 4.0",), ("Thanks for watching.",)),
)
SECONDS = (2.0, 3.7, 2.45)
SCRIPT = Script("Rain, Snow & Clouds", Grade(5), 8.0, SCENES, ())


class CountingRun:
    """The real ffmpeg runner, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, args: Sequence[str], stage: str) -> None:
        self.calls += 1
        run_ffmpeg(args, stage)


@dataclass
class Built:
    audios: list[SceneAudio]
    segments: list[SceneSegment]
    video: AssembledVideo
    encoder: FfmpegSegmentEncoder
    runs: CountingRun
    store: LocalBlobStore

    def path(self, key: str) -> Path:
        return self.store.path_of(key)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("media")
    audios = [
        make_audio(root, scene.index, seconds, scene.narration)
        for scene, seconds in zip(SCENES, SECONDS, strict=True)
    ]
    runs = CountingRun()
    store = LocalBlobStore(root)
    encoder = FfmpegSegmentEncoder(WIDE, ContentCache(store, root / "tmp"), root / "work", run=runs)
    segments = [encoder.encode(s, a) for s, a in zip(SCENES, audios, strict=True)]
    video = VideoAssembler(store, root / "work").assemble(
        SCRIPT, list(zip(audios, segments, strict=True)), WIDE, root / "out"
    )
    return Built(audios, segments, video, encoder, runs, store)


def container_seconds(container: av.container.InputContainer) -> float:
    assert container.duration is not None
    return container.duration / av.time_base


def top_level_atoms(path: Path) -> dict[str, int]:
    """Offset of the first occurrence of each top-level MP4 atom."""
    found: dict[str, int] = {}
    offset, size_total = 0, path.stat().st_size
    with path.open("rb") as src:
        while offset < size_total:
            src.seek(offset)
            size, kind = struct.unpack(">I4s", src.read(8))
            if size == 1:
                (size,) = struct.unpack(">Q", src.read(8))
            found.setdefault(kind.decode("latin-1"), offset)
            offset += size if size else size_total
    return found


# --- segments ------------------------------------------------------------------------------


def test_segments_are_video_only_and_last_as_long_as_their_narration(built: Built) -> None:
    for audio, segment in zip(built.audios, built.segments, strict=True):
        assert not segment.reused
        assert segment.duration == pytest.approx(audio.duration, abs=0.001)
        with av.open(built.path(segment.video_key)) as container:
            assert [s.type for s in container.streams] == ["video"]
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            assert stream.codec_context.pix_fmt == "yuv420p"
            assert container_seconds(container) == pytest.approx(audio.duration, abs=0.001)


def test_each_distinct_slide_is_encoded_once_at_its_reveal_time(built: Built) -> None:
    concept, audio = built.segments[1], built.audios[1]
    with av.open(built.path(concept.video_key)) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    starts = [s.start for s in audio.sentences]
    # Title alone, then one state per bullet, then the single closing tick.
    assert times[:-1] == pytest.approx([0.0, *starts])
    assert times[-1] == pytest.approx(audio.duration)


def test_second_encode_is_served_from_the_cache_without_ffmpeg(built: Built) -> None:
    before_calls = built.runs.calls
    before_mtime = built.path(built.segments[1].video_key).stat().st_mtime_ns
    again = built.encoder.encode(SCENES[1], built.audios[1])
    assert again.reused
    assert again.video_key == built.segments[1].video_key
    assert again.duration == built.segments[1].duration
    assert built.runs.calls == before_calls
    assert built.path(again.video_key).stat().st_mtime_ns == before_mtime


# --- the assembled video -------------------------------------------------------------------


def test_video_has_one_h264_and_one_aac_stream_plus_subtitles(built: Built) -> None:
    with av.open(str(built.video.video_path)) as container:
        video, audio = container.streams.video, container.streams.audio
        assert len(video) == 1 and video[0].codec_context.name == "h264"
        assert (video[0].codec_context.width, video[0].codec_context.height) == (1280, 720)
        assert len(audio) == 1 and audio[0].codec_context.name == "aac"
        assert audio[0].codec_context.sample_rate == RATE
        assert [s.codec_context.name for s in container.streams.subtitles] == ["mov_text"]
        assert container.metadata.get("title") == SCRIPT.title


def test_duration_is_the_sum_of_the_scene_narrations(built: Built) -> None:
    total = sum(SECONDS)
    assert built.video.duration == pytest.approx(total, abs=0.1)
    with av.open(str(built.video.video_path)) as container:
        assert container_seconds(container) == pytest.approx(total, abs=0.1)
        for stream in (container.streams.video[0], container.streams.audio[0]):
            assert stream.duration is not None and stream.time_base is not None
            assert float(stream.duration * stream.time_base) == pytest.approx(total, abs=0.1)


def test_segments_join_without_gaps_and_every_frame_decodes(built: Built) -> None:
    with av.open(str(built.video.video_path)) as container:
        times = [float(f.time) for f in container.decode(video=0)]
    offsets = np.cumsum([0.0, *[s.duration for s in built.segments[:-1]]])
    expected: list[float] = []
    for offset, segment in zip(offsets, built.segments, strict=True):
        with av.open(built.path(segment.video_key)) as part:
            expected += [offset + float(f.time) for f in part.decode(video=0)]
    assert times == pytest.approx(expected, abs=1e-3)


def test_audio_is_one_continuous_track_with_every_sample(built: Built) -> None:
    with av.open(str(built.video.video_path)) as container:
        samples = sum(frame.samples for frame in container.decode(audio=0))
    # AAC works in 1024-sample frames; the edit list trims priming, decoding may not.
    assert samples == pytest.approx(sum(SECONDS) * RATE, abs=3 * 1024)


def test_each_scenes_narration_starts_with_its_picture(built: Built) -> None:
    """Every scene's tone has its own pitch; it must change exactly at the scene boundaries."""
    with av.open(str(built.video.video_path)) as container:
        pcm = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])

    def pitch(start: float, end: float) -> float:
        window = pcm[round(start * RATE) : round(end * RATE)]
        crossings = np.count_nonzero(np.diff(np.signbit(window)))
        return crossings / 2 / (end - start)

    boundaries = np.cumsum([s.duration for s in built.segments])[:-1]
    tones = [300.0 + 100 * scene.index for scene in SCENES]
    for boundary, before, after in zip(boundaries, tones, tones[1:], strict=False):
        # Windows start 30 ms away from the cut: AAC frames and priming blur a few ms.
        assert pitch(boundary - 0.12, boundary - 0.03) == pytest.approx(before, rel=0.05)
        assert pitch(boundary + 0.03, boundary + 0.12) == pytest.approx(after, rel=0.05)


def test_chapters_are_the_scene_titles_at_the_scene_offsets(built: Built) -> None:
    with av.open(str(built.video.video_path)) as container:
        chapters = container.chapters()
    assert len(chapters) == 3
    assert [c["metadata"]["title"] for c in chapters] == [s.title for s in SCENES]
    starts = [c["start"] * float(c["time_base"] or 0) for c in chapters]
    assert starts == pytest.approx([0.0, SECONDS[0], SECONDS[0] + SECONDS[1]], abs=0.002)
    assert [c[0] for c in built.video.chapters] == [s.title for s in SCENES]


def test_caption_files_hold_every_sentence_on_the_video_timeline(built: Built) -> None:
    vtt = built.video.vtt_path.read_text("utf-8")
    srt = built.video.srt_path.read_text("utf-8")
    assert vtt.startswith("WEBVTT\n")
    vtt_timings = [line for line in vtt.splitlines() if " --> " in line]
    srt_timings = [line for line in srt.splitlines() if " --> " in line]
    assert len(vtt_timings) == len(srt_timings) >= len(SCENES)
    # The title's "Welcome." appears as it is spoken and stays up to the end of its scene.
    assert vtt_timings[0] == "00:00:00.400 --> 00:00:02.000"
    assert srt_timings[0] == "00:00:00,400 --> 00:00:02,000"
    # The last cue stays on screen at least until its words end, and not past the video.
    last = built.audios[2].sentences[-1]
    words_end = SECONDS[0] + SECONDS[1] + last.end
    cue_end = vtt_timings[-1].split(" --> ")[1]
    seconds = int(cue_end[3:5]) * 60 + float(cue_end[6:])
    assert words_end - 0.001 <= seconds <= sum(SECONDS) + 0.001
    texts = [block.split("\n", 1)[1] for block in vtt.split("\n\n")[1:]]
    shown = " ".join(" ".join(text.split()) for text in texts)
    assert shown == " ".join(s for scene in SCENES for s in scene.narration)
    assert srt.splitlines()[0] == "1"


def test_index_comes_before_the_media_data_for_fast_start(built: Built) -> None:
    atoms = top_level_atoms(built.video.video_path)
    assert atoms["moov"] < atoms["mdat"]


def test_thumbnail_is_a_jpeg_of_the_video_size(built: Built) -> None:
    with Image.open(built.video.thumbnail_path) as image:
        image.verify()
    with Image.open(built.video.thumbnail_path) as image:
        assert image.format == "JPEG"
        assert image.size == (1280, 720)


def test_tall_request_gives_a_portrait_video(tmp_path: Path) -> None:
    audio = make_audio(tmp_path, 1, 2.2, SCENES[1].narration)
    store = LocalBlobStore(tmp_path)
    encoder = FfmpegSegmentEncoder(TALL, ContentCache(store, tmp_path / "tmp"), tmp_path / "work")
    segment = encoder.encode(SCENES[1], audio)
    video = VideoAssembler(store, tmp_path / "work").assemble(
        SCRIPT, [(audio, segment)], TALL, tmp_path / "out"
    )
    with av.open(str(video.video_path)) as container:
        ctx = container.streams.video[0].codec_context
        assert (ctx.width, ctx.height) == (720, 1280)
    with Image.open(video.thumbnail_path) as thumb:
        assert thumb.size == (720, 1280)


# --- failures ------------------------------------------------------------------------------


def test_corrupt_segment_fails_assembly_with_ffmpegs_reason(built: Built, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    segment = SceneSegment(0, "broken.mp4", 2.0, "broken")
    store = LocalBlobStore(tmp_path)
    store.put_file(built.audios[0].wav_key, built.path(built.audios[0].wav_key), "audio/wav")
    with pytest.raises(StageFailed) as failure:
        VideoAssembler(store, tmp_path / "work").assemble(
            SCRIPT, [(built.audios[0], segment)], WIDE, tmp_path / "out"
        )
    assert failure.value.stage == "processing_video"
    assert "ffmpeg exited with status" in failure.value.reason
    assert "broken.mp4" in failure.value.reason  # the tail of ffmpeg's stderr names the file
    assert not (tmp_path / "out" / "video.mp4").exists()


def test_corrupt_narration_fails_assembly_naming_the_file(built: Built, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    audio = SceneAudio(0, "bad.wav", 2.0, (), "bad")
    store = LocalBlobStore(tmp_path)
    segment_key = built.segments[0].video_key
    store.put_file(segment_key, built.path(segment_key), "video/mp4")
    with pytest.raises(StageFailed) as failure:
        VideoAssembler(store, tmp_path / "work").assemble(
            SCRIPT, [(audio, built.segments[0])], WIDE, tmp_path / "out"
        )
    assert failure.value.stage == "processing_video"
    assert "bad.wav" in failure.value.reason


def test_corrupt_still_fails_the_encode_with_ffmpegs_reason(tmp_path: Path) -> None:
    still = tmp_path / "still.png"
    still.write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    script = tmp_path / "list.ffconcat"
    script.write_text(f"ffconcat version 1.0\nfile '{still}'\nduration 1\nfile '{still}'\n")
    with pytest.raises(StageFailed) as failure:
        run_ffmpeg(segment_encode_args(script, tmp_path / "o.mp4", WIDE, 1), "generating_video")
    assert failure.value.stage == "generating_video"
    assert "ffmpeg exited with status" in failure.value.reason
    assert len(failure.value.reason) > len("ffmpeg exited with status 1: ")


# --- the narration track -------------------------------------------------------------------


def test_narration_is_padded_and_trimmed_to_each_slot_sample_exactly(tmp_path: Path) -> None:
    short, long = tmp_path / "short.wav", tmp_path / "long.wav"
    write_tone(short, 1.0)
    write_tone(long, 2.0, freq=600.0)
    out = tmp_path / "joined.wav"
    total = join_narration([(short, 1.5), (long, 1.25), (short, 1 / 3)], out)
    rate, joined = read_pcm(out)
    _, short_pcm = read_pcm(short)
    _, long_pcm = read_pcm(long)
    assert rate == RATE
    assert len(joined) == round((1.5 + 1.25 + 1 / 3) * RATE)
    assert total == pytest.approx(len(joined) / RATE)
    first_end, second_end = round(1.5 * RATE), round(2.75 * RATE)
    assert np.array_equal(joined[:RATE], short_pcm)
    assert not joined[RATE:first_end].any()  # padded with silence
    assert np.array_equal(joined[first_end:second_end], long_pcm[: second_end - first_end])
    assert np.array_equal(joined[second_end:], short_pcm[: len(joined) - second_end])


def test_narration_with_a_different_sample_rate_is_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    write_tone(a, 0.5)
    write_tone(b, 0.5, rate=16000)
    with pytest.raises(StageFailed) as failure:
        join_narration([(a, 0.5), (b, 0.5)], tmp_path / "out.wav")
    assert "b.wav" in failure.value.reason
