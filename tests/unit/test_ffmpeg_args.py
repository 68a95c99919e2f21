"""ffmpeg argument builders: what runs, read without running anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from vividly_ray.domain.models import RenderSpec
from vividly_ray.media.ffmpeg import (
    MuxInputs,
    assemble_args,
    command_line,
    segment_encode_args,
    segments_concat_script,
    stills_concat_script,
)

SPEC = RenderSpec(width=1280, height=720, crf=21)


def option(args: list[str], flag: str) -> str:
    """The value following ``flag`` (its last occurrence, as ffmpeg reads it)."""
    index = len(args) - 1 - args[::-1].index(flag)
    return args[index + 1]


def test_stills_script_times_each_still_and_repeats_the_last_one() -> None:
    text = stills_concat_script([(Path("/f/a.png"), 0.4), (Path("/f/b.png"), 9.6)])
    assert text.splitlines() == [
        "ffconcat version 1.0",
        "file '/f/a.png'",
        "option framerate 90000",
        "duration 0.400000",
        "file '/f/b.png'",
        "option framerate 90000",
        "duration 9.600000",
        # Repeated without a duration, so the demuxer honours b.png's 9.6 s.
        "file '/f/b.png'",
        "option framerate 90000",
    ]


def test_script_durations_are_whole_microseconds() -> None:
    text = stills_concat_script([(Path("a.png"), 1 / 3), (Path("b.png"), 12.0000004)])
    assert "duration 0.333333" in text
    assert "duration 12.000000" in text


def test_script_quotes_paths_with_spaces_and_apostrophes() -> None:
    text = segments_concat_script([(Path("/tmp/it's here/seg.mp4"), 2.5)])
    assert text.splitlines() == [
        "ffconcat version 1.0",
        "file '/tmp/it'\\''s here/seg.mp4'",
        "duration 2.500000",
    ]


def test_empty_scripts_are_refused() -> None:
    with pytest.raises(ValueError):
        stills_concat_script([])
    with pytest.raises(ValueError):
        segments_concat_script([])


def test_segment_is_video_only_h264_each_still_encoded_once() -> None:
    args = segment_encode_args(Path("list.ffconcat"), Path("out.mp4"), SPEC, threads=2)
    assert args[args.index("-i") - 4 : args.index("-i") + 2] == [
        "-f", "concat", "-safe", "0", "-i", "list.ffconcat",
    ]  # fmt: skip
    assert "-an" in args
    assert option(args, "-c:v") == "libx264"
    assert option(args, "-preset") == "veryfast"
    assert option(args, "-tune") == "stillimage"
    assert option(args, "-crf") == "21"
    assert option(args, "-fps_mode") == "vfr"
    assert option(args, "-bf") == "0"
    assert option(args, "-video_track_timescale") == "90000"
    assert option(args, "-threads") == "2"
    assert args[-3:] == ["-f", "mp4", "out.mp4"]


def test_segment_filter_makes_even_yuv420p_with_bt709_tags() -> None:
    vf = option(segment_encode_args(Path("l"), Path("o.mp4"), SPEC, 1), "-vf")
    assert vf.startswith("crop=trunc(iw/2)*2:trunc(ih/2)*2")
    assert "format=yuv420p" in vf
    assert "colorspace=bt709" in vf


def test_segment_preset_comes_from_the_spec_and_threads_are_at_least_one() -> None:
    spec = RenderSpec(width=640, height=360, encoder_preset="ultrafast")
    args = segment_encode_args(Path("l"), Path("o.mp4"), spec, threads=0)
    assert option(args, "-preset") == "ultrafast"
    assert option(args, "-threads") == "1"


def mux(subtitles: Path | None = None) -> list[str]:
    inputs = MuxInputs(
        Path("segs.ffconcat"), Path("voice.wav"), Path("ch.ffmeta"), subtitles, "Rain"
    )
    return assemble_args(inputs, Path("video.mp4"))


def test_assembly_copies_video_and_encodes_the_narration_once_to_aac() -> None:
    args = mux()
    assert option(args, "-c:v") == "copy"
    assert option(args, "-c:a") == "aac"
    assert "-ar" not in args  # the voice's own sample rate is kept
    assert option(args, "-aac_coder") == "fast"
    assert option(args, "-b:a") == "96k"
    assert args.count("-i") == 3
    assert args[args.index("0:v:0") - 1 : args.index("0:v:0") + 1] == ["-map", "0:v:0"]
    assert "1:a:0" in args


def test_assembly_maps_chapters_metadata_and_puts_the_index_first() -> None:
    args = mux()
    assert args[args.index("ch.ffmeta") - 3 : args.index("ch.ffmeta")] == ["-f", "ffmetadata", "-i"]
    assert option(args, "-map_chapters") == "2"
    assert option(args, "-movflags") == "+faststart"
    # Chapter times in milliseconds, so the QuickTime chapter track never overflows.
    assert option(args, "-movie_timescale") == "1000"
    assert option(args, "-metadata") == "title=Rain"
    assert args[-1] == "video.mp4"


def test_subtitle_track_only_when_asked() -> None:
    without = mux()
    assert "mov_text" not in without
    with_subs = mux(Path("captions.srt"))
    assert option(with_subs, "-c:s") == "mov_text"
    assert "3:s:0" in with_subs
    assert with_subs[with_subs.index("captions.srt") - 3] == "-f"


def test_command_line_is_quiet_non_interactive_and_overwrites() -> None:
    line = command_line(["-i", "x"])
    assert Path(line[0]).name.startswith("ffmpeg")
    assert {"-nostdin", "-y", "-hide_banner"} <= set(line)
    assert line[-2:] == ["-i", "x"]
