"""The bundled Piper voice, for real: exact sentence timings and content-addressed reuse."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

import pytest

from vividly_ray.domain.models import Grade, Scene, SceneKind
from vividly_ray.speech.piper_narrator import PiperNarrator
from vividly_ray.speech.timing import SCENE_LEAD_SECONDS, SCENE_TAIL_SECONDS
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

SCENE = Scene(
    index=1,
    kind=SceneKind.CONCEPT,
    title="Evaporation",
    bullets=("Water turns into vapor",),
    narration=(
        "The sun warms the water in oceans and lakes.",
        "Some of the water turns into an invisible gas called water vapor.",
    ),
)


def test_narration_has_exact_sentence_timings(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    narrator = PiperNarrator(ContentCache(store, tmp_path / "tmp"), threads=1)
    audio = narrator.narrate(SCENE, Grade(5))
    with wave.open(str(store.path_of(audio.wav_key))) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        duration = wav.getnframes() / wav.getframerate()
    assert audio.duration == pytest.approx(duration)
    first, second = audio.sentences
    assert first.text == SCENE.narration[0] and second.text == SCENE.narration[1]
    assert first.start == pytest.approx(SCENE_LEAD_SECONDS, abs=0.01)
    assert first.start < first.end < second.start < second.end
    assert audio.duration == pytest.approx(second.end + SCENE_TAIL_SECONDS, abs=0.01)
    # A longer sentence takes longer to say.
    assert second.end - second.start > first.end - first.start


def test_same_text_and_voice_reuse_the_cached_audio(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    cache = ContentCache(store, tmp_path / "tmp")
    first = PiperNarrator(cache).narrate(SCENE, Grade(5))
    stamp = store.path_of(first.wav_key).stat().st_mtime_ns
    again = PiperNarrator(cache).narrate(SCENE, Grade(5))
    assert first.cpu_seconds > 0 and again.cpu_seconds == 0  # nothing was synthesised again
    assert dataclasses.replace(again, cpu_seconds=first.cpu_seconds) == first
    assert store.path_of(again.wav_key).stat().st_mtime_ns == stamp
    younger = PiperNarrator(cache).narrate(SCENE, Grade(1))
    assert younger.content_key != first.content_key
    assert younger.duration > first.duration
