"""SilentNarrator: real silent WAVs paced by the pacing estimate, through the content cache."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from tests.fakes import MemoryBlobStore
from vividly_ray.bootstrap import build_narrator
from vividly_ray.domain.blobs import BlobInfo
from vividly_ray.domain.errors import ConfigurationError, StageFailed
from vividly_ray.domain.models import Grade, Scene, SceneKind
from vividly_ray.script.pacing import narration_seconds
from vividly_ray.settings import load_settings
from vividly_ray.speech import piper_narrator
from vividly_ray.speech.silent_narrator import (
    SAMPLE_RATE,
    SilentNarrator,
    sentence_seconds,
)
from vividly_ray.speech.timing import (
    SCENE_LEAD_SECONDS,
    SCENE_TAIL_SECONDS,
    SENTENCE_GAP_SECONDS,
    length_scale,
)
from vividly_ray.storage.cache import ContentCache, content_key

GRADE = Grade(8)
SENTENCES = (
    "Water evaporates from the ocean when the Sun warms it.",
    "The vapour rises, cools and condenses into clouds.",
    "Rain and snow bring the water back down in 1987 and every year.",
)
SAMPLE_S = 1 / SAMPLE_RATE


def _scene(index: int = 1, narration: tuple[str, ...] = SENTENCES) -> Scene:
    return Scene(index, SceneKind.CONCEPT, "The water cycle", ("water moves",), narration)


class CountingStore(MemoryBlobStore):
    """Records every key written (``put_file`` goes through ``put_bytes``)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def put_bytes(self, key: str, data: bytes, content_type: str) -> BlobInfo:
        self.writes.append(key)
        return super().put_bytes(key, data, content_type)


def _narrator(tmp_path: Path) -> tuple[SilentNarrator, CountingStore]:
    store = CountingStore()
    return SilentNarrator(ContentCache(store, tmp_path / "scratch")), store


def _wav(store: MemoryBlobStore, key: str) -> tuple[wave._wave_params, np.ndarray]:
    with wave.open(io.BytesIO(store.get_bytes(key)), "rb") as src:
        params = src.getparams()
        samples = np.frombuffer(src.readframes(src.getnframes()), dtype=np.int16)
    return params, samples


def test_a_scene_is_a_silent_mono_16_bit_wav_as_long_as_pacing_plans(tmp_path: Path) -> None:
    narrator, store = _narrator(tmp_path)
    audio = narrator.narrate(_scene(), GRADE)

    params, samples = _wav(store, audio.wav_key)
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, SAMPLE_RATE)
    assert len(samples) == params.nframes > 0
    assert not samples.any()  # silence, every sample
    assert audio.duration == pytest.approx(params.nframes / SAMPLE_RATE)
    # The length the script's pacing planned for this scene, to a few samples of rounding.
    planned = narration_seconds(SENTENCES, GRADE)
    assert audio.duration == pytest.approx(planned, abs=8 * SAMPLE_S)
    assert audio.voiced_by == "silent"
    assert audio.scene_index == 1
    assert audio.tts_characters == 0
    assert audio.wav_key.startswith("cache/audio/") and audio.wav_key.endswith(".wav")


def test_sentence_timings_follow_the_speaking_rate_with_the_voices_silences(
    tmp_path: Path,
) -> None:
    narrator, _ = _narrator(tmp_path)
    audio = narrator.narrate(_scene(), GRADE)

    assert [s.text for s in audio.sentences] == list(SENTENCES)
    first = audio.sentences[0]
    assert first.start == pytest.approx(SCENE_LEAD_SECONDS, abs=SAMPLE_S)
    for timing, text in zip(audio.sentences, SENTENCES, strict=True):
        assert timing.end - timing.start == pytest.approx(
            sentence_seconds(text, GRADE), abs=SAMPLE_S
        )
    for before, after in zip(audio.sentences, audio.sentences[1:], strict=False):
        assert after.start - before.end == pytest.approx(SENTENCE_GAP_SECONDS, abs=SAMPLE_S)
    assert audio.duration - audio.sentences[-1].end == pytest.approx(
        SCENE_TAIL_SECONDS, abs=SAMPLE_S
    )
    # "1987" is spoken as about two words, as the pacing counts it.
    assert sentence_seconds(SENTENCES[2], GRADE) > sentence_seconds(SENTENCES[1], GRADE)


def test_younger_students_get_slower_narration(tmp_path: Path) -> None:
    narrator, _ = _narrator(tmp_path)
    older = narrator.narrate(_scene(), Grade(8))
    younger = narrator.narrate(_scene(), Grade(1))
    assert younger.duration > older.duration
    assert younger.content_key != older.content_key
    assert younger.duration == pytest.approx(
        narration_seconds(SENTENCES, Grade(1)), abs=8 * SAMPLE_S
    )


def test_the_same_narration_is_made_once_and_then_comes_from_the_cache(tmp_path: Path) -> None:
    narrator, store = _narrator(tmp_path)
    first = narrator.narrate(_scene(1), GRADE)
    made = list(store.writes)
    assert len(made) == 2  # the WAV, then its timings (whose presence marks it whole)
    assert made[0].startswith("cache/audio/") and made[1].startswith("cache/audio-timings/")

    again = narrator.narrate(_scene(4), GRADE)  # another scene saying the same sentences
    assert store.writes == made  # nothing written the second time
    assert again.wav_key == first.wav_key and again.content_key == first.content_key
    assert again.sentences == first.sentences and again.duration == first.duration
    assert again.scene_index == 4
    assert again.cpu_seconds == 0.0


def test_an_entry_without_its_timings_is_made_again(tmp_path: Path) -> None:
    narrator, store = _narrator(tmp_path)
    first = narrator.narrate(_scene(), GRADE)
    timings_key = next(key for key in store.writes if key.startswith("cache/audio-timings/"))
    store.delete(timings_key)  # a crash between the WAV and its timings
    store.writes.clear()

    again = narrator.narrate(_scene(), GRADE)
    assert store.writes == [first.wav_key, timings_key]
    assert again.sentences == first.sentences


def test_silence_is_keyed_apart_from_the_voice_and_never_mistaken_for_it(tmp_path: Path) -> None:
    narrator, store = _narrator(tmp_path)
    cache = ContentCache(store, tmp_path / "scratch")
    # A Piper entry for the very same sentences, as PiperNarrator would have stored it.
    piper_key = content_key(
        "audio",
        piper_narrator._AUDIO_FORMAT_VERSION,
        piper_narrator.VOICE_ID,
        length_scale(GRADE),
        list(SENTENCES),
    )
    cache.put_json("audio-timings", piper_key, {"sentences": [], "duration": 9.0})
    store.put_bytes(ContentCache.blob_key("audio", piper_key, ".wav"), b"speech", "audio/wav")

    audio = narrator.narrate(_scene(), GRADE)
    assert audio.content_key != piper_key
    assert audio.duration != 9.0 and audio.voiced_by == "silent"
    other_rate = SilentNarrator(cache, sample_rate=16_000).narrate(_scene(), GRADE)
    assert other_rate.content_key != audio.content_key


def test_a_scene_without_narration_fails_its_stage(tmp_path: Path) -> None:
    narrator, store = _narrator(tmp_path)
    with pytest.raises(StageFailed) as raised:
        narrator.narrate(_scene(narration=("  ",)), GRADE)
    assert raised.value.stage == "generating_video" and not raised.value.retryable
    assert store.writes == []
    with pytest.raises(ValueError):
        SilentNarrator(ContentCache(store, tmp_path), sample_rate=100)


def test_the_setting_picks_it_and_refuses_unknown_narrators(tmp_path: Path) -> None:
    env = {"VIVIDLY_HOME": str(tmp_path / "home"), "VIVIDLY_NARRATOR": "silent"}
    settings = load_settings(env)
    assert settings.narrator == "silent"
    narrator = build_narrator(settings)
    assert isinstance(narrator, SilentNarrator)
    audio = narrator.narrate(_scene(), GRADE)  # stored in the configured blob folder
    assert (settings.blob_dir / audio.wav_key).is_file()

    with pytest.raises(ConfigurationError) as refused:
        load_settings({**env, "VIVIDLY_NARRATOR": "silence"})
    assert any(p.startswith("VIVIDLY_NARRATOR:") for p in refused.value.problems)
