"""The progressive stream: each finished scene as fragmented-MP4 HLS media, in the BlobStore.

A scene's picture is the segment the encoder already made, copied (no re-encode); only the
scene's narration is encoded, to AAC, so publishing a scene costs a fraction of a second. The
mux is split into an initialisation section (``ftyp`` + ``moov``) and the media (``moof`` +
``mdat`` pairs), and the media's decode times are moved onto the video's timeline, the same
timeline the delivered MP4 has. Players that ignore discontinuities (ffmpeg) and players
that follow them (Safari, an MSE player) therefore all see one continuous stream.

Blob layout, beside the delivered files of the request (erasing them removes it too)::

    videos/<id>/stream.m3u8               the playlist (grows; EXT-X-ENDLIST once complete)
    videos/<id>/stream/init-<sha256/16>.mp4   an init section, shared by scenes whose bytes match
    videos/<id>/stream/scene-<nnn>.m4s    one scene's media

Each part is also kept in the content cache (``media.stream_cache``), keyed by the scene's segment
and narration, its start on the timeline and the part format, so a repeated request's stream is
published from the cache with no ffmpeg run.

Every scene's sound is encoded at one rate whichever voice spoke it, and the bit rate a
copied picture carries is cleared from the init section, so the scenes of a request normally
share one ``EXT-X-MAP``. Where init bytes still differ (segments made by another encoder
build), the playlist starts a discontinuity with the new map.
"""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import struct
import tempfile
import wave
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import SceneAudio, ScenePart, SceneSegment, piece_name
from vividly_ray.media.ffmpeg import AUDIO_BITRATE, AUDIO_CODER, run_ffmpeg
from vividly_ray.media.stream_cache import StreamPartCache, part_cache_key
from vividly_ray.observability.cpu import cpu_meter
from vividly_ray.pipeline.ports import StreamPart

STAGE = "generating_video"
PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
PART_CONTENT_TYPE = "video/mp4"
# Samples the AAC encoder puts before the first real one; a fragment has no edit list to hide
# them, so the scene's narration is shortened by as much to end exactly with its picture.
AAC_PRIMING_SAMPLES = 1024
# Every scene's sound at one rate (the bundled voice's), whichever voice spoke it: a fallback
# voice at its own rate would need another init section, and ffmpeg's HLS reader keeps the
# first one's timescale across a discontinuity.
AUDIO_RATE = 22_050
PRIMING_S = AAC_PRIMING_SAMPLES / AUDIO_RATE
HLS_VERSION = 6  # EXT-X-MAP in a playlist that is not I-frames only
PART_NAME = re.compile(r"^(init-[0-9a-f]{16}\.mp4|scene-[0-9]{3,6}(-[0-9]{2,4})?\.m4s)$")
_MAP_URI = re.compile(r'URI="([^"]*)"')


def playlist_key(request_id: str) -> str:
    return f"videos/{request_id}/stream.m3u8"


def part_key(request_id: str, name: str) -> str:
    """The blob key of a stream part; ``name`` is what the playlist names under ``stream/``."""
    if not PART_NAME.match(name):
        raise ValueError(f"{name!r} is not a stream part name")
    return f"videos/{request_id}/stream/{name}"


def media_name(scene_index: int, part: ScenePart | None = None) -> str:
    """``scene-003.m4s``, or ``scene-003-04.m4s`` for the part of scene 3 from its sentence 4."""
    return f"{piece_name(scene_index, part)}.m4s"


def init_name(init: bytes) -> str:
    return f"init-{hashlib.sha256(init).hexdigest()[:16]}.mp4"


def scene_mux_args(video: Path, narration: Path, out: Path) -> list[str]:
    """Copy a scene's H.264 segment and encode its narration to AAC, as fragmented MP4.

    The narration goes in one priming length late, so the encoder's first packet starts at
    zero: a negative start would make the muxer shift the whole scene, stretching its first
    picture. One fragment starts at each key frame (a slide segment has one, at its start);
    the AAC settings are the delivered video's; ``bitexact`` so the same scene muxes to the same
    bytes and init sections can be compared.
    """
    return [
        "-i", str(video),
        "-itsoffset", _microseconds(PRIMING_S), "-i", str(narration),
        "-map", "0:v:0", "-map", "1:a:0",
        "-c:v", "copy",
        "-c:a", "aac", "-aac_coder", AUDIO_CODER, "-b:a", AUDIO_BITRATE, "-ac", "1",
        "-ar", str(AUDIO_RATE),
        "-map_metadata", "-1", "-map_chapters", "-1",
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-movflags", "+frag_keyframe+empty_moov+default_base_moof",
        "-f", "mp4", str(out),
    ]  # fmt: skip


def _microseconds(seconds: float) -> str:
    # Whole microseconds: 1024 samples at 22.05 kHz land on sample 1024 exactly.
    micros = round(seconds * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


# -- the playlist (pure) ---------------------------------------------------------------------


def _relative(key: str) -> str:
    """``videos/<id>/stream/x`` as the playlist names it (relative to ``videos/<id>/``)."""
    parts = key.split("/", 2)
    if len(parts) != 3 or parts[0] != "videos":
        raise ValueError(f"{key!r} is not a key under videos/<id>/")
    return parts[2]


def target_duration(parts: Sequence[StreamPart]) -> int:
    """EXT-X-TARGETDURATION: the longest part's duration, rounded up to whole seconds."""
    return max(1, max((math.ceil(round(p.duration, 6)) for p in parts), default=1))


def playlist_text(parts: Sequence[StreamPart], *, complete: bool) -> str:
    """An EVENT media playlist naming ``parts`` in order; ``complete`` ends it."""
    lines = [
        "#EXTM3U",
        f"#EXT-X-VERSION:{HLS_VERSION}",
        f"#EXT-X-TARGETDURATION:{target_duration(parts)}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:EVENT",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    current_init = ""
    for part in parts:
        if part.init_key != current_init:
            if current_init:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f'#EXT-X-MAP:URI="{_relative(part.init_key)}"')
            current_init = part.init_key
        lines.append(f"#EXTINF:{part.duration:.6f},")
        lines.append(_relative(part.media_key))
    if complete:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


def playlist_complete(text: str) -> bool:
    return any(line.strip() == "#EXT-X-ENDLIST" for line in text.splitlines())


def rewrite_uris(text: str, rewrite: Callable[[str], str]) -> str:
    """The playlist with every URI (segment lines and EXT-X-MAP) passed through ``rewrite``."""
    out = []
    for line in text.splitlines():
        if line.startswith("#EXT-X-MAP:"):
            line = _MAP_URI.sub(lambda m: f'URI="{rewrite(m.group(1))}"', line)
        elif line and not line.startswith("#"):
            line = rewrite(line)
        out.append(line)
    return "\n".join(out) + "\n"


# -- fragmented MP4 boxes (pure) -------------------------------------------------------------


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, box offset, payload offset, box end) of each box in ``data[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, pos + 8)
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"box {kind!r} at {pos} has a bad size {size}")
        yield kind, pos, pos + header, pos + size
        pos += size


def split_fragmented(data: bytes) -> tuple[bytes, bytes]:
    """(init section, media) of a fragmented MP4; the ``mfra`` index at the end is dropped."""
    boxes = list(_boxes(data, 0, len(data)))
    first_moof = next((b[1] for b in boxes if b[0] == b"moof"), None)
    if first_moof is None or not any(b[0] == b"moov" for b in boxes[:4]):
        raise ValueError("not a fragmented MP4 (no moov, or no moof)")
    media = b"".join(
        data[offset:end] for kind, offset, _, end in boxes if kind in (b"moof", b"mdat")
    )
    return _without_bitrates(data[:first_moof]), media


# Bytes before the child boxes of a sample entry: VisualSampleEntry / AudioSampleEntry fields.
_ENTRY_FIELDS = {b"avc1": 78, b"mp4a": 28}


def _without_bitrates(init: bytes) -> bytes:
    """The init section with its ``btrt`` (bit rate) boxes zeroed.

    A copied picture carries its own segment's measured bit rate, which would make otherwise
    identical init sections differ; the field is informative only (zero means unknown).
    """
    out = bytearray(init)
    moov, moov_end = _child(init, 0, len(init), b"moov")
    for kind, _, trak, trak_end in _boxes(init, moov, moov_end):
        if kind != b"trak":
            continue
        box, end = trak, trak_end
        for name in (b"mdia", b"minf", b"stbl", b"stsd"):
            box, end = _child(init, box, end, name)
        for entry, _, body, entry_end in _boxes(init, box + 8, end):
            skip = _ENTRY_FIELDS.get(entry)
            if skip is None:
                continue
            for child, _, child_body, child_end in _boxes(init, body + skip, entry_end):
                if child == b"btrt":
                    out[child_body:child_end] = bytes(child_end - child_body)
    return bytes(out)


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int]:
    """(payload offset, end) of the first ``kind`` box in ``data[start:end]``."""
    for found, _, body, box_end in _boxes(data, start, end):
        if found == kind:
            return body, box_end
    raise ValueError(f"no {kind.decode()} box")


def track_timescales(init: bytes) -> dict[int, tuple[str, int]]:
    """track id -> (handler, timescale) from an init section's ``moov``."""
    found: dict[int, tuple[str, int]] = {}
    moov, moov_end = _child(init, 0, len(init), b"moov")
    for kind, _, trak, trak_end in _boxes(init, moov, moov_end):
        if kind != b"trak":
            continue
        tkhd, _ = _child(init, trak, trak_end, b"tkhd")
        mdia, mdia_end = _child(init, trak, trak_end, b"mdia")
        mdhd, _ = _child(init, mdia, mdia_end, b"mdhd")
        hdlr, _ = _child(init, mdia, mdia_end, b"hdlr")
        # Version 1 boxes carry 64-bit times before the field read here.
        track_id = struct.unpack_from(">I", init, tkhd + (20 if init[tkhd] == 1 else 12))[0]
        scale = struct.unpack_from(">I", init, mdhd + (20 if init[mdhd] == 1 else 12))[0]
        found[track_id] = (init[hdlr + 8 : hdlr + 12].decode("latin-1"), scale)
    return found


@dataclass(frozen=True)
class _Fragment:
    track_id: int
    tfdt_at: int  # offset of the tfdt payload (version byte)
    durations: int  # the fragment's sample durations, summed, in the track's timescale


def _fragments(media: bytes | bytearray) -> list[_Fragment]:
    out = []
    for kind, _, body, end in _boxes(media, 0, len(media)):
        if kind != b"moof":
            continue
        for traf, _, traf_body, traf_end in _boxes(media, body, end):
            if traf != b"traf":
                continue
            track_id, default_duration, tfdt_at, total = 0, 0, -1, 0
            for sub, _, sub_body, _ in _boxes(media, traf_body, traf_end):
                if sub == b"tfhd":
                    flags = int.from_bytes(media[sub_body + 1 : sub_body + 4], "big")
                    track_id = struct.unpack_from(">I", media, sub_body + 4)[0]
                    pos = sub_body + 8 + (8 if flags & 0x01 else 0) + (4 if flags & 0x02 else 0)
                    if flags & 0x08:
                        default_duration = struct.unpack_from(">I", media, pos)[0]
                elif sub == b"tfdt":
                    tfdt_at = sub_body
                elif sub == b"trun":
                    total += _trun_duration(media, sub_body, default_duration)
            if tfdt_at < 0:
                raise ValueError(f"a fragment of track {track_id} has no tfdt")
            out.append(_Fragment(track_id, tfdt_at, total))
    return out


def _trun_duration(media: bytes | bytearray, body: int, default_duration: int) -> int:
    flags = int.from_bytes(media[body + 1 : body + 4], "big")
    count = struct.unpack_from(">I", media, body + 4)[0]
    pos = body + 8 + (4 if flags & 0x01 else 0) + (4 if flags & 0x04 else 0)
    if not flags & 0x100:
        return int(count * default_duration)
    stride = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if flags & bit)
    return sum(struct.unpack_from(">I", media, pos + i * stride)[0] for i in range(count))


def place_on_timeline(init: bytes, media: bytes, start: float) -> tuple[bytes, float]:
    """The media with every decode time moved ``start`` seconds on, and its picture's length.

    Each track is moved by ``start`` rounded in its own timescale, the way the delivered MP4's
    joins are placed. The length is the video track's sample durations, summed.
    """
    timescales = track_timescales(init)
    shifted = bytearray(media)
    video_ticks, video_scale = 0, 0
    for fragment in _fragments(shifted):
        handler, scale = timescales.get(fragment.track_id, ("", 0))
        if not scale:
            raise ValueError(f"track {fragment.track_id} is not in the init section")
        at = fragment.tfdt_at
        if shifted[at] == 1:
            value = struct.unpack_from(">Q", shifted, at + 4)[0] + round(start * scale)
            struct.pack_into(">Q", shifted, at + 4, value)
        else:
            value = struct.unpack_from(">I", shifted, at + 4)[0] + round(start * scale)
            if value >= 2**32:
                raise ValueError("a version-0 tfdt cannot hold this decode time")
            struct.pack_into(">I", shifted, at + 4, value)
        if handler == "vide":
            video_ticks += fragment.durations
            video_scale = scale
    if not video_scale:
        raise ValueError("the media has no video fragment")
    return bytes(shifted), video_ticks / video_scale


# -- narration fitted to the picture ---------------------------------------------------------


def fit_narration(source: Path, out: Path, start: float, duration: float) -> Path:
    """The scene's WAV cut or padded to its slot on the timeline, less the AAC priming.

    The slot is rounded on the cumulative timeline (as the delivered narration is), so the
    scenes' audio adds up to the video's length with no drift.
    """
    try:
        with wave.open(str(source), "rb") as src:
            rate, channels, width = src.getframerate(), src.getnchannels(), src.getsampwidth()
            pcm = src.readframes(src.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise StageFailed(STAGE, f"cannot read narration {source.name}: {exc}") from exc
    frames = max(1, round((start + duration - PRIMING_S) * rate) - round(start * rate))
    frame_bytes = channels * width
    fitted = pcm[: frames * frame_bytes]
    silence = b"\x80" if width == 1 else b"\x00"
    fitted += silence * (frames * frame_bytes - len(fitted))
    with wave.open(str(out), "wb") as sink:
        sink.setnchannels(channels)
        sink.setsampwidth(width)
        sink.setframerate(rate)
        sink.writeframes(fitted)
    return out


# -- the adapter -----------------------------------------------------------------------------


class BlobHlsPublisher:
    """Implements the ``StreamPublisher`` port: scene blobs in, HLS parts and playlist out.

    Reads the scene's narration and segment from the BlobStore into a scratch folder of its
    own and writes only blobs, so it runs on any node. Each part it makes is also kept in the
    content cache (``cache/stream/``, linked to the scene's segment so evicting or erasing the
    scene removes it), so the same scene at the same place is published again without ffmpeg.
    """

    def __init__(self, blobs: BlobStore, work_dir: Path, *, reuse: bool = True) -> None:
        self.blobs = blobs
        self.work_dir = Path(work_dir)
        self.reuse = reuse
        self._cache = StreamPartCache(blobs)

    def publish_scene(
        self, request_id: str, start: float, audio: SceneAudio, segment: SceneSegment
    ) -> StreamPart:
        key = part_cache_key(start, audio, segment)
        found = self._cache.get(key) if self.reuse else None
        cpu = 0.0
        if found is None:
            with cpu_meter() as measured:
                init, media, duration = self._mux(start, audio, segment)
            cpu = measured.seconds
            self._cache.put_quietly(key, init, media, duration, segment)
        else:
            init, media, duration = found
        init_key = part_key(request_id, init_name(init))
        if self.blobs.stat(init_key) is None:
            self.blobs.put_bytes(init_key, init, PART_CONTENT_TYPE)
        media_key = part_key(request_id, media_name(segment.scene_index, segment.part))
        self.blobs.put_bytes(media_key, media, PART_CONTENT_TYPE)
        return StreamPart(segment.scene_index, media_key, init_key, start, duration, cpu)

    def _mux(
        self, start: float, audio: SceneAudio, segment: SceneSegment
    ) -> tuple[bytes, bytes, float]:
        """(init section, media placed at ``start``, picture length) of a scene, by ffmpeg."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix="stream-", dir=self.work_dir))
        try:
            video = self.blobs.get_file(segment.video_key, scratch / "video.mp4")
            wav = self.blobs.get_file(audio.wav_key, scratch / "narration.wav")
            fitted = fit_narration(wav, scratch / "fitted.wav", start, segment.duration)
            muxed = scratch / "scene.mp4"
            run_ffmpeg(scene_mux_args(video, fitted, muxed), STAGE)
            try:
                init, media = split_fragmented(muxed.read_bytes())
                media, duration = place_on_timeline(init, media, start)
            except (ValueError, struct.error, IndexError) as exc:
                raise StageFailed(STAGE, f"cannot read the stream part it made: {exc}") from exc
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return init, media, duration

    def publish_playlist(
        self, request_id: str, parts: Sequence[StreamPart], *, complete: bool
    ) -> str:
        key = playlist_key(request_id)
        text = playlist_text(parts, complete=complete)
        self.blobs.put_bytes(key, text.encode("utf-8"), PLAYLIST_CONTENT_TYPE)
        return key
