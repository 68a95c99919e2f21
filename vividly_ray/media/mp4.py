"""Just enough of an MP4 (ISO BMFF) reader to measure what ffmpeg wrote.

The bundled ffmpeg comes without ffprobe, and the package should not depend on a decoding
library, so segment durations and frame sizes are read straight from the boxes: ``mdhd`` gives
a track's exact length in its own timescale, ``tkhd`` its display size.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from vividly_ray.domain.errors import StageFailed


@dataclass(frozen=True)
class BoxInfo:
    """A box's four-character type, where it starts in the file and its size in bytes."""

    kind: str
    offset: int
    size: int


@dataclass(frozen=True)
class TrackInfo:
    """One track: its handler ("vide", "soun", "text"), exact duration and display size."""

    handler: str
    timescale: int
    duration_ticks: int
    width: float
    height: float

    @property
    def duration(self) -> float:
        return self.duration_ticks / self.timescale if self.timescale else 0.0


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int, int]]:
    """(type, box offset, payload offset, box end) for each box in data[start:end]."""
    found = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            (size,) = struct.unpack(">Q", data[pos + 8 : pos + 16])
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise ValueError(f"box {kind!r} at {pos} has a bad size {size}")
        found.append((kind, pos, pos + header, pos + size))
        pos += size
    return found


def top_level_boxes(path: Path) -> list[BoxInfo]:
    """The file's top-level boxes in order (``moov`` before ``mdat`` means fast start)."""
    boxes: list[BoxInfo] = []
    with path.open("rb") as src:
        offset = 0
        while header := src.read(8):
            if len(header) < 8:
                break
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                (size,) = struct.unpack(">Q", src.read(8))
            elif size == 0:
                size = path.stat().st_size - offset
            if size < 8:
                raise ValueError(f"box {kind!r} at {offset} has a bad size {size}")
            boxes.append(BoxInfo(kind.decode("latin-1"), offset, size))
            offset += size
            src.seek(offset)
    return boxes


def _full_box_times(payload: bytes) -> tuple[int, int]:
    """(timescale, duration) from an mvhd/mdhd payload, version 0 or 1."""
    if payload[0] == 1:
        timescale, duration = struct.unpack(">IQ", payload[20:32])
    else:
        timescale, duration = struct.unpack(">II", payload[12:20])
    return int(timescale), int(duration)


def _track(data: bytes, start: int, end: int) -> TrackInfo:
    handler, timescale, ticks, width, height = "", 0, 0, 0.0, 0.0
    for kind, _, body, box_end in _boxes(data, start, end):
        if kind == b"tkhd":
            # Width and height are the last two 16.16 fixed-point fields of the box.
            w, h = struct.unpack(">II", data[box_end - 8 : box_end])
            width, height = w / 65536, h / 65536
        elif kind == b"mdia":
            for sub, _, sub_body, sub_end in _boxes(data, body, box_end):
                if sub == b"mdhd":
                    timescale, ticks = _full_box_times(data[sub_body:sub_end])
                elif sub == b"hdlr":
                    handler = data[sub_body + 8 : sub_body + 12].decode("latin-1")
    return TrackInfo(handler, timescale, ticks, width, height)


def read_tracks(path: Path, stage: str) -> list[TrackInfo]:
    """Every track of an MP4 file; a file that is not a readable MP4 raises ``StageFailed``."""
    try:
        moov = next((b for b in top_level_boxes(path) if b.kind == "moov"), None)
        if moov is None:
            raise ValueError("no moov box")
        with path.open("rb") as src:
            src.seek(moov.offset)
            data = src.read(moov.size)
        tracks = []
        for kind, _, body, end in _boxes(data, 0, len(data)):
            for sub, _, sub_body, sub_end in _boxes(data, body, end) if kind == b"moov" else []:
                if sub == b"trak":
                    tracks.append(_track(data, sub_body, sub_end))
        return tracks
    except (OSError, ValueError, struct.error, IndexError) as exc:
        raise StageFailed(stage, f"cannot read MP4 {path.name}: {exc}") from exc


def video_track(path: Path, stage: str) -> TrackInfo:
    """The first video track; a file without one raises ``StageFailed``."""
    for track in read_tracks(path, stage):
        if track.handler == "vide":
            return track
    raise StageFailed(stage, f"{path.name} has no video track")
