"""The delivered MP4's chapters as players read them: Nero ``chpl`` and a QuickTime chapter track.

A real assembly (real segments, narration and soft subtitles, scenes longer than five seconds,
which is where a chapter track timed in a 441 MHz movie timescale overflowed), read back by the
bundled ffmpeg (the project ships no ffprobe), by PyAV and box by box.
"""

from __future__ import annotations

import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from tests.integration.test_media_ffmpeg import SCENES, WIDE, make_audio
from vividly_ray.domain.models import Grade, Script
from vividly_ray.media.assemble import AssembledVideo, VideoAssembler
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.media.ffmpeg import ffmpeg_exe
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

SECONDS = (6.0, 9.5, 5.25)  # every chapter longer than 4.9 s
SCRIPT = Script("Rain, Snow & Clouds", Grade(5), 20.0, SCENES, ())
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"tref", b"udta", b"edts"}


@dataclass
class Track:
    track_id: int
    enabled: bool
    handler: str
    chapter_refs: tuple[int, ...]


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box in data[start:end]."""
    found, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        found.append((kind, pos + header, pos + size))
        pos += size
    return found


def _child(data: bytes, start: int, end: int, path: list[bytes]) -> tuple[int, int] | None:
    for kind, body, stop in _boxes(data, start, end):
        if kind == path[0]:
            return (body, stop) if len(path) == 1 else _child(data, body, stop, path[1:])
    return None


def tracks(path: Path) -> tuple[list[Track], bool]:
    """Every track of the file, and whether ``moov/udta/chpl`` (Nero chapters) is there."""
    data = path.read_bytes()
    moov = _child(data, 0, len(data), [b"moov"])
    assert moov is not None
    found = []
    for kind, body, stop in _boxes(data, *moov):
        if kind != b"trak":
            continue
        tkhd = _child(data, body, stop, [b"tkhd"])
        hdlr = _child(data, body, stop, [b"mdia", b"hdlr"])
        assert tkhd is not None and hdlr is not None
        version, flags = data[tkhd[0]], int.from_bytes(data[tkhd[0] + 1 : tkhd[0] + 4], "big")
        id_at = tkhd[0] + (20 if version == 1 else 12)
        (track_id,) = struct.unpack(">I", data[id_at : id_at + 4])
        chap = _child(data, body, stop, [b"tref", b"chap"])
        refs: tuple[int, ...] = ()
        if chap is not None:
            refs = struct.unpack(f">{(chap[1] - chap[0]) // 4}I", data[chap[0] : chap[1]])
        handler = data[hdlr[0] + 8 : hdlr[0] + 12].decode("latin-1")
        found.append(Track(track_id, bool(flags & 1), handler, refs))
    return found, _child(data, *moov, [b"udta", b"chpl"]) is not None


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> AssembledVideo:
    root = tmp_path_factory.mktemp("chapters")
    store = LocalBlobStore(root)
    encoder = FfmpegSegmentEncoder(WIDE, ContentCache(store, root / "tmp"), root / "work")
    pairs = []
    for scene, seconds in zip(SCENES, SECONDS, strict=True):
        audio = make_audio(root, scene.index, seconds, scene.narration)
        pairs.append((audio, encoder.encode(scene, audio)))
    return VideoAssembler(store, root / "work", reuse=False).assemble(
        SCRIPT, pairs, WIDE, root / "out"
    )


def test_ffmpeg_reads_the_chapters_without_a_warning(video: AssembledVideo) -> None:
    done = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "warning", "-i", str(video.video_path),
         "-f", "ffmetadata", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "chapter" not in done.stderr.lower(), done.stderr
    chapters = done.stdout.split("[CHAPTER]")[1:]
    assert [c.split("title=")[1].strip() for c in chapters] == [s.title for s in SCENES]


def test_the_chapters_carry_the_scene_titles_and_times(video: AssembledVideo) -> None:
    with av.open(str(video.video_path)) as container:
        read = [
            (
                chapter["metadata"]["title"],
                float(chapter["start"] * chapter["time_base"]),
                float(chapter["end"] * chapter["time_base"]),
            )
            for chapter in container.chapters()
        ]
    assert [title for title, _, _ in read] == [title for title, _, _ in video.chapters]
    for (_, start, end), (_, want_start, want_end) in zip(read, video.chapters, strict=True):
        assert start == pytest.approx(want_start, abs=0.002)
        assert end == pytest.approx(want_end, abs=0.002)
    assert read[-1][2] == pytest.approx(sum(SECONDS), abs=0.1)


def test_a_disabled_text_track_is_the_quicktime_chapter_track(video: AssembledVideo) -> None:
    found, has_nero = tracks(video.video_path)
    assert has_nero
    text = [t for t in found if t.handler == "text"]
    assert len(text) == 1 and not text[0].enabled  # a chapter track is not played itself
    picture_and_sound = [t for t in found if t.handler in ("vide", "soun")]
    assert len(picture_and_sound) == 2
    for track in picture_and_sound:
        assert track.chapter_refs == (text[0].track_id,)
    # The soft subtitles are still there, beside the chapter track.
    assert any(t.handler == "sbtl" and t.enabled for t in found)
