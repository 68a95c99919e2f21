"""A loopback stand-in for an OpenAI-compatible ``POST /v1/chat/completions`` endpoint.

It answers in the chat-completions shapes the adapter reads: ``choices[0].message`` with JSON
``content``, a ``refusal``, or ``finish_reason: content_filter``; ``usage`` with prompt and
completion tokens; and OpenAI's JSON error body. By default it answers like a well-behaved
model (``scripted_model``); a test replaces ``respond`` to script failures.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.stubs.llm_stub_server import Recorded, RecordingServer, StubReply, running_server
from tests.stubs.scripted_model import outline_answer, scene_answer

COMPLETIONS_PATH = "/v1/chat/completions"
MODEL = "stub-model-1"


def message(body: dict[str, Any], role: str) -> str:
    return "".join(str(m["content"]) for m in body["messages"] if m["role"] == role)


def response_schema(body: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = body["response_format"]["json_schema"]["schema"]
    return schema


def is_outline(request: Recorded) -> bool:
    return "scenes" in response_schema(request.body)["properties"]


def is_scene(request: Recorded) -> bool:
    return not is_outline(request)


def _completion(message: dict[str, Any], finish: str, tokens_in: int, tokens_out: int) -> Any:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": tokens_out,
            "total_tokens": tokens_in + tokens_out,
        },
    }


def text_reply(text: str, tokens_in: int = 150, tokens_out: int = 60) -> StubReply:
    answer = {"role": "assistant", "content": text, "refusal": None}
    return StubReply(200, _completion(answer, "stop", tokens_in, tokens_out))


def json_reply(data: dict[str, Any], tokens_in: int = 150, tokens_out: int = 60) -> StubReply:
    return text_reply(json.dumps(data), tokens_in, tokens_out)


def refusal(text: str = "I can't help with that.") -> StubReply:
    answer = {"role": "assistant", "content": None, "refusal": text}
    return StubReply(200, _completion(answer, "stop", 40, 8))


def content_filtered() -> StubReply:
    answer = {"role": "assistant", "content": None, "refusal": None}
    return StubReply(200, _completion(answer, "content_filter", 40, 0))


def error_reply(status: int, message: str = "", retry_after: str = "") -> StubReply:
    body = {"error": {"message": message or f"stub error {status}", "type": "stub", "code": None}}
    return StubReply(status, body, {"retry-after": retry_after} if retry_after else {})


def model_answer(request: Recorded) -> StubReply:
    """What a model that follows the instructions would answer."""
    user = message(request.body, "user")
    return json_reply(outline_answer(user) if is_outline(request) else scene_answer(user))


@contextmanager
def running_openai_stub() -> Iterator[RecordingServer]:
    """A fresh stub on a free loopback port; its API base is ``stub.url + "/v1"``."""
    with running_server("openai-stub") as stub:
        stub.accepts = lambda path: path == COMPLETIONS_PATH
        stub.respond = model_answer
        yield stub
