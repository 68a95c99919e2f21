"""Minimal PCM WAV helpers (mono, 16-bit) built on the standard library."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt


def silence(seconds: float, sample_rate: int) -> npt.NDArray[np.int16]:
    return np.zeros(max(0, round(seconds * sample_rate)), dtype=np.int16)


def write_wav(path: Path, samples: npt.NDArray[np.int16], sample_rate: int) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(samples.astype(np.int16).tobytes())


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as src:
        return src.getnframes() / float(src.getframerate())
