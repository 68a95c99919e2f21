"""Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, LiteLLM, ...).

The request carries the system and user messages and asks for strict structured output with
``response_format={"type": "json_schema", ...}``. A refusal (``message.refusal``) or an answer
cut by the content filter (``finish_reason == "content_filter"``) comes back as
``LlmReply.blocked``. Busy answers (429, 5xx, timeouts) are retried with a bounded backoff that
honours Retry-After.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from vividly_ray.pipeline.ports import ScriptWriter
from vividly_ray.resilience import CircuitBreaker
from vividly_ray.script.llm.client import (
    RETRYABLE_STATUSES,
    JsonObject,
    LlmReply,
    MalformedReply,
    ProviderRejected,
    ProviderUnavailable,
    RetryAfter,
    RetryPolicy,
    call_with_retries,
    json_object,
)
from vividly_ray.script.llm.runner import SceneRunner
from vividly_ray.script.llm.verifier import SceneVerifier
from vividly_ray.script.llm.writer import LlmScriptWriter

DEFAULT_TIMEOUT_S = 60.0
SCHEMA_NAME = "structured_reply"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date, or nothing: the backoff decides


def _content(body: Any) -> tuple[dict[str, Any], str]:
    """The first choice's message and finish reason; MalformedReply when there is none."""
    choices = body.get("choices") if isinstance(body, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict) or not isinstance(first, dict):
        raise MalformedReply("the chat completion held no message")
    return message, str(first.get("finish_reason") or "")


class OpenAICompatibleClient:
    """The LlmClient port over ``POST {base_url}/chat/completions``.

    ``base_url`` includes the API version ("https://api.openai.com/v1"); ``http`` may be a
    shared or test-specific ``httpx.Client``.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        http: httpx.Client | None = None,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.model = model
        self._url = f"{base_url.rstrip('/')}/chat/completions"
        self._headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = http or httpx.Client(timeout=timeout_s)
        self._policy = policy or RetryPolicy()
        self._sleep = sleep

    def generate_json(
        self, system: str, user: str, schema: JsonObject, *, temperature: float = 0.3
    ) -> LlmReply:
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            "temperature": temperature,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "schema": schema, "strict": True},
            },
        }
        return call_with_retries(lambda: self._once(body), self._policy, self._sleep)

    def _once(self, body: JsonObject) -> LlmReply:
        try:
            response = self._http.post(self._url, json=body, headers=self._headers)
        except httpx.TransportError as error:
            raise ProviderUnavailable(f"{self._url} unreachable: {type(error).__name__}") from error
        status = response.status_code
        if status in RETRYABLE_STATUSES or status >= 500:
            reason = f"the model endpoint answered {status}"
            wait = _retry_after(response)
            raise RetryAfter(reason, wait) if wait is not None else ProviderUnavailable(reason)
        if status >= 400:
            raise ProviderRejected(f"the model endpoint answered {status}")
        try:
            answer = response.json()
        except ValueError as error:
            raise MalformedReply("the model endpoint's answer was not JSON") from error
        message, finish = _content(answer)
        usage = answer.get("usage") if isinstance(answer.get("usage"), dict) else {}
        tokens_in = int(usage.get("prompt_tokens") or 0)
        tokens_out = int(usage.get("completion_tokens") or 0)
        model = str(answer.get("model") or self.model)
        if message.get("refusal") or finish == "content_filter":
            blocked = str(message.get("refusal") or "content_filter")
            return LlmReply(None, tokens_in, tokens_out, blocked=blocked, model=model)
        data = json_object(str(message.get("content") or ""), "the model's")
        return LlmReply(data, tokens_in, tokens_out, model=model)


class OpenAICompatibleScriptWriter(LlmScriptWriter):
    """The LlmScriptWriter on an OpenAI-compatible endpoint; ``provider`` reads
    "openai:<model>"."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        fallback: ScriptWriter,
        api_key: str = "",
        http: httpx.Client | None = None,
        runner: SceneRunner | None = None,
        verifier: SceneVerifier | None = None,
        breaker: CircuitBreaker | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        client = OpenAICompatibleClient(base_url, model, api_key, http, policy=policy, sleep=sleep)
        super().__init__(
            client,
            provider=f"openai:{model}",
            fallback=fallback,
            runner=runner,
            verifier=verifier,
            breaker=breaker,
        )
