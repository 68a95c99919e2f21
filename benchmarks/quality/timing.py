"""Estimated narration timings (no audio is made) and the duration check.

A scene's estimated audio follows the narrator's own layout (``vividly_ray/speech/timing.py``):
a lead-in silence, each sentence for its spoken words at the grade's speaking rate, a gap between
sentences and a tail silence. Its total is exactly ``pacing.scene_seconds``, so captions and
slide reveals here are timed the way the estimate the writer planned with says they will be.

Duration: the estimated spoken length is ``pacing.script_seconds(script)``; a lesson is within
target when it is no more than 10% away from the requested minutes x 60.
"""

from __future__ import annotations

from dataclasses import dataclass

from vividly_ray.domain.models import Grade, Scene, SceneAudio, Script, SentenceTiming
from vividly_ray.script.pacing import script_seconds, spoken_words
from vividly_ray.speech.timing import (
    SCENE_LEAD_SECONDS,
    SCENE_TAIL_SECONDS,
    SENTENCE_GAP_SECONDS,
    words_per_second,
)

DURATION_TOLERANCE = 0.10
ESTIMATED_VOICE = "estimate"


def estimated_audio(scene: Scene, grade: Grade) -> SceneAudio:
    """SceneAudio for ``scene`` with estimated sentence timings; the WAV key names nothing,
    since drawing slides and building captions read only the timings."""
    rate = words_per_second(grade)
    cursor = SCENE_LEAD_SECONDS
    timings: list[SentenceTiming] = []
    for sentence in (s for s in scene.narration if s.strip()):
        if timings:
            cursor += SENTENCE_GAP_SECONDS
        end = cursor + spoken_words(sentence) / rate
        timings.append(SentenceTiming(sentence, cursor, end))
        cursor = end
    return SceneAudio(
        scene_index=scene.index,
        wav_key=f"estimate/scene-{scene.index:03d}.wav",
        duration=cursor + SCENE_TAIL_SECONDS,
        sentences=tuple(timings),
        content_key=f"estimate-{scene.index}",
        voiced_by=ESTIMATED_VOICE,
    )


def estimated_timeline(script: Script) -> list[tuple[float, SceneAudio]]:
    """Each scene's estimated audio with its offset in the video, in scene order."""
    placed: list[tuple[float, SceneAudio]] = []
    offset = 0.0
    for scene in script.scenes:
        audio = estimated_audio(scene, script.grade)
        placed.append((offset, audio))
        offset += audio.duration
    return placed


@dataclass(frozen=True)
class Duration:
    estimated_s: float
    target_s: float

    @property
    def relative_error(self) -> float:
        return (self.estimated_s - self.target_s) / self.target_s if self.target_s else 0.0

    @property
    def within(self) -> bool:
        return abs(self.relative_error) <= DURATION_TOLERANCE

    def to_dict(self) -> dict[str, float | bool]:
        return {
            "estimated_s": round(self.estimated_s, 1),
            "target_s": round(self.target_s, 1),
            "relative_error": round(self.relative_error, 3),
            "within_10pct": self.within,
        }


def measure_duration(script: Script, minutes: float) -> Duration:
    return Duration(script_seconds(script), minutes * 60.0)
