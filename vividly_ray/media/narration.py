"""The narration track: every scene's WAV, padded or trimmed to its segment, as one PCM file.

Joining PCM and encoding once is what keeps sound and picture in step: separately encoded AAC
pieces each start with encoder priming, which adds a small gap at every join and drifts.
Scene boundaries are placed on the cumulative timeline and rounded to samples there, so the
rounding never accumulates over many scenes.
"""

from __future__ import annotations

import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from vividly_ray.domain.errors import StageFailed
from vividly_ray.media.ffmpeg import resample_args, run_ffmpeg

STAGE = "processing_video"


@dataclass(frozen=True)
class PcmFormat:
    """Sample rate, channel count and bytes per sample of a PCM WAV."""

    rate: int
    channels: int
    width: int

    @property
    def frame_bytes(self) -> int:
        return self.channels * self.width


def _read(path: Path, *, header_only: bool = False) -> tuple[PcmFormat, bytes]:
    try:
        with wave.open(str(path), "rb") as src:
            fmt = PcmFormat(src.getframerate(), src.getnchannels(), src.getsampwidth())
            return fmt, b"" if header_only else src.readframes(src.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise StageFailed(STAGE, f"cannot read narration {path.name}: {exc}") from exc


def wav_format(path: Path) -> PcmFormat:
    """The PCM format of a WAV file (a ``StageFailed`` when it cannot be read)."""
    return _read(path, header_only=True)[0]


def in_format(wav: Path, target: PcmFormat) -> Path:
    """``wav`` in the ``target`` format: itself when it already is, else a converted copy
    beside it. A video's pieces need not share a voice: when the speech provider fails part
    way, the fallback voice speaks the rest at its own sample rate (Piper's 22.05 kHz beside
    Cloud TTS's 24 kHz); sentence timings are in seconds, so they still hold."""
    if wav_format(wav) == target:
        return wav
    out = wav.with_name(f"{wav.stem}-{target.rate}hz.wav")
    run_ffmpeg(resample_args(wav, out, target.rate, target.channels, target.width), STAGE)
    return out


def read_wav(path: Path) -> tuple[PcmFormat, bytes]:
    """A PCM WAV's format and samples (a ``StageFailed`` when it cannot be read)."""
    return _read(path)


class SlotFitter:
    """Fits WAVs laid back to back into their slots on one timeline, in order.

    Each slot's end is placed on the cumulative timeline and rounded to samples there, so the
    rounding never accumulates. Both the joined PCM track and the progressive encoder use it,
    so they lay out the same samples.
    """

    def __init__(self, fmt: PcmFormat) -> None:
        self.fmt = fmt
        self._elapsed = 0.0
        self.written = 0  # frames laid out so far

    def fit(self, pcm: bytes, slot: float) -> bytes:
        """``pcm`` trimmed or padded with silence to end where its slot ends."""
        fmt = self.fmt
        self._elapsed += slot
        frames = round(self._elapsed * fmt.rate) - self.written
        fitted = pcm[: frames * fmt.frame_bytes]
        # 8-bit WAV is unsigned (silence is 128); wider samples are signed (silence is 0).
        silence = b"\x80" if fmt.width == 1 else b"\x00"
        fitted += silence * (frames * fmt.frame_bytes - len(fitted))
        self.written += frames
        return fitted


def join_narration(parts: Sequence[tuple[Path, float]], out: Path) -> float:
    """Write the WAVs back to back, each fitted to its slot length; returns the total seconds."""
    if not parts:
        raise StageFailed(STAGE, "there is no narration to join")
    # The first file's format is read before the output is opened, so a broken first file
    # fails cleanly instead of leaving a header-less WAV writer to complain on close.
    fmt, _ = _read(parts[0][0], header_only=True)
    fitter = SlotFitter(fmt)
    with wave.open(str(out), "wb") as sink:
        sink.setnchannels(fmt.channels)
        sink.setsampwidth(fmt.width)
        sink.setframerate(fmt.rate)
        for path, slot in parts:
            part_fmt, pcm = _read(path)
            if part_fmt != fmt:
                raise StageFailed(
                    STAGE, f"narration {path.name} is {part_fmt}, unlike the first scene's {fmt}"
                )
            sink.writeframes(fitter.fit(pcm, slot))
    return fitter.written / fmt.rate
