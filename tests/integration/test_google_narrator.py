"""GoogleNarrator through the real Text-to-Speech SDK, against a loopback stand-in of the REST API.

Timings are checked by samples: the stand-in's speech is never silent and our gaps always are,
so each sentence's timing must match one non-silent run of the finished WAV exactly.
"""

from __future__ import annotations

import os
import re
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from google.cloud import texttospeech_v1beta1 as tts
from google.oauth2.credentials import Credentials

from tests.stubs.tts_stub import MAX_INPUT_BYTES, TtsStub, running_tts_stub, spoken_samples
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import Grade, Scene, SceneAudio, SceneKind, ScenePart, SentenceTiming
from vividly_ray.resilience import BreakerPolicy, CircuitBreaker
from vividly_ray.speech.fallback_narrator import FallbackNarrator
from vividly_ray.speech.google_narrator import GoogleNarrator, make_tts_client, speaking_rate
from vividly_ray.speech.timing import SCENE_LEAD_SECONDS, SCENE_TAIL_SECONDS, SENTENCE_GAP_SECONDS
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

GRADE = Grade(7)
SENTENCES = (
    "The sun warms the water in oceans & lakes.",
    "Some of it turns into an invisible gas called <water vapor>.",
    "Rain falls.",
)
SCENE = Scene(2, SceneKind.CONCEPT, "Evaporation", ("Water turns into vapor",), SENTENCES)
NEURAL2 = "en-US-Neural2-F"


class Setup:
    """A narrator over the stub, its blob store, and the backoff sleeps it asked for."""

    def __init__(self, stub: TtsStub, root: Path, **options: object) -> None:
        self.stub = stub
        self.store = LocalBlobStore(root / "blobs")
        self.cache = ContentCache(self.store, root / "tmp")
        self.client = make_tts_client(stub.url, Credentials(token="t"))
        self.sleeps: list[float] = []
        self.narrator = self.make(**options)

    def make(self, **options: object) -> GoogleNarrator:
        return GoogleNarrator(
            self.client,
            self.cache,
            sleep=self.sleeps.append,
            **options,  # type: ignore[arg-type]
        )

    def samples(self, audio: SceneAudio) -> tuple[npt.NDArray[np.int16], int]:
        with wave.open(str(self.store.path_of(audio.wav_key))) as wav:
            assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
            frames = wav.readframes(wav.getnframes())
            return np.frombuffer(frames, dtype="<i2").astype(np.int16), wav.getframerate()


@pytest.fixture
def stub() -> Iterator[TtsStub]:
    with running_tts_stub() as running:
        yield running


@pytest.fixture
def setup(stub: TtsStub, tmp_path: Path) -> Setup:
    return Setup(stub, tmp_path)


def voiced_runs(samples: npt.NDArray[np.int16]) -> list[tuple[int, int]]:
    """(first, past-last) sample of every non-silent run."""
    edges = np.diff(np.concatenate(([0], (samples != 0).astype(np.int8), [0])))
    return list(
        zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True)
    )


def sample_span(timing: SentenceTiming, rate: int) -> tuple[int, int]:
    return round(timing.start * rate), round(timing.end * rate)


def assert_exact_timings(setup: Setup, audio: SceneAudio, grade: Grade = GRADE) -> None:
    samples, rate = setup.samples(audio)
    spans = [sample_span(t, rate) for t in audio.sentences]
    assert voiced_runs(samples) == spans
    speed = speaking_rate(grade)
    for timing, (start, end) in zip(audio.sentences, spans, strict=True):
        assert end - start == spoken_samples(timing.text, rate, speed)
    assert spans[0][0] == round(SCENE_LEAD_SECONDS * rate)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start - end == round(SENTENCE_GAP_SECONDS * rate)
    assert len(samples) - spans[-1][1] == round(SCENE_TAIL_SECONDS * rate)
    assert audio.duration == pytest.approx(len(samples) / rate)


def test_a_chirp_voice_gets_one_plain_sentence_per_request_and_exact_timings(
    setup: Setup,
) -> None:
    audio = setup.narrator.narrate(SCENE, GRADE)
    bodies = setup.stub.requests
    assert [body["input"] for body in bodies] == [{"text": s} for s in SENTENCES]
    assert all("enableTimePointing" not in body for body in bodies)
    assert bodies[0]["voice"] == {"languageCode": "en-US", "name": "en-US-Chirp3-HD-Charon"}
    assert bodies[0]["audioConfig"]["audioEncoding"] == "LINEAR16"
    assert bodies[0]["audioConfig"]["sampleRateHertz"] == 24000
    assert [t.text for t in audio.sentences] == list(SENTENCES)
    assert_exact_timings(setup, audio)
    assert setup.samples(audio)[1] == 24000
    assert audio.voiced_by == "google:en-US-Chirp3-HD-Charon"
    assert audio.tts_characters == sum(len(s) for s in SENTENCES)
    assert audio.scene_index == SCENE.index


def test_a_neural2_voice_gets_one_marked_ssml_request_cut_at_the_marks(
    stub: TtsStub, tmp_path: Path
) -> None:
    setup = Setup(stub, tmp_path, voice=NEURAL2, sample_rate=16000)
    audio = setup.narrator.narrate(SCENE, GRADE)
    [body] = stub.requests
    ssml = body["input"]["ssml"]
    assert body["enableTimePointing"] == ["SSML_MARK"]
    assert ssml == (
        '<speak><mark name="p0"/>The sun warms the water in oceans &amp; lakes. '
        '<mark name="p1"/>Some of it turns into an invisible gas called &lt;water vapor&gt;. '
        '<mark name="p2"/>Rain falls. <mark name="end"/></speak>'
    )
    assert setup.samples(audio)[1] == 16000
    assert_exact_timings(setup, audio)
    assert audio.voiced_by == f"google:{NEURAL2}"
    assert audio.tts_characters == len(ssml)


def test_when_the_marks_do_not_come_back_each_sentence_is_asked_for_alone(
    stub: TtsStub, tmp_path: Path
) -> None:
    stub.omit_timepoints = True
    setup = Setup(stub, tmp_path, voice=NEURAL2)
    audio = setup.narrator.narrate(SCENE, GRADE)
    inputs = stub.inputs()
    assert "ssml" in inputs[0]
    assert inputs[1:] == [{"text": s} for s in SENTENCES]
    assert_exact_timings(setup, audio)


def _long_sentence() -> str:
    words = [f"molécule{n}" for n in range(1400)]  # about 16,000 bytes: é is two bytes
    return " ".join(words) + "."


@pytest.mark.parametrize("voice", ["en-US-Chirp3-HD-Charon", NEURAL2])
def test_a_very_long_sentence_is_split_at_words_under_the_byte_limit(
    stub: TtsStub, tmp_path: Path, voice: str
) -> None:
    long = _long_sentence()
    scene = Scene(5, SceneKind.CONCEPT, "Long", (), ("A short start.", long, "The end."))
    setup = Setup(stub, tmp_path, voice=voice)
    audio = setup.narrator.narrate(scene, GRADE)
    inputs = stub.inputs()
    sent = [i.get("text") or i["ssml"] for i in inputs]
    assert len(sent) >= 4
    assert all(len(s.encode("utf-8")) <= MAX_INPUT_BYTES for s in sent)
    if "ssml" in inputs[0]:
        spoken = " ".join(re.sub(r"<[^>]+>", "", s) for s in sent)
        assert spoken.split() == " ".join(scene.narration).split()
    else:
        chunks = [i["text"] for i in inputs[1:-1]]
        assert " ".join(chunks) == long  # cut only between words
    samples, rate = setup.samples(audio)
    assert [t.text for t in audio.sentences] == list(scene.narration)
    assert voiced_runs(samples) == [sample_span(t, rate) for t in audio.sentences]


def test_a_single_word_over_the_limit_is_cut_between_characters(setup: Setup) -> None:
    token = "x" * 12_000
    audio = setup.narrator.narrate(Scene(1, SceneKind.CONCEPT, "Token", (), (token,)), GRADE)
    texts = [i["text"] for i in setup.stub.inputs()]
    assert "".join(texts) == token
    assert all(len(t) <= MAX_INPUT_BYTES for t in texts)
    samples, rate = setup.samples(audio)
    assert voiced_runs(samples) == [sample_span(audio.sentences[0], rate)]


def test_rate_limits_are_retried_with_exponential_backoff(setup: Setup) -> None:
    setup.stub.fail_next(2, 429, "Quota exceeded")
    scene = Scene(1, SceneKind.CONCEPT, "One", (), ("Rain falls.",))
    audio = setup.narrator.narrate(scene, GRADE)
    assert len(setup.stub.requests) == 3
    assert setup.sleeps == [0.5, 1.0]
    assert audio.tts_characters == len("Rain falls.")  # only the answered request counts
    assert_exact_timings(setup, audio)


def test_a_dropped_connection_is_retried(setup: Setup) -> None:
    setup.stub.drop_next(1)
    audio = setup.narrator.narrate(Scene(1, SceneKind.CONCEPT, "One", (), ("Rain.",)), GRADE)
    assert len(setup.stub.requests) == 2 and setup.sleeps == [0.5]
    assert audio.sentences[0].end > audio.sentences[0].start


def test_a_server_error_that_persists_ends_in_a_retryable_failure(setup: Setup) -> None:
    setup.stub.fail_next(100, 500, "Internal error encountered.")
    with pytest.raises(StageFailed) as failure:
        setup.narrator.narrate(SCENE, GRADE)
    error = failure.value
    assert error.retryable and error.stage == "generating_video"
    assert "scene 2" in error.reason and "HTTP 500" in error.reason
    assert "after 4 attempts" in error.reason
    assert len(setup.stub.requests) == 4
    assert setup.sleeps == [0.5, 1.0, 2.0]


def test_max_attempts_and_backoff_are_configurable(stub: TtsStub, tmp_path: Path) -> None:
    stub.fail_next(100, 503)
    setup = Setup(stub, tmp_path, max_attempts=2, backoff_s=0.1)
    with pytest.raises(StageFailed, match="HTTP 503") as failure:
        setup.narrator.narrate(SCENE, GRADE)
    assert failure.value.retryable
    assert len(stub.requests) == 2 and setup.sleeps == [0.1]


@pytest.mark.parametrize("status", [400, 403])
def test_a_refusal_fails_at_once_and_is_not_retryable(setup: Setup, status: int) -> None:
    setup.stub.fail_next(1, status, "Voice 'en-US-Nope' does not exist.")
    with pytest.raises(StageFailed) as failure:
        setup.narrator.narrate(SCENE, GRADE)
    error = failure.value
    assert not error.retryable
    assert f"HTTP {status}" in error.reason and "Voice 'en-US-Nope' does not exist." in error.reason
    assert len(setup.stub.requests) == 1 and setup.sleeps == []


def test_the_same_narration_is_served_from_the_cache_without_a_request(setup: Setup) -> None:
    first = setup.narrator.narrate(SCENE, GRADE)
    sent = len(setup.stub.requests)
    stamp = setup.store.path_of(first.wav_key).stat().st_mtime_ns
    again = setup.make().narrate(SCENE, GRADE)
    assert len(setup.stub.requests) == sent
    assert again.tts_characters == 0 and first.tts_characters > 0
    assert again.wav_key == first.wav_key and again.duration == first.duration
    assert again.sentences == first.sentences
    assert again.voiced_by == first.voiced_by
    assert setup.store.path_of(again.wav_key).stat().st_mtime_ns == stamp
    other = setup.make(voice="en-US-Chirp3-HD-Aoede").narrate(SCENE, GRADE)
    assert other.content_key != first.content_key
    assert len(setup.stub.requests) == sent + len(SENTENCES)


def test_the_speaking_rate_follows_the_grade(setup: Setup) -> None:
    kindergarten = setup.narrator.narrate(SCENE, Grade(0))
    rates_k = [b["audioConfig"]["speakingRate"] for b in setup.stub.requests]
    setup.stub.requests.clear()
    twelfth = setup.narrator.narrate(SCENE, Grade(12))
    rates_12 = [b["audioConfig"]["speakingRate"] for b in setup.stub.requests]
    assert rates_k == [pytest.approx(1 / 1.15, abs=1e-3)] * len(SENTENCES)
    assert rates_12 == [1.0] * len(SENTENCES)
    assert kindergarten.duration > twelfth.duration
    assert kindergarten.content_key != twelfth.content_key
    assert_exact_timings(setup, kindergarten, Grade(0))


def test_a_scene_without_narration_fails_before_any_request(setup: Setup) -> None:
    with pytest.raises(StageFailed, match="no narration"):
        setup.narrator.narrate(Scene(9, SceneKind.TITLE, "Empty", (), ("  ",)), GRADE)
    assert setup.stub.requests == []


class EmbeddedVoice:
    """Stands in for the Piper narrator: silent audio of fixed length, voiced by ``piper``."""

    voice = "piper:en_US-joe-medium"

    def __init__(self) -> None:
        self.scenes: list[int] = []

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        self.scenes.append(scene.index)
        timings = tuple(SentenceTiming(s, 0.4, 1.0) for s in scene.narration)
        return SceneAudio(scene.index, f"piper/{scene.index}.wav", 1.6, timings, "k", self.voice)


def test_a_google_outage_is_narrated_by_the_fallback_voice(stub: TtsStub, tmp_path: Path) -> None:
    stub.fail_next(1000, 500, "backend error")
    setup = Setup(stub, tmp_path, max_attempts=2)
    fallback = EmbeddedVoice()
    breaker = CircuitBreaker("google-tts", BreakerPolicy(failure_threshold=1, open_seconds=60))
    narrator = FallbackNarrator(setup.narrator, fallback, breaker)
    audio = narrator.narrate(SCENE, GRADE)
    assert audio.voiced_by == "piper:en_US-joe-medium" and audio.tts_characters == 0
    assert len(stub.requests) == 2
    later = narrator.narrate(Scene(3, SceneKind.RECAP, "Recap", (), ("Water moves.",)), GRADE)
    assert later.voiced_by == "piper:en_US-joe-medium"
    assert len(stub.requests) == 2  # the open breaker spares the broken provider
    assert fallback.scenes == [2, 3]


LIVE = bool(os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")) or (
    os.environ.get("VIVIDLY_LIVE_GOOGLE") == "1"
)


@pytest.mark.skipif(not LIVE, reason="set GOOGLE_APPLICATION_CREDENTIALS or VIVIDLY_LIVE_GOOGLE=1")
def test_live_google_voice_speaks_one_short_scene(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    voice = os.environ.get("VIVIDLY_LIVE_GOOGLE_VOICE", "en-US-Chirp3-HD-Charon")
    client: tts.TextToSpeechClient = make_tts_client()
    narrator = GoogleNarrator(client, ContentCache(store, tmp_path / "tmp"), voice=voice)
    scene = Scene(0, SceneKind.TITLE, "Water", (), ("Water moves.", "It never stops."))
    audio = narrator.narrate(scene, GRADE)
    with wave.open(str(store.path_of(audio.wav_key))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 24000)
    first, second = audio.sentences
    assert first.start == pytest.approx(SCENE_LEAD_SECONDS, abs=1e-3)
    assert first.start < first.end < second.start < second.end < audio.duration
    assert audio.tts_characters == len("Water moves.") + len("It never stops.")
