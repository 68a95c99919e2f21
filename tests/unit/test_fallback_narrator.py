"""FallbackNarrator with hand-written narrators: every scene gets a voice, and says whose."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Grade, Scene, SceneAudio, SceneKind, ScenePart, SentenceTiming
from vividly_ray.resilience import BreakerPolicy, BreakerState, CircuitBreaker
from vividly_ray.speech.fallback_narrator import FallbackNarrator

GRADE = Grade(5)


def _scene(index: int) -> Scene:
    return Scene(index, SceneKind.CONCEPT, f"Scene {index}", ("a point",), ("One sentence.",))


@dataclass
class ScriptedNarrator:
    """Speaks as ``voice``; raises the next queued error first, if any."""

    voice: str
    errors: list[Exception] = field(default_factory=list)
    calls: list[int] = field(default_factory=list)

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        self.calls.append(scene.index)
        if self.errors:
            raise self.errors.pop(0)
        return SceneAudio(
            scene_index=scene.index,
            wav_key=f"{self.voice}/{scene.index}.wav",
            duration=1.0,
            sentences=(SentenceTiming(scene.narration[0], 0.4, 0.9),),
            content_key=f"{self.voice}-{scene.index}",
            voiced_by=self.voice,
            tts_characters=13 if self.voice.startswith("google") else 0,
        )


class ManualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _setup(
    primary_errors: list[Exception] | None = None, threshold: int = 2
) -> tuple[FallbackNarrator, ScriptedNarrator, ScriptedNarrator, CircuitBreaker, ManualClock]:
    primary = ScriptedNarrator("google:en-US-Chirp3-HD-Charon", list(primary_errors or []))
    fallback = ScriptedNarrator("piper:en_US-joe-medium")
    clock = ManualClock()
    breaker = CircuitBreaker("google-tts", BreakerPolicy(threshold, open_seconds=30), clock)
    return FallbackNarrator(primary, fallback, breaker), primary, fallback, breaker, clock


def _outage() -> StageFailed:
    return StageFailed("generating_video", "Google TTS failed (HTTP 500)", retryable=True)


def test_a_healthy_primary_speaks_every_scene() -> None:
    narrator, primary, fallback, breaker, _ = _setup()
    voices = [narrator.narrate(_scene(i), GRADE).voiced_by for i in range(3)]
    assert voices == ["google:en-US-Chirp3-HD-Charon"] * 3
    assert fallback.calls == []
    assert breaker.state is BreakerState.CLOSED


def test_a_failed_scene_is_spoken_by_the_fallback_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    narrator, primary, fallback, breaker, _ = _setup([_outage()])
    with caplog.at_level(logging.WARNING, logger="vividly.speech"):
        audio = narrator.narrate(_scene(4), GRADE)
    assert audio.voiced_by == "piper:en_US-joe-medium"
    assert audio.scene_index == 4 and audio.tts_characters == 0
    assert primary.calls == [4] and fallback.calls == [4]
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "scene 4" in record.getMessage()
    assert "HTTP 500" in record.getMessage()


def test_any_provider_exception_falls_back_not_only_stage_failed() -> None:
    narrator, _, fallback, _, _ = _setup([ConnectionResetError("peer went away")])
    assert narrator.narrate(_scene(1), GRADE).voiced_by == fallback.voice


def test_a_success_after_a_failure_resets_the_breaker() -> None:
    narrator, primary, fallback, breaker, _ = _setup([_outage()], threshold=2)
    narrator.narrate(_scene(0), GRADE)
    narrator.narrate(_scene(1), GRADE)  # primary succeeds: the failure count starts again
    primary.errors.append(_outage())
    narrator.narrate(_scene(2), GRADE)
    assert breaker.state is BreakerState.CLOSED
    assert fallback.calls == [0, 2]


def test_an_open_breaker_sends_scenes_straight_to_the_fallback() -> None:
    narrator, primary, fallback, breaker, _ = _setup([_outage(), _outage()], threshold=2)
    narrator.narrate(_scene(0), GRADE)
    narrator.narrate(_scene(1), GRADE)
    assert breaker.state is BreakerState.OPEN
    voices = [narrator.narrate(_scene(i), GRADE).voiced_by for i in range(2, 6)]
    assert voices == [fallback.voice] * 4
    assert primary.calls == [0, 1]  # the broken provider is not asked again
    assert fallback.calls == [0, 1, 2, 3, 4, 5]


def test_after_the_open_period_one_trial_goes_to_the_primary_and_can_close_it() -> None:
    narrator, primary, fallback, breaker, clock = _setup([_outage(), _outage()], threshold=2)
    narrator.narrate(_scene(0), GRADE)
    narrator.narrate(_scene(1), GRADE)
    clock.now += 30
    audio = narrator.narrate(_scene(2), GRADE)
    assert audio.voiced_by == primary.voice
    assert breaker.state is BreakerState.CLOSED
    assert narrator.narrate(_scene(3), GRADE).voiced_by == primary.voice


def test_a_failed_trial_reopens_the_breaker_and_the_scene_still_gets_a_voice() -> None:
    narrator, primary, fallback, breaker, clock = _setup([_outage()] * 3, threshold=2)
    narrator.narrate(_scene(0), GRADE)
    narrator.narrate(_scene(1), GRADE)
    clock.now += 30
    assert narrator.narrate(_scene(2), GRADE).voiced_by == fallback.voice
    assert breaker.state is BreakerState.OPEN
    narrator.narrate(_scene(3), GRADE)
    assert primary.calls == [0, 1, 2]


def test_an_error_of_the_fallback_itself_propagates() -> None:
    narrator, _, fallback, _, _ = _setup([_outage()])
    fallback.errors.append(StageFailed("generating_video", "piper broke", retryable=True))
    with pytest.raises(StageFailed, match="piper broke"):
        narrator.narrate(_scene(0), GRADE)
