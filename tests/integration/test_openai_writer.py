"""The OpenAI-compatible script writer over real HTTP, against a loopback chat-completions stub."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.stubs.llm_stub_server import Recorded, RecordingServer, Responder, StubReply
from tests.stubs.openai_stub import (
    content_filtered,
    error_reply,
    is_outline,
    is_scene,
    json_reply,
    message,
    model_answer,
    refusal,
    response_schema,
    running_openai_stub,
    text_reply,
)
from tests.stubs.scripted_model import scene_answer, scene_number
from tests.stubs.water_cycle import TOPIC, water_cycle_request, water_cycle_retrieval
from vividly_ray.domain.errors import RefusedUnsafe
from vividly_ray.domain.models import SceneKind, Script, Usage
from vividly_ray.resilience import BreakerPolicy, BreakerState, CircuitBreaker
from vividly_ray.script.llm.openai_compatible import OpenAICompatibleScriptWriter
from vividly_ray.script.llm.schema import OUTLINE_SCHEMA, SCENE_SCHEMA
from vividly_ray.script.offline_writer import OfflineScriptWriter

pytestmark = pytest.mark.integration

MODEL = "stub-model-1"
PROVIDER = f"openai:{MODEL}"
REQUEST = water_cycle_request(minutes=1.5)


@pytest.fixture
def stub() -> Iterator[RecordingServer]:
    with running_openai_stub() as running:
        yield running


class Harness:
    def __init__(self, stub: RecordingServer, breaker: CircuitBreaker | None = None) -> None:
        self.slept: list[float] = []
        self.http = httpx.Client(timeout=20)
        self.writer = OpenAICompatibleScriptWriter(
            f"{stub.url}/v1",
            MODEL,
            api_key="sk-test",
            http=self.http,
            fallback=OfflineScriptWriter(),
            breaker=breaker,
            sleep=self.slept.append,
        )

    def write(self) -> Script:
        try:
            return self.writer.write(REQUEST, water_cycle_retrieval(), TOPIC)
        finally:
            self.http.close()


def concepts(script: Script) -> list[str]:
    return [s.written_by for s in script.scenes if s.kind is SceneKind.CONCEPT]


def scene_of(request: Recorded) -> int:
    return scene_number(message(request.body, "user")) if is_scene(request) else 0


def first_outline_then_model(first: StubReply) -> Responder:
    sent: list[StubReply] = []

    def respond(request: Recorded) -> StubReply:
        if is_outline(request) and not sent:
            sent.append(first)
            return first
        return model_answer(request)

    return respond


def test_plans_then_writes_the_scenes_in_parallel(stub: RecordingServer) -> None:
    stub.hold(is_scene, until=3)
    script = Harness(stub).write()
    assert stub.max_in_flight == 3
    assert script.planned_by == PROVIDER and concepts(script) == [PROVIDER] * 3
    assert script.usage == Usage(llm_tokens_in=600, llm_tokens_out=240, llm_calls=4)
    assert stub.requests[0].headers["authorization"] == "Bearer sk-test"


def test_every_request_carries_the_messages_and_a_strict_json_schema(
    stub: RecordingServer,
) -> None:
    Harness(stub).write()
    outline, *scenes = stub.requests
    assert response_schema(outline.body) == OUTLINE_SCHEMA
    assert all(response_schema(r.body) == SCENE_SCHEMA for r in scenes)
    for request in stub.requests:
        body = request.body
        assert body["model"] == MODEL
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["response_format"]["type"] == "json_schema"
        assert body["response_format"]["json_schema"]["strict"] is True
        assert REQUEST.question not in message(body, "system")
    assert REQUEST.question in message(outline.body, "user")


def test_a_rate_limit_is_waited_out_as_the_provider_asks(stub: RecordingServer) -> None:
    stub.respond = first_outline_then_model(error_reply(429, retry_after="2"))
    harness = Harness(stub)
    assert harness.write().planned_by == PROVIDER
    assert len(stub.bodies(is_outline)) == 2 and harness.slept == [2.0]


def test_a_provider_failing_on_every_try_falls_back_offline_and_opens_the_breaker(
    stub: RecordingServer,
) -> None:
    stub.respond = lambda r: error_reply(503)
    breaker = CircuitBreaker("openai", BreakerPolicy(failure_threshold=1))
    harness = Harness(stub, breaker)
    script = harness.write()
    assert script.planned_by == "offline" and len(stub.requests) == 3
    assert harness.slept == [1.0, 2.0] and breaker.state is BreakerState.OPEN


def test_a_refused_outline_refuses_the_request(stub: RecordingServer) -> None:
    stub.respond = lambda r: refusal("I can't help with that request.")
    with pytest.raises(RefusedUnsafe) as refused:
        Harness(stub).write()
    assert "I can't help with that request." in refused.value.reasons[0]


def test_a_filtered_scene_is_written_offline(stub: RecordingServer) -> None:
    stub.respond = lambda r: content_filtered() if scene_of(r) == 3 else model_answer(r)
    assert concepts(Harness(stub).write()) == [PROVIDER, PROVIDER, "offline"]


def test_malformed_json_is_asked_for_again_then_the_scene_is_written_offline(
    stub: RecordingServer,
) -> None:
    stub.respond = lambda r: (
        text_reply("Sure! Here is the scene:") if scene_of(r) == 2 else (model_answer(r))
    )
    script = Harness(stub).write()
    assert len([r for r in stub.requests if scene_of(r) == 2]) == 2
    assert concepts(script) == [PROVIDER, "offline", PROVIDER]


def test_a_scene_citing_an_unknown_passage_is_rewritten_then_written_offline(
    stub: RecordingServer,
) -> None:
    def respond(request: Recorded) -> StubReply:
        if scene_of(request) != 3:
            return model_answer(request)
        data = scene_answer(message(request.body, "user"))
        data["narration"][0]["passage_ids"] = ["water-on-the-move#99"]
        return json_reply(data)

    stub.respond = respond
    script = Harness(stub).write()
    third = [r for r in stub.requests if scene_of(r) == 3]
    assert len(third) == 2 and "water-on-the-move#99" in message(third[1].body, "user")
    assert concepts(script) == [PROVIDER, PROVIDER, "offline"]
