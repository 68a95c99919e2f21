"""The progressive HLS stream with the real bundled ffmpeg, read back with PyAV and ffmpeg."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from tests.integration.test_media_ffmpeg import SCENES, SECONDS, WIDE, make_audio, write_tone
from vividly_ray.domain.models import Scene, SceneAudio, SceneKind, SceneSegment
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.media.ffmpeg import command_line
from vividly_ray.media.hls import BlobHlsPublisher, playlist_key
from vividly_ray.pipeline.ports import StreamPart
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

REQUEST = "stream-req"
VIDEO_TICK = 1 / 90_000


@dataclass
class Published:
    store: LocalBlobStore
    audios: list[SceneAudio]
    segments: list[SceneSegment]
    parts: list[StreamPart]
    growing: list[str]  # the playlist after each scene

    @property
    def playlist(self) -> Path:
        return self.store.path_of(playlist_key(REQUEST))

    def path(self, key: str) -> Path:
        return self.store.path_of(key)


def _publish(root: Path, extra: list[tuple[Scene, SceneAudio]] = ()) -> Published:  # type: ignore[assignment]
    store = LocalBlobStore(root)
    audios = [
        make_audio(root, scene.index, seconds, scene.narration)
        for scene, seconds in zip(SCENES, SECONDS, strict=True)
    ]
    scenes = [*SCENES, *(scene for scene, _ in extra)]
    audios += [audio for _, audio in extra]
    encoder = FfmpegSegmentEncoder(WIDE, ContentCache(store, root / "tmp"), root / "work")
    segments = [encoder.encode(s, a) for s, a in zip(scenes, audios, strict=True)]
    publisher = BlobHlsPublisher(store, root / "stream-work")
    parts: list[StreamPart] = []
    growing: list[str] = []
    start = 0.0
    for number, (audio, segment) in enumerate(zip(audios, segments, strict=True)):
        parts.append(publisher.publish_scene(REQUEST, start, audio, segment))
        start += segment.duration
        key = publisher.publish_playlist(REQUEST, parts, complete=number == len(segments) - 1)
        growing.append(store.get_bytes(key).decode())
    return Published(store, audios, segments, parts, growing)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Published:
    return _publish(tmp_path_factory.mktemp("hls"))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Published:
    """Three scenes in the voice's 22.05 kHz, then one in a fallback voice's 24 kHz."""
    root = tmp_path_factory.mktemp("hls-mixed")
    wav = root / "scene-9.wav"
    write_tone(wav, 2.2, rate=24_000, freq=660.0)
    scene = Scene(9, SceneKind.RECAP, "Recap", ("Water moves in a cycle",), ("That is all.",))
    audio = SceneAudio(9, wav.name, 2.2, (), "tone-9-24k")
    return _publish(root, [(scene, audio)])


def _tags(text: str, name: str) -> list[str]:
    return [line.split(":", 1)[1] for line in text.splitlines() if line.startswith(f"#{name}:")]


def _null_decode(playlist: Path) -> None:
    """``ffmpeg -i stream.m3u8 -f null -`` passes, decoding audio and video with no error.

    The null muxer rounds frame times to the stream's guessed rate, so the single-tick frame
    that ends each slide segment and the next scene's first frame meet in one slot; it says so
    ("non monotonically increasing dts"), for the delivered MP4 just the same. Nothing else
    may be reported.
    """
    done = subprocess.run(
        command_line(["-xerror", "-i", str(playlist), "-f", "null", "-"]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    others = [
        line
        for line in done.stderr.splitlines()
        if "non monotonically increasing dts to muxer" not in line
    ]
    assert others == []


def _media_seconds(path: Path) -> dict[str, float]:
    """Decoded length of each stream: end of the last frame minus start of the first."""
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    with av.open(str(path), options={"allowed_extensions": "ALL"}) as container:
        for frame in container.decode(*container.streams):
            kind = "audio" if isinstance(frame, av.AudioFrame) else "video"
            assert frame.pts is not None and frame.time_base is not None
            start = float(frame.pts * frame.time_base)
            length = frame.samples / frame.sample_rate if isinstance(frame, av.AudioFrame) else 0
            first.setdefault(kind, start)
            last[kind] = start + length
    return {kind: last[kind] - first[kind] for kind in last} | {
        f"{kind}_start": first[kind] for kind in first
    }


def test_each_scene_is_published_as_its_parts_grow_the_playlist(published: Published) -> None:
    for count, text in enumerate(published.growing, start=1):
        assert text.startswith("#EXTM3U\n")
        assert _tags(text, "EXT-X-PLAYLIST-TYPE") == ["EVENT"]
        assert len(_tags(text, "EXTINF")) == count
        assert ("#EXT-X-ENDLIST" in text) == (count == len(published.segments))
    for part in published.parts:
        assert published.store.stat(part.media_key) is not None
        assert published.store.stat(part.init_key) is not None


def test_extinf_is_each_segments_measured_length_and_target_is_its_ceiling(
    published: Published,
) -> None:
    text = published.playlist.read_text()
    durations = [float(value.rstrip(",")) for value in _tags(text, "EXTINF")]
    for duration, segment in zip(durations, published.segments, strict=True):
        assert duration == pytest.approx(segment.duration, abs=VIDEO_TICK)
    assert _tags(text, "EXT-X-TARGETDURATION") == [str(math.ceil(max(durations)))]


def test_each_part_is_its_scene_on_the_videos_timeline(published: Published) -> None:
    start = 0.0
    for part, segment in zip(published.parts, published.segments, strict=True):
        whole = published.path(part.media_key).with_suffix(".joined.mp4")
        whole.write_bytes(
            published.path(part.init_key).read_bytes() + published.path(part.media_key).read_bytes()
        )
        seconds = _media_seconds(whole)
        assert seconds["video_start"] == pytest.approx(start, abs=VIDEO_TICK)
        # The picture lasts its segment; the sound ends with it (to one AAC frame).
        assert seconds["audio_start"] == pytest.approx(start, abs=1e-3)
        assert seconds["audio"] == pytest.approx(segment.duration, abs=1024 / 22050)
        start += segment.duration


def test_the_picture_is_copied_from_the_segment_not_encoded_again(published: Published) -> None:
    part, segment = published.parts[1], published.segments[1]
    whole = published.path(part.media_key).with_suffix(".copy.mp4")
    whole.write_bytes(
        published.path(part.init_key).read_bytes() + published.path(part.media_key).read_bytes()
    )

    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(video=0) if p.size]

    assert packets(whole) == packets(published.path(segment.video_key))


def test_scenes_of_one_format_share_one_init_section(published: Published) -> None:
    text = published.playlist.read_text()
    assert len({part.init_key for part in published.parts}) == 1
    assert len(_tags(text, "EXT-X-MAP")) == 1
    assert "#EXT-X-DISCONTINUITY" not in text


def test_ffmpeg_decodes_the_whole_stream_at_the_sum_of_the_scenes(published: Published) -> None:
    _null_decode(published.playlist)
    total = sum(segment.duration for segment in published.segments)
    seconds = _media_seconds(published.playlist)
    assert seconds["video_start"] == 0.0
    assert seconds["audio"] == pytest.approx(total, abs=1024 / 22050)


def test_a_scene_in_a_fallback_voices_rate_plays_on_with_the_same_init(
    mixed: Published,
) -> None:
    text = mixed.playlist.read_text()
    assert len({part.init_key for part in mixed.parts}) == 1
    assert "#EXT-X-DISCONTINUITY" not in text
    _null_decode(mixed.playlist)
    total = sum(segment.duration for segment in mixed.segments)
    assert _media_seconds(mixed.playlist)["audio"] == pytest.approx(total, abs=1024 / 22050)


NODE = shutil.which("node")
PAGE_PLAYER = Path(__file__).resolve().parents[2] / "actors" / "web" / "stream.js"


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the page's stream player code")
def test_the_page_player_reads_the_codec_and_each_scenes_time(published: Published) -> None:
    """The web page's MSE player code (run in Node) on the real playlist and parts."""
    base = "http://page.test/v1/videos/r/stream.m3u8"
    files = [
        [str(published.path(p.init_key)), str(published.path(p.media_key))] for p in published.parts
    ]
    script = f"""
    const fs = require("fs");
    global.window = {{}};
    eval(fs.readFileSync({json.dumps(str(PAGE_PLAYER))}, "utf8"));
    const S = window.VividlyStream;
    const read = (p) => {{
      const b = fs.readFileSync(p);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
    }};
    const text = fs.readFileSync({json.dumps(str(published.playlist))}, "utf8");
    const list = S.parsePlaylist(text, {json.dumps(base)});
    const files = {json.dumps(files)};
    const out = {{ended: list.ended, parts: []}};
    files.forEach(([init, media], i) => {{
      const info = S.initInfo(read(init));
      out.parts.push({{uri: list.parts[i].uri, start: list.parts[i].start, mime: info.mime,
                       base: S.firstDecodeTime(read(media), info.timescales)}});
    }});
    console.log(JSON.stringify(out));
    """
    done = subprocess.run([str(NODE), "-e", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["ended"] is True
    start = 0.0
    for part, row, segment in zip(published.parts, found["parts"], published.segments, strict=True):
        assert row["uri"] == f"http://page.test/v1/videos/r/stream/{Path(part.media_key).name}"
        assert row["mime"] == 'video/mp4; codecs="avc1.640029, mp4a.40.2"'
        assert row["start"] == pytest.approx(start, abs=1e-6)
        # The media already carry the scene's place (to a sample of the earliest track), so
        # the player's timestampOffset comes out as zero.
        assert row["base"] == pytest.approx(start, abs=1 / 22050)
        start += segment.duration
