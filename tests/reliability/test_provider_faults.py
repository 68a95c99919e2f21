"""7. Provider faults: the speech and script-model providers answer 429, 500, hang past the
client's timeout, or answer garbage.

Everything goes through the real SDKs (google-cloud-texttospeech over REST, google-genai, httpx)
against the loopback stubs of the real endpoints; the fallback voice is the real Piper. Checked:
- retries happen, with backoff, as many as configured (counted at the stub);
- the circuit breaker opens after the configured failures, then Piper narrates without the
  provider being asked again, and a trial call closes it once the provider is well;
- a script model that keeps failing ends in the offline writer's script;
- the manifest of a real pipeline run says which voice narrated and which writer wrote each
  scene when the providers failed part way.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av
import pytest
from google.oauth2.credentials import Credentials

from tests.fakes import FakeAssessor, FakeTracker
from tests.reliability.ledger import Ledger
from tests.stubs import gemini_stub, openai_stub
from tests.stubs.llm_stub_server import Recorded, RecordingServer, StubReply
from tests.stubs.scripted_model import scene_number
from tests.stubs.tts_stub import INVALID_JSON, WRONG_AUDIO, TtsStub, running_tts_stub
from tests.stubs.water_cycle import TOPIC, water_cycle_request, water_cycle_retrieval
from vividly_ray.domain.models import (
    Grade,
    RenderSpec,
    Resolution,
    Retrieval,
    Scene,
    SceneAudio,
    SceneKind,
    ScenePart,
    Script,
)
from vividly_ray.media.assemble import VideoAssembler
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
from vividly_ray.pipeline.sequential import InProcessSceneExecutor
from vividly_ray.resilience import BreakerPolicy, BreakerState, CircuitBreaker
from vividly_ray.script.llm.client import RetryPolicy
from vividly_ray.script.llm.gemini import GeminiScriptWriter, make_gemini_client
from vividly_ray.script.llm.openai_compatible import OpenAICompatibleScriptWriter
from vividly_ray.script.offline_writer import OfflineScriptWriter
from vividly_ray.script.pacing import EstimatedPacing
from vividly_ray.speech.fallback_narrator import FallbackNarrator
from vividly_ray.speech.google_narrator import GoogleNarrator, make_tts_client
from vividly_ray.speech.piper_narrator import VOICE_ID as PIPER_VOICE
from vividly_ray.speech.piper_narrator import PiperNarrator
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

GOOGLE_VOICE = "google:en-US-Chirp3-HD-Charon"
ATTEMPTS = 3
BACKOFF_S = 0.05
TTS_TIMEOUT_S = 0.5
THRESHOLD = 2  # scene failures before the breaker opens
GRADE = Grade(8)
SCENES = tuple(
    Scene(i, SceneKind.CONCEPT, f"Part {i}", ("a point",), (text,))
    for i, text in enumerate(
        (
            "Water rises from the warm sea.",
            "High up, the vapour cools into clouds.",
            "Heavy drops fall back as rain.",
            "Rivers carry the water home again.",
        )
    )
)


class Backoff:
    """A real sleep that also records how long it was asked for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        time.sleep(seconds)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def piper(tmp_path_factory: pytest.TempPathFactory) -> PiperNarrator:
    root = tmp_path_factory.mktemp("piper")
    voice = PiperNarrator(ContentCache(LocalBlobStore(root / "blobs"), root / "tmp"))
    voice.warm_up()
    return voice


@pytest.fixture
def tts() -> Iterator[TtsStub]:
    with running_tts_stub() as stub:
        yield stub


@dataclass(frozen=True)
class TtsFault:
    name: str
    inject: Callable[[TtsStub], None]
    attempts_per_scene: int  # requests one failing scene makes
    recovers: bool = False  # the provider answers within the attempts


TTS_FAULTS = (
    TtsFault("429 twice, then fine", lambda s: s.fail_next(2, 429, "Quota exceeded"), 3, True),
    TtsFault("429 throughout", lambda s: s.fail_next(10_000, 429, "Quota exceeded"), ATTEMPTS),
    TtsFault("500 throughout", lambda s: s.fail_next(10_000, 500, "backend error"), ATTEMPTS),
    TtsFault("hangs past the timeout", lambda s: s.hang_next(10_000, 1.5), ATTEMPTS),
    TtsFault("invalid JSON", lambda s: s.garbage_next(10_000, INVALID_JSON), ATTEMPTS),
    # Audio in another format than the one asked for is a refusal: not asked again.
    TtsFault("wrong audio format", lambda s: s.garbage_next(10_000, WRONG_AUDIO), 1),
)


@pytest.mark.parametrize("fault", TTS_FAULTS, ids=lambda f: f.name)
def test_speech_provider_faults_are_retried_then_the_breaker_hands_the_scenes_to_piper(
    fault: TtsFault, tts: TtsStub, piper: PiperNarrator, tmp_path: Path, ledger: Ledger
) -> None:
    started = time.monotonic()
    backoff = Backoff()
    clock = Clock()
    google = GoogleNarrator(
        make_tts_client(tts.url, Credentials(token="t")),
        ContentCache(LocalBlobStore(tmp_path / "blobs"), tmp_path / "tmp"),
        max_attempts=ATTEMPTS,
        backoff_s=BACKOFF_S,
        timeout_s=TTS_TIMEOUT_S,
        sleep=backoff,
    )
    breaker = CircuitBreaker("google-tts", BreakerPolicy(THRESHOLD, open_seconds=30), clock)
    narrator = FallbackNarrator(google, piper, breaker)
    violations: list[str] = []
    opened = BreakerState.CLOSED
    fault.inject(tts)

    sent: list[int] = []
    voices: list[str] = []
    for scene in SCENES:
        before = len(tts.requests)
        audio = narrator.narrate(scene, GRADE)
        sent.append(len(tts.requests) - before)
        voices.append(audio.voiced_by)
        if audio.duration <= 0 or not audio.sentences:
            violations.append(f"scene {scene.index} has no usable audio")

    expected_backoff = [BACKOFF_S * 2**n for n in range(fault.attempts_per_scene - 1)]
    if fault.recovers:
        if voices != [GOOGLE_VOICE] * len(SCENES):
            violations.append(f"voices {voices}: the recovered provider should speak every scene")
        if sent != [fault.attempts_per_scene, 1, 1, 1]:
            violations.append(f"requests per scene {sent}")
        if backoff.delays != expected_backoff:
            violations.append(f"backoff {backoff.delays}, expected {expected_backoff}")
        if breaker.state is not BreakerState.CLOSED:
            violations.append(f"breaker {breaker.state.value} after a recovery")
    else:
        # The first THRESHOLD scenes try the provider; then the breaker is open.
        wanted = [fault.attempts_per_scene] * THRESHOLD + [0] * (len(SCENES) - THRESHOLD)
        if sent != wanted:
            violations.append(f"requests per scene {sent}, expected {wanted}")
        if voices != [PIPER_VOICE] * len(SCENES):
            violations.append(f"voices {voices}: Piper should speak every scene")
        if backoff.delays != expected_backoff * THRESHOLD:
            violations.append(f"backoff {backoff.delays}, expected {expected_backoff} per scene")
        opened = breaker.state
        if opened is not BreakerState.OPEN:
            violations.append(f"breaker {opened.value} after {THRESHOLD} failed scenes")
        # Once the provider is well again, the trial call after the open period closes it.
        tts._failures.clear()
        clock.now += 31
        trial = narrator.narrate(replace(SCENES[0], index=9, narration=("All is well.",)), GRADE)
        if trial.voiced_by != GOOGLE_VOICE or breaker.state is not BreakerState.CLOSED:
            violations.append(f"the trial went to {trial.voiced_by}; breaker {breaker.state}")

    ledger.record(
        f"7. provider faults: speech {fault.name}",
        runs=len(SCENES),
        faults=sum(1 for v in voices if v == PIPER_VOICE),
        violations=len(violations),
        seconds=time.monotonic() - started,
        requests=sum(sent),
        requests_per_scene=sent,
        backoff_s=backoff.delays,
        breaker_after_faults=opened.value,
        piper_scenes=sum(1 for v in voices if v == PIPER_VOICE),
    )
    assert violations == []


# -- the script model -----------------------------------------------------------------------------

MODEL = "gemini-2.5-flash"


def hang(seconds: float, then: Callable[[Recorded], StubReply]) -> Callable[[Recorded], StubReply]:
    def respond(request: Recorded) -> StubReply:
        time.sleep(seconds)
        return then(request)

    return respond


@dataclass(frozen=True)
class ModelFault:
    name: str
    respond: Callable[[Recorded], StubReply]
    requests: int  # what the outline costs before the writer gives up (or succeeds)
    backoffs: int  # waits between them (a malformed answer is asked again at once)
    planned_by_model: bool = False
    timeout_s: float = 20.0


def _gemini_first_outline_fails(reply: StubReply) -> Callable[[Recorded], StubReply]:
    sent: list[int] = []

    def respond(request: Recorded) -> StubReply:
        if gemini_stub.is_outline(request) and not sent:
            sent.append(1)
            return reply
        return gemini_stub.model_answer(request)

    return respond


GEMINI_FAULTS = (
    ModelFault(
        "429 once, then fine",
        _gemini_first_outline_fails(gemini_stub.error_reply(429)),
        2,
        1,
        planned_by_model=True,
    ),
    ModelFault("429 throughout", lambda r: gemini_stub.error_reply(429), 3, 2),
    ModelFault("500 throughout", lambda r: gemini_stub.error_reply(500), 3, 2),
    ModelFault("hangs past the timeout", hang(1.5, gemini_stub.model_answer), 3, 2, timeout_s=1),
    # A reply whose text is not the JSON object asked for: asked once more, then offline.
    ModelFault("malformed JSON text", lambda r: gemini_stub.text_reply('{"title": "Wa'), 2, 0),
    ModelFault("a body that is not JSON", lambda r: StubReply(200, b"<html>busy</html>"), 2, 0),
)


@dataclass
class WriterRun:
    script: Script | None = None
    error: BaseException | None = None
    backoff: Backoff = field(default_factory=Backoff)

    @property
    def slept(self) -> list[float]:
        return self.backoff.delays


def _write(writer_for: Callable[[Backoff], Any]) -> WriterRun:
    run = WriterRun()
    writer = writer_for(run.backoff)
    try:
        run.script = writer.write(water_cycle_request(minutes=1.5), water_cycle_retrieval(), TOPIC)
    except Exception as exc:  # what escapes is what the pipeline would see
        run.error = exc
    return run


def _check_model_fault(
    fault: ModelFault, stub: RecordingServer, run: WriterRun, provider: str
) -> list[str]:
    violations: list[str] = []
    if run.error is not None:
        violations.append(f"the writer raised {type(run.error).__name__}: {run.error}")
        return violations
    assert run.script is not None
    outline_calls = len([r for r in stub.requests if _is_outline(r)])
    if outline_calls != fault.requests:
        violations.append(f"{outline_calls} outline requests, expected {fault.requests}")
    if fault.planned_by_model:
        if run.script.planned_by != provider:
            violations.append(f"planned by {run.script.planned_by} after a recovery")
    else:
        if run.script.planned_by != "offline":
            violations.append(f"planned by {run.script.planned_by}, not the offline writer")
        if any(s.written_by != "offline" for s in run.script.scenes if s.kind is SceneKind.CONCEPT):
            violations.append("a concept scene was not written offline")
    wanted = [POLICY.base_delay * 2**n for n in range(fault.backoffs)]
    if run.slept != wanted:
        violations.append(f"backoff {run.slept}, expected {wanted}")
    return violations


def _is_outline(request: Recorded) -> bool:
    if "generationConfig" in request.body:
        return gemini_stub.is_outline(request)
    return openai_stub.is_outline(request)


POLICY = RetryPolicy(attempts=3, base_delay=0.05, max_delay=1.0)


@pytest.mark.parametrize("fault", GEMINI_FAULTS, ids=lambda f: f.name)
def test_gemini_faults_are_retried_then_the_script_is_written_offline(
    fault: ModelFault, ledger: Ledger
) -> None:
    started = time.monotonic()
    with gemini_stub.running_gemini_stub() as stub:
        stub.respond = fault.respond
        breaker = CircuitBreaker("gemini", BreakerPolicy(failure_threshold=1, open_seconds=60))

        def writer(backoff: Backoff) -> GeminiScriptWriter:
            client = make_gemini_client(
                "test-project",
                "us-central1",
                base_url=f"{stub.url}/",
                credentials=Credentials(token="t"),
                timeout_s=fault.timeout_s,
            )
            return GeminiScriptWriter(
                client,
                MODEL,
                fallback=OfflineScriptWriter(),
                breaker=breaker,
                policy=POLICY,
                sleep=backoff,
            )

        run = _write(writer)
        violations = _check_model_fault(fault, stub, run, f"gemini:{MODEL}")
        if not fault.planned_by_model and run.error is None:
            if breaker.state is not BreakerState.OPEN:
                violations.append(f"breaker {breaker.state.value} after the provider failed")
            asked = len(stub.requests)
            again = _write(writer)
            if len(stub.requests) != asked or again.script is None:
                violations.append("the open breaker did not keep the next script off the model")
    ledger.record(
        f"7. provider faults: Gemini {fault.name}",
        runs=1,
        faults=len(stub.requests),
        violations=len(violations),
        seconds=time.monotonic() - started,
        requests=len(stub.requests),
        backoff_s=run.slept,
        planned_by=run.script.planned_by if run.script else type(run.error).__name__,
    )
    assert violations == []


OPENAI_FAULTS = (
    ModelFault("500 throughout", lambda r: openai_stub.error_reply(500), 3, 2),
    ModelFault("hangs past the timeout", hang(1.5, openai_stub.model_answer), 3, 2, timeout_s=1),
    ModelFault("a body that is not JSON", lambda r: StubReply(200, b"<html>busy</html>"), 2, 0),
)


@pytest.mark.parametrize("fault", OPENAI_FAULTS, ids=lambda f: f.name)
def test_openai_compatible_faults_are_retried_then_the_script_is_written_offline(
    fault: ModelFault, ledger: Ledger
) -> None:
    import httpx

    started = time.monotonic()
    with openai_stub.running_openai_stub() as stub:
        stub.respond = fault.respond
        with httpx.Client(timeout=fault.timeout_s) as http:
            run = _write(
                lambda backoff: OpenAICompatibleScriptWriter(
                    f"{stub.url}/v1",
                    openai_stub.MODEL,
                    fallback=OfflineScriptWriter(),
                    http=http,
                    policy=POLICY,
                    sleep=backoff,
                )
            )
        violations = _check_model_fault(fault, stub, run, f"openai:{openai_stub.MODEL}")
    ledger.record(
        f"7. provider faults: OpenAI-compatible {fault.name}",
        runs=1,
        faults=len(stub.requests),
        violations=len(violations),
        seconds=time.monotonic() - started,
        requests=len(stub.requests),
        backoff_s=run.slept,
        planned_by=run.script.planned_by if run.script else type(run.error).__name__,
    )
    assert violations == []


# -- the manifest of a real run ------------------------------------------------------------------


class StaticRetriever:
    def retrieve(self, query: str, grade: Grade, limit: int = 12, topic: str = "") -> Retrieval:
        return water_cycle_retrieval()


class FailingFromScene:
    """The Google narrator, with the stub failing from scene ``first`` on (scenes are narrated
    in order by the in-process executor)."""

    def __init__(self, google: GoogleNarrator, stub: TtsStub, first: int) -> None:
        self._google = google
        self._stub = stub
        self._first = first
        self._lock = threading.Lock()

    def narrate(self, scene: Scene, grade: Grade, part: ScenePart | None = None) -> SceneAudio:
        with self._lock:
            if scene.index == self._first:
                self._stub.fail_next(10_000, 503, "The service is currently unavailable.")
        return self._google.narrate(scene, grade, part)


def test_the_manifest_records_which_provider_wrote_and_voiced_each_scene(
    tts: TtsStub, tmp_path: Path, ledger: Ledger
) -> None:
    started = time.monotonic()
    blobs = LocalBlobStore(tmp_path / "blobs")
    cache = ContentCache(blobs, tmp_path / "cache-writes")
    piper = PiperNarrator(cache)  # both voices store into the pipeline's blob store
    violations: list[str] = []
    with gemini_stub.running_gemini_stub() as model:
        # Scene 2's calls fail every time: that scene alone is written offline.
        model.respond = lambda r: (
            gemini_stub.error_reply(500)
            if gemini_stub.is_scene(r) and scene_number(gemini_stub.user_text(r.body)) == 2
            else gemini_stub.model_answer(r)
        )
        writer = GeminiScriptWriter(
            make_gemini_client(
                "test-project",
                "us-central1",
                base_url=f"{model.url}/",
                credentials=Credentials(token="t"),
            ),
            MODEL,
            fallback=OfflineScriptWriter(),
            policy=POLICY,
            sleep=lambda s: None,
        )
        google = GoogleNarrator(
            make_tts_client(tts.url, Credentials(token="t")),
            cache,
            max_attempts=ATTEMPTS,
            backoff_s=BACKOFF_S,
            sleep=lambda s: None,
        )
        breaker = CircuitBreaker("google-tts", BreakerPolicy(THRESHOLD, open_seconds=60))
        narrator = FallbackNarrator(FailingFromScene(google, tts, first=1), piper, breaker)

        def encoders(spec: RenderSpec) -> FfmpegSegmentEncoder:
            return FfmpegSegmentEncoder(spec, cache, tmp_path / "work")

        tracker = FakeTracker()
        pipeline = VideoPipeline(
            PipelinePorts(
                assessor=FakeAssessor(),
                retriever=StaticRetriever(),
                writer=writer,
                executor=InProcessSceneExecutor(narrator, encoders),
                assembler=VideoAssembler(blobs, tmp_path / "work"),
                tracker=tracker,
                blobs=blobs,
                scratch=tmp_path / "requests",
                pacing=EstimatedPacing(),
            )
        )
        request = replace(water_cycle_request(minutes=1, grade=12), resolution=Resolution.P480)
        result = pipeline.run("manifest-check", request)
    manifest = json.loads(blobs.get_bytes(result.files["manifest.json"]))
    script = json.loads(blobs.get_bytes(result.files["script.json"]))
    providers = manifest["providers"]
    scenes: Sequence[dict[str, Any]] = providers["scenes"]
    kinds = {s["index"]: s["kind"] for s in script["scenes"]}
    voices = [s["voiced_by"] for s in scenes]
    model_name = f"gemini:{MODEL}"
    if providers["script"] != model_name:
        violations.append(f"script planned by {providers['script']}")
    if voices[:1] != [GOOGLE_VOICE] or set(voices[1:]) != {PIPER_VOICE}:
        violations.append(f"voices {voices}: Google for scene 0, Piper after it failed")
    concepts = [s for s in scenes if kinds[s["index"]] == "concept"]
    writers = [s["written_by"] for s in concepts]
    # Concept scene 2 (the stub counts them from 1) failed every try: it alone is offline.
    if len(concepts) < 3 or writers != [
        "offline" if n == 2 else model_name for n in range(1, len(concepts) + 1)
    ]:
        violations.append(f"concept scenes written by {writers}")
    # Only the requests the API answered are billed: scene 0's, spoken by Google.
    spoken = sum(len(sentence) for sentence in script["scenes"][0]["sentences"])
    if manifest["cost"]["tts_characters"] != spoken:
        violations.append(f"{manifest['cost']['tts_characters']} characters billed, not {spoken}")
    if breaker.state is not BreakerState.OPEN:
        violations.append(f"breaker {breaker.state.value}")
    # The two voices' scenes (24 kHz and 22.05 kHz) were joined into one narration track.
    with av.open(str(blobs.path_of(result.files["video.mp4"]))) as container:
        (sound,) = container.streams.audio
        heard = sum(frame.samples for frame in container.decode(sound)) / sound.rate
    if abs(heard - manifest["durations"]["video_seconds"]) > 0.1:
        violations.append(f"{heard:.2f} s of sound for {manifest['durations']['video_seconds']} s")
    tts_requests = len(tts.requests)
    ledger.record(
        "7. provider faults: manifest of a run where both providers failed part way",
        runs=1,
        faults=voices.count(PIPER_VOICE) + writers.count("offline"),
        violations=len(violations),
        seconds=time.monotonic() - started,
        scenes=len(scenes),
        voiced_by_google=voices.count(GOOGLE_VOICE),
        voiced_by_piper=voices.count(PIPER_VOICE),
        concept_scenes_offline=writers.count("offline"),
        tts_requests=tts_requests,
        sound_s=round(heard, 2),
        model_requests=len(model.requests),
    )
    assert violations == []
