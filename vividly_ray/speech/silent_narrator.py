"""SilentNarrator: a narrator that speaks silence, for load tests and benchmarks.

``VIVIDLY_NARRATOR=silent`` swaps the voice for near-free audio so that a load test or a
benchmark measures the service (intake, dispatch, the pools, encoding, assembly) rather than
speech synthesis. It is an honest narrator of silence: every scene gets a real mono 16-bit WAV
file, as long as the bundled voice would take to say it by the very estimate the script's pacing
plans with (``speech/timing.py``: words at the grade's speaking rate; ``script/pacing.py``
counts the words), with the same lead-in, gap and tail silences as the Piper voice. Sentence
timings are placed by sample count, so captions and bullet reveals line up with the (silent)
track exactly as they do with speech.

Finished scenes go through the content-addressed cache like every other narrator's, under a key
of their own (``silent`` + sample rate + speaking rate + sentences), so silence is never mistaken
for a voice's audio of the same sentences, and a resumed request reuses it like any scene.

It is not meant for students: the video has no voice. ``voiced_by`` says ``silent`` in the
manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Grade, Scene, SceneAudio, ScenePart
from vividly_ray.observability.cpu import cpu_meter
from vividly_ray.script.pacing import spoken_words
from vividly_ray.speech.audio_meta import scene_audio
from vividly_ray.speech.timing import (
    SENTENCE_GAP_SECONDS,
    part_edges,
    spoken_sentences,
    words_per_second,
)
from vividly_ray.speech.wav import wav_duration, write_wav
from vividly_ray.storage.cache import ContentCache, content_key

VOICE_ID = "silent"
SAMPLE_RATE = 22_050  # the bundled Piper voice's rate, so the narration track is alike
_AUDIO_FORMAT_VERSION = 1


def _samples(seconds: float, rate: int) -> int:
    return max(0, round(seconds * rate))


def sentence_seconds(sentence: str, grade: Grade) -> float:
    """How long the bundled voice is expected to take to say ``sentence`` (pacing's estimate)."""
    return spoken_words(sentence) / words_per_second(grade)


class SilentNarrator:
    """Implements the Narrator port with silence paced like speech (load tests, benchmarks)."""

    def __init__(self, cache: ContentCache, sample_rate: int = SAMPLE_RATE) -> None:
        if sample_rate < 8000:
            raise ValueError("sample_rate must be at least 8000 Hz")
        self._cache = cache
        self._rate = sample_rate

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        sentences = spoken_sentences(scene, part)
        if not sentences:
            raise StageFailed("generating_video", f"scene {scene.index} has no narration")
        rate = words_per_second(grade)
        edges = part_edges(part)
        key = content_key(
            "audio", _AUDIO_FORMAT_VERSION, VOICE_ID, self._rate, rate, sentences, *edges
        )
        cached_wav = self._cache.get("audio", key, ".wav")
        cached_meta = self._cache.get_json("audio-timings", key)
        if cached_wav is not None and cached_meta is not None:
            return scene_audio(
                scene.index, cached_wav, cached_meta, key, voiced_by=VOICE_ID, part=part
            )
        duration = 0.0
        with cpu_meter() as measured:
            total, timings = self._layout(sentences, grade, edges)

            def write(tmp: Path) -> None:
                nonlocal duration
                write_wav(tmp, np.zeros(total, dtype=np.int16), self._rate)
                duration = wav_duration(tmp)

            wav_key = self._cache.put("audio", key, ".wav", write, "audio/wav")
        # The timings are written last: their presence means the audio is complete.
        meta = {"sentences": timings, "duration": duration}
        self._cache.put_json("audio-timings", key, meta)
        return scene_audio(
            scene.index,
            wav_key,
            meta,
            key,
            voiced_by=VOICE_ID,
            cpu_seconds=measured.seconds,
            part=part,
        )

    def _layout(
        self, sentences: list[str], grade: Grade, edges: tuple[float, float]
    ) -> tuple[int, list[dict[str, Any]]]:
        """The track's length in samples and where each sentence sits in it (sample-exact)."""
        rate = self._rate
        lead, tail = edges
        cursor = _samples(lead, rate)
        timings: list[dict[str, Any]] = []
        for number, sentence in enumerate(sentences):
            if number:
                cursor += _samples(SENTENCE_GAP_SECONDS, rate)
            start = cursor
            # Every sentence takes at least one sample, so its cue is never empty.
            cursor += max(1, _samples(sentence_seconds(sentence, grade), rate))
            timings.append({"text": sentence, "start": start / rate, "end": cursor / rate})
        cursor += _samples(tail, rate)
        return cursor, timings
