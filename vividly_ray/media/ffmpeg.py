"""ffmpeg command lines as pure data, and the one function that runs them.

Every builder returns the argument list after the program name, so tests can read exactly
what will run. Choices that matter for joining segments later without re-encoding:

* each distinct slide is encoded once (variable frame rate) with exact timestamps, so a 10 s
  slide segment costs a handful of frames, not 240;
* every segment shares one track timescale and identical encoder settings, so segments can be
  joined by stream copy (their H.264 parameter sets match);
* no B-frames: with a few irregularly spaced frames, reordering makes the MP4's decode-time
  table (which players and the concat demuxer take the duration from) end seconds before the
  last picture does; B-frames save nothing on a handful of stills anyway;
* the H.264 level is pinned, because x264 would otherwise derive it from the 90 kHz timescale
  and write a level (6.2) that some hardware decoders refuse;
* the delivered MP4 carries its chapters twice: Nero ``chpl`` and a QuickTime chapter track (a
  disabled text track every other track references with ``chap``), which Apple players read.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import RenderSpec
from vividly_ray.observability.cpu import add_child_seconds

TRACK_TIMESCALE = 90_000
MOVIE_TIMESCALE = 1_000  # milliseconds: chapters of up to 24 days fit the chapter track
H264_LEVEL = "4.1"
# The narration keeps the voice's own sample rate (22.05 kHz for the bundled voice): resampling
# adds nothing to a speech track, and the fast AAC coder at that rate encodes two minutes of
# narration in about a second, against about four with the default coder at 48 kHz.
AUDIO_BITRATE = "96k"
AUDIO_CODER = "fast"
STDERR_TAIL_CHARS = 1500
DEFAULT_TIMEOUT_S = 600.0
NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device", as ffmpeg reports it too

# The concat demuxer reads each still through image2, whose default 25 fps time base would
# round every slide boundary to 40 ms; a 90 kHz "frame rate" makes the time base 1/90000.
_STILL_OPTIONS = f"option framerate {TRACK_TIMESCALE}"

# Crop to even dimensions (yuv420p needs them) and convert with BT.709, tagging it so players
# do not guess BT.601 and shift the theme's colours.
_VIDEO_FILTER = (
    "crop=trunc(iw/2)*2:trunc(ih/2)*2,"
    "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p,"
    "setparams=color_primaries=bt709:color_trc=bt709:colorspace=bt709:range=tv"
)


def _quote(path: Path) -> str:
    """A path as a concat-script string: single-quoted, embedded quotes escaped."""
    return "'" + str(path).replace("'", "'\\''") + "'"


def _microseconds(seconds: float) -> str:
    # Whole microseconds, the unit the concat demuxer parses durations into, so nothing rounds.
    micros = round(seconds * 1_000_000)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def stills_concat_script(frames: Sequence[tuple[Path, float]]) -> str:
    """A concat-demuxer script showing each still for its duration.

    The last still is listed again without a duration: the demuxer only honours a file's
    duration when another file follows, so the repeat makes the last slide last its full time
    and adds one frame of a single tick at the very end.
    """
    if not frames:
        raise ValueError("at least one frame is needed")
    lines = ["ffconcat version 1.0"]
    for path, duration in frames:
        lines += [f"file {_quote(path)}", _STILL_OPTIONS, f"duration {_microseconds(duration)}"]
    lines += [f"file {_quote(frames[-1][0])}", _STILL_OPTIONS]
    return "\n".join(lines) + "\n"


def segments_concat_script(segments: Sequence[tuple[Path, float]]) -> str:
    """A concat-demuxer script joining encoded segments at their measured durations."""
    if not segments:
        raise ValueError("at least one segment is needed")
    lines = ["ffconcat version 1.0"]
    for path, duration in segments:
        lines += [f"file {_quote(path)}", f"duration {_microseconds(duration)}"]
    return "\n".join(lines) + "\n"


def segment_encode_args(script: Path, out: Path, spec: RenderSpec, threads: int) -> list[str]:
    """Encode the stills listed in ``script`` into a video-only H.264 MP4 segment."""
    threads_arg = str(max(1, threads))
    return [
        "-threads", threads_arg,
        "-f", "concat", "-safe", "0", "-i", str(script),
        "-an", "-sn", "-dn",
        "-fps_mode", "vfr",
        "-filter_threads", threads_arg,
        "-vf", _VIDEO_FILTER,
        "-c:v", "libx264",
        "-preset", spec.encoder_preset,
        "-tune", "stillimage",
        "-bf", "0",
        "-crf", str(spec.crf),
        "-level:v", H264_LEVEL,
        "-threads", threads_arg,
        "-video_track_timescale", str(TRACK_TIMESCALE),
        "-map_metadata", "-1",
        "-f", "mp4", str(out),
    ]  # fmt: skip


# The PCM codec writing each sample width (bytes); 8-bit WAV is unsigned, wider ones signed.
_PCM_CODECS = {1: "pcm_u8", 2: "pcm_s16le", 3: "pcm_s24le", 4: "pcm_s32le"}


def resample_args(source: Path, out: Path, rate: int, channels: int, width: int) -> list[str]:
    """Convert a WAV to ``rate`` Hz, ``channels`` channels and ``width``-byte samples."""
    return [
        "-i", str(source),
        "-map_metadata", "-1",
        "-ar", str(rate),
        "-ac", str(channels),
        "-c:a", _PCM_CODECS[width],
        "-f", "wav", str(out),
    ]  # fmt: skip


@dataclass(frozen=True)
class MuxInputs:
    """Everything the final mux reads."""

    segments_script: Path
    narration_wav: Path
    chapters_metadata: Path
    subtitles_srt: Path | None = None
    title: str = ""
    # The narration is already AAC (an M4A from ``narration_encode_args``): copied, not encoded.
    narration_encoded: bool = False


# The narration's AAC settings, in the delivered MP4 and in the progressive encode alike, so
# both make the same packets from the same samples.
_NARRATION_AAC = ["-c:a", "aac", "-aac_coder", AUDIO_CODER, "-b:a", AUDIO_BITRATE, "-ac", "1"]
# ffmpeg's raw PCM format for each sample width (bytes), as WAV stores them.
_PCM_FORMATS = {1: "u8", 2: "s16le", 3: "s24le", 4: "s32le"}


def assemble_args(inputs: MuxInputs, out: Path) -> list[str]:
    """Join segments by stream copy, encode the narration once to AAC (or copy it, when it was
    encoded as the scenes finished), add chapters and subtitles."""
    args = [
        "-f", "concat", "-safe", "0", "-i", str(inputs.segments_script),
        "-i", str(inputs.narration_wav),
        "-f", "ffmetadata", "-i", str(inputs.chapters_metadata),
    ]  # fmt: skip
    maps = ["-map", "0:v:0", "-map", "1:a:0"]
    audio = ["-c:a", "copy"] if inputs.narration_encoded else _NARRATION_AAC
    codecs = ["-c:v", "copy", *audio]
    if inputs.subtitles_srt is not None:
        args += ["-f", "srt", "-i", str(inputs.subtitles_srt)]
        maps += ["-map", "3:s:0"]
        codecs += ["-c:s", "mov_text", "-metadata:s:s:0", "language=eng"]
    return [
        *args,
        *maps,
        *codecs,
        "-map_chapters", "2",
        "-map_metadata", "2",
        "-metadata", f"title={inputs.title}",
        "-metadata:s:a:0", "language=eng",
        # The chapter track (the QuickTime chapters Apple players show) is timed in the movie
        # timescale, which ffmpeg otherwise makes the common multiple of every track's (441 MHz
        # with 90 kHz video, 22.05 kHz sound and mov_text): a chapter longer than 4.9 s then
        # overflows, the track is dropped and its "chap" references point at nothing.
        "-movie_timescale", str(MOVIE_TIMESCALE),
        "-movflags", "+faststart",
        "-f", "mp4", str(out),
    ]  # fmt: skip


def narration_encode_args(rate: int, channels: int, width: int, out: Path) -> list[str]:
    """Encode raw PCM read from standard input (as a WAV of that format holds it) to AAC in an
    M4A, with the delivered MP4's settings; the M4A keeps the encoder's priming in its edit
    list, so the track copied into the MP4 starts where a direct encode would."""
    return [
        "-f", _PCM_FORMATS[width], "-ar", str(rate), "-ac", str(channels), "-i", "pipe:0",
        *_NARRATION_AAC,
        "-map_metadata", "-1",
        "-f", "mp4", str(out),
    ]  # fmt: skip


def ffmpeg_exe() -> str:
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def command_line(args: Sequence[str]) -> list[str]:
    """The full command: quiet except for errors, never interactive, overwriting its output."""
    return [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args]


@dataclass(frozen=True)
class _Finished:
    returncode: int
    stderr: str
    timed_out: bool


def _run(command: Sequence[str], timeout: float) -> _Finished:
    """Run ``command`` to its end (killed after ``timeout`` seconds), its CPU counted to this
    thread from its own usage (``os.wait4``), whatever other threads run meanwhile."""
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
    timer.start()
    try:
        assert process.stderr is not None
        stderr = process.stderr.read().decode("utf-8", errors="replace")
        process.stderr.close()
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    add_child_seconds(usage.ru_utime + usage.ru_stime)
    return _Finished(process.returncode, stderr, killed.is_set())


def run_ffmpeg(args: Sequence[str], stage: str, *, timeout: float = DEFAULT_TIMEOUT_S) -> None:
    """Run ffmpeg; a failure raises ``StageFailed`` carrying the end of ffmpeg's stderr."""
    try:
        done = _run(command_line(args), timeout)
    except OSError as exc:
        raise StageFailed(stage, f"ffmpeg could not be started: {exc}") from exc
    if done.timed_out:
        # A stalled run on a busy node may well finish on another attempt.
        raise StageFailed(stage, f"ffmpeg did not finish within {timeout:.0f} s", retryable=True)
    if done.returncode < 0:
        # Killed from outside (the kernel's out-of-memory killer, a node being drained): the
        # same command may well pass on another attempt. Its output is discarded by the caller.
        raise StageFailed(
            stage,
            f"ffmpeg was killed by {_signal_name(-done.returncode)} before it finished",
            retryable=True,
        )
    if done.returncode != 0:
        tail = done.stderr.strip()[-STDERR_TAIL_CHARS:] or "(no output)"
        # A full scratch disk is a state of this node, not of the command: retried.
        full = NO_SPACE in tail
        raise StageFailed(
            stage, f"ffmpeg exited with status {done.returncode}: {tail}", retryable=full
        )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
