"""A loopback stand-in for Vertex AI's ``generateContent`` REST method, for the real SDK.

It serves ``POST /v1beta1/projects/P/locations/L/publishers/google/models/M:generateContent``
and answers in the REST shapes the SDK parses: candidates with text parts and a finish reason,
``usageMetadata``, ``promptFeedback.blockReason`` for a blocked prompt, and Google's JSON error
body. By default it answers like a well-behaved model (``scripted_model``); a test replaces
``respond`` to script failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.stubs.llm_stub_server import Recorded, RecordingServer, StubReply, running_server
from tests.stubs.scripted_model import outline_answer, scene_answer

GENERATE_PATH = re.compile(
    r"^/v1beta1/projects/[^/]+/locations/[^/]+/publishers/google/models/[^/:]+:generateContent$"
)
MODEL_VERSION = "gemini-2.5-flash-stub"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def system_text(body: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for p in body["systemInstruction"]["parts"])


def user_text(body: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for c in body["contents"] for p in c["parts"])


def response_schema(body: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = body["generationConfig"]["responseJsonSchema"]
    return schema


def is_outline(request: Recorded) -> bool:
    return "scenes" in response_schema(request.body)["properties"]


def is_scene(request: Recorded) -> bool:
    return not is_outline(request)


def text_reply(text: str, tokens_in: int = 120, tokens_out: int = 40) -> StubReply:
    return StubReply(
        200,
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "STOP",
                }
            ],
            "usageMetadata": {
                "promptTokenCount": tokens_in,
                "candidatesTokenCount": tokens_out,
                "totalTokenCount": tokens_in + tokens_out,
            },
            "modelVersion": MODEL_VERSION,
        },
    )


def json_reply(data: dict[str, Any], tokens_in: int = 120, tokens_out: int = 40) -> StubReply:
    return text_reply(json.dumps(data), tokens_in, tokens_out)


def prompt_blocked(reason: str = "SAFETY", message: str = "") -> StubReply:
    feedback = {"blockReason": reason, **({"blockReasonMessage": message} if message else {})}
    return StubReply(
        200,
        {
            "promptFeedback": feedback,
            "usageMetadata": {"promptTokenCount": 30, "totalTokenCount": 30},
            "modelVersion": MODEL_VERSION,
        },
    )


def answer_blocked(reason: str = "SAFETY") -> StubReply:
    return StubReply(
        200,
        {
            "candidates": [{"finishReason": reason}],
            "usageMetadata": {"promptTokenCount": 30, "totalTokenCount": 30},
            "modelVersion": MODEL_VERSION,
        },
    )


def error_reply(status: int, message: str = "") -> StubReply:
    name = _STATUS_NAMES.get(status, "UNKNOWN")
    body = {"error": {"code": status, "message": message or f"stub {name}", "status": name}}
    return StubReply(status, body)


def model_answer(request: Recorded) -> StubReply:
    """What a model that follows the instructions would answer."""
    user = user_text(request.body)
    return json_reply(outline_answer(user) if is_outline(request) else scene_answer(user))


@contextmanager
def running_gemini_stub() -> Iterator[RecordingServer]:
    """A fresh stub on a free loopback port; point the SDK at ``stub.url``."""
    with running_server("gemini-stub") as stub:
        stub.accepts = lambda path: bool(GENERATE_PATH.match(path))
        stub.respond = model_answer
        yield stub
