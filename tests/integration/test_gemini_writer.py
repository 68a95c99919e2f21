"""The Gemini script writer through the real google-genai SDK, against a loopback stub of
Vertex AI's generateContent (and, with credentials, against the real service)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from google.oauth2.credentials import Credentials

from tests.stubs.gemini_stub import (
    answer_blocked,
    error_reply,
    is_outline,
    is_scene,
    json_reply,
    model_answer,
    prompt_blocked,
    response_schema,
    running_gemini_stub,
    system_text,
    text_reply,
    user_text,
)
from tests.stubs.llm_stub_server import Recorded, RecordingServer, Responder, StubReply
from tests.stubs.scripted_model import scene_answer, scene_number
from tests.stubs.water_cycle import TOPIC, water_cycle_request, water_cycle_retrieval
from vividly_ray.domain.errors import RefusedUnsafe
from vividly_ray.domain.models import SceneKind, Script, Usage
from vividly_ray.resilience import BreakerPolicy, BreakerState, CircuitBreaker
from vividly_ray.script.llm.gemini import GeminiScriptWriter, make_gemini_client
from vividly_ray.script.llm.schema import OUTLINE_SCHEMA, SCENE_SCHEMA
from vividly_ray.script.offline_writer import OfflineScriptWriter

pytestmark = pytest.mark.integration

MODEL = "gemini-2.5-flash"
PROVIDER = f"gemini:{MODEL}"
REQUEST = water_cycle_request(minutes=1.5)
CATEGORIES = {
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
}


@pytest.fixture
def stub() -> Iterator[RecordingServer]:
    with running_gemini_stub() as running:
        yield running


class Harness:
    def __init__(
        self, stub: RecordingServer, breaker: CircuitBreaker | None = None, timeout_s: float = 20
    ) -> None:
        self.slept: list[float] = []
        client = make_gemini_client(
            "test-project",
            "us-central1",
            base_url=f"{stub.url}/",
            credentials=Credentials(token="t"),  # a fixed token: the SDK never refreshes it
            timeout_s=timeout_s,
        )
        self.writer = GeminiScriptWriter(
            client, MODEL, fallback=OfflineScriptWriter(), breaker=breaker, sleep=self.slept.append
        )

    def write(self) -> Script:
        return self.writer.write(REQUEST, water_cycle_retrieval(), TOPIC)


def concepts(script: Script) -> list[str]:
    return [s.written_by for s in script.scenes if s.kind is SceneKind.CONCEPT]


def scene_of(request: Recorded) -> int:
    return scene_number(user_text(request.body)) if is_scene(request) else 0


def test_plans_then_writes_the_scenes_in_parallel(stub: RecordingServer) -> None:
    stub.hold(is_scene, until=3)  # every scene request waits until all three are in flight
    script = Harness(stub).write()
    assert stub.max_in_flight == 3
    assert script.planned_by == PROVIDER and concepts(script) == [PROVIDER] * 3
    assert script.usage == Usage(llm_tokens_in=480, llm_tokens_out=160, llm_calls=4)
    assert [r.path for r in stub.requests] == [
        f"/v1beta1/projects/test-project/locations/us-central1/publishers/google/models/"
        f"{MODEL}:generateContent"
    ] * 4
    assert stub.requests[0].headers["authorization"] == "Bearer t"
    assert script.scenes[-1].bullets and script.sources


def test_every_request_asks_for_json_against_the_schema_at_the_strictest_safety(
    stub: RecordingServer,
) -> None:
    Harness(stub).write()
    outline, *scenes = stub.requests
    assert response_schema(outline.body) == OUTLINE_SCHEMA
    assert all(response_schema(r.body) == SCENE_SCHEMA for r in scenes)
    for request in stub.requests:
        body = request.body
        assert body["generationConfig"]["responseMimeType"] == "application/json"
        settings = body["safetySettings"]
        assert {s["category"] for s in settings} == CATEGORIES
        assert {s["threshold"] for s in settings} == {"BLOCK_LOW_AND_ABOVE"}
        assert REQUEST.question not in system_text(body)
    assert REQUEST.question in user_text(outline.body)


def first_outline_then_model(first: StubReply) -> Responder:
    """Answer the first outline request with ``first``, everything else like the model."""
    sent: list[StubReply] = []

    def respond(request: Recorded) -> StubReply:
        if is_outline(request) and not sent:
            sent.append(first)
            return first
        return model_answer(request)

    return respond


def test_a_busy_answer_is_retried_after_a_backoff(stub: RecordingServer) -> None:
    stub.respond = first_outline_then_model(error_reply(429))
    harness = Harness(stub)
    script = harness.write()
    assert script.planned_by == PROVIDER
    assert len(stub.bodies(is_outline)) == 2 and harness.slept == [1.0]


def test_a_request_that_times_out_is_retried(stub: RecordingServer) -> None:
    slow: list[Recorded] = []

    def respond(request: Recorded) -> StubReply:
        if is_outline(request) and not slow:
            slow.append(request)
            time.sleep(1.5)  # past the client's timeout
        return model_answer(request)

    stub.respond = respond
    harness = Harness(stub, timeout_s=1)
    assert harness.write().planned_by == PROVIDER
    assert len(stub.bodies(is_outline)) == 2 and harness.slept == [1.0]


def test_a_provider_failing_on_every_try_falls_back_offline_and_opens_the_breaker(
    stub: RecordingServer,
) -> None:
    stub.respond = lambda r: error_reply(500)
    breaker = CircuitBreaker("gemini", BreakerPolicy(failure_threshold=1))
    harness = Harness(stub, breaker)
    script = harness.write()
    assert script.planned_by == "offline" and set(concepts(script)) == {"offline"}
    assert len(stub.requests) == 3 and harness.slept == [1.0, 2.0]  # bounded: 3 tries
    assert breaker.state is BreakerState.OPEN
    Harness(stub, breaker).write()
    assert len(stub.requests) == 3  # the open breaker keeps later scripts off the provider


def test_a_request_the_provider_rejects_is_not_retried(stub: RecordingServer) -> None:
    stub.respond = lambda r: error_reply(400, "bad schema")
    script = Harness(stub).write()
    assert script.planned_by == "offline" and len(stub.requests) == 1


def test_credentials_that_cannot_be_refreshed_fall_back_offline(stub: RecordingServer) -> None:
    client = make_gemini_client(
        "test-project", "us-central1", base_url=f"{stub.url}/", credentials=Credentials(token=None)
    )
    writer = GeminiScriptWriter(client, MODEL, fallback=OfflineScriptWriter())
    script = writer.write(REQUEST, water_cycle_retrieval(), TOPIC)
    assert script.planned_by == "offline" and stub.requests == []


def test_a_blocked_prompt_refuses_the_request(stub: RecordingServer) -> None:
    stub.respond = lambda r: prompt_blocked("SAFETY", "unsafe prompt")
    with pytest.raises(RefusedUnsafe) as refused:
        Harness(stub).write()
    assert "SAFETY: unsafe prompt" in refused.value.reasons[0]


def test_a_scene_whose_answer_is_blocked_is_written_offline(stub: RecordingServer) -> None:
    stub.respond = lambda r: answer_blocked("SAFETY") if scene_of(r) == 2 else model_answer(r)
    script = Harness(stub).write()
    assert concepts(script) == [PROVIDER, "offline", PROVIDER]


def test_malformed_json_is_asked_for_again_then_written_offline(stub: RecordingServer) -> None:
    stub.respond = lambda r: (
        text_reply('{"title": "The Water') if is_outline(r) else model_answer(r)
    )
    script = Harness(stub).write()
    assert len(stub.requests) == 2 and script.planned_by == "offline"


def test_a_scene_citing_an_unknown_passage_is_rewritten_then_written_offline(
    stub: RecordingServer,
) -> None:
    def respond(request: Recorded) -> StubReply:
        if scene_of(request) != 1:
            return model_answer(request)
        data = scene_answer(user_text(request.body))
        data["narration"][1]["passage_ids"] = ["astronomy#12"]
        return json_reply(data)

    stub.respond = respond
    script = Harness(stub).write()
    first = [r for r in stub.requests if scene_of(r) == 1]
    assert len(first) == 2 and "astronomy#12" in user_text(first[1].body)
    assert concepts(script) == ["offline", PROVIDER, PROVIDER]
    assert script.usage.llm_calls == 5


LIVE = os.environ.get("VIVIDLY_LIVE_GOOGLE") == "1" and bool(os.environ.get("GOOGLE_CLOUD_PROJECT"))


@pytest.mark.skipif(not LIVE, reason="set VIVIDLY_LIVE_GOOGLE=1 and GOOGLE_CLOUD_PROJECT")
def test_live_gemini_writes_a_grounded_script() -> None:
    client = make_gemini_client(
        os.environ["GOOGLE_CLOUD_PROJECT"], os.environ.get("GOOGLE_CLOUD_LOCATION", "us-central1")
    )
    model = os.environ.get("VIVIDLY_GEMINI_MODEL", MODEL)
    breaker = CircuitBreaker("gemini-live")
    writer = GeminiScriptWriter(client, model, fallback=OfflineScriptWriter(), breaker=breaker)
    script = writer.write(REQUEST, water_cycle_retrieval(), TOPIC)
    assert script.planned_by == f"gemini:{model}", "the live call fell back offline"
    assert script.usage.llm_calls >= 4 and script.usage.llm_tokens_in > 0
    assert 3 <= len(concepts(script)) <= 8
