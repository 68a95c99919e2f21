"""Gemini on Vertex AI through ``google-genai``: the LlmClient adapter and the named writer.

Retries are ours, not the SDK's: the client is built with one attempt per call
(``HttpRetryOptions(attempts=1)``, which also stops the SDK's own wait-and-retry on dropped
connections), and ``GeminiClient`` retries busy answers with a bounded, injectable backoff.
Every request asks for JSON against the schema and blocks harmful content at the strictest
threshold in every text harm category; a blocked prompt or answer comes back as
``LlmReply.blocked``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import httpx2
from google import genai
from google.auth import exceptions as auth_errors
from google.auth.credentials import Credentials
from google.genai import errors, types

from vividly_ray.pipeline.ports import ScriptWriter
from vividly_ray.resilience import CircuitBreaker
from vividly_ray.script.llm.client import (
    RETRYABLE_STATUSES,
    JsonObject,
    LlmReply,
    MalformedReply,
    ProviderRejected,
    ProviderUnavailable,
    RetryPolicy,
    call_with_retries,
    json_object,
)
from vividly_ray.script.llm.runner import SceneRunner
from vividly_ray.script.llm.verifier import SceneVerifier
from vividly_ray.script.llm.writer import LlmScriptWriter

# The categories that apply to text. CIVIC_INTEGRITY is deprecated, the IMAGE_* ones apply to
# image output only, and JAILBREAK is a prompt classifier some models refuse to configure.
HARM_CATEGORIES = (
    types.HarmCategory.HARM_CATEGORY_HARASSMENT,
    types.HarmCategory.HARM_CATEGORY_HATE_SPEECH,
    types.HarmCategory.HARM_CATEGORY_SEXUALLY_EXPLICIT,
    types.HarmCategory.HARM_CATEGORY_DANGEROUS_CONTENT,
)
SAFETY_SETTINGS = [
    types.SafetySetting(category=category, threshold=types.HarmBlockThreshold.BLOCK_LOW_AND_ABOVE)
    for category in HARM_CATEGORIES
]
# Finish reasons that mean the answer was withheld for its content.
BLOCKING_FINISH = frozenset(
    {
        types.FinishReason.SAFETY,
        types.FinishReason.PROHIBITED_CONTENT,
        types.FinishReason.BLOCKLIST,
        types.FinishReason.SPII,
    }
)
DEFAULT_TIMEOUT_S = 60.0
# The SDK sends with httpx2 by default and with httpx when told to; both raise their own
# transport errors (timeouts, refused or dropped connections).
TRANSPORT_ERRORS = (httpx2.TransportError, httpx.TransportError)


def make_gemini_client(
    project: str,
    location: str,
    *,
    base_url: str | None = None,
    credentials: Credentials | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> genai.Client:
    """A Vertex AI client for ``project`` in ``location``; ``base_url`` points it elsewhere (a
    regional endpoint, or a test's loopback stub). Without ``credentials`` it uses the
    application default credentials."""
    options = types.HttpOptions(
        base_url=base_url,
        timeout=int(timeout_s * 1000),  # the SDK takes milliseconds
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    return genai.Client(
        vertexai=True,
        project=project,
        location=location,
        credentials=credentials,
        http_options=options,
    )


def _text(response: types.GenerateContentResponse) -> str:
    """The answer's text parts (thoughts left out) of the first candidate."""
    candidate = response.candidates[0] if response.candidates else None
    parts = candidate.content.parts if candidate and candidate.content else None
    return "".join(p.text for p in parts or [] if p.text and not p.thought)


def _blocked(response: types.GenerateContentResponse) -> str | None:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        detail = feedback.block_reason_message or ""
        return f"{feedback.block_reason.value}{': ' + detail if detail else ''}"
    candidate = response.candidates[0] if response.candidates else None
    if candidate is not None and candidate.finish_reason in BLOCKING_FINISH:
        reason = candidate.finish_reason
        return reason.value if reason is not None else "blocked"
    return None


class GeminiClient:
    """The LlmClient port on a ``google.genai.Client`` (build one with ``make_gemini_client``)."""

    def __init__(
        self,
        client: genai.Client,
        model: str,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self._client = client
        self._policy = policy or RetryPolicy()
        self._sleep = sleep

    def generate_json(
        self, system: str, user: str, schema: JsonObject, *, temperature: float = 0.3
    ) -> LlmReply:
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_json_schema=schema,
            temperature=temperature,
            safety_settings=SAFETY_SETTINGS,
        )
        return call_with_retries(lambda: self._once(user, config), self._policy, self._sleep)

    def _once(self, user: str, config: types.GenerateContentConfig) -> LlmReply:
        try:
            response = self._client.models.generate_content(
                model=self.model, contents=user, config=config
            )
        except errors.APIError as error:
            reason = f"Gemini answered {error.code} {error.status or ''}".rstrip()
            if error.message:
                # The API's own words ("Vertex AI API has not been used in project ...") are
                # what an operator needs; they never contain the student's text.
                reason = f"{reason}: {str(error.message)[:300]}"
            if error.code in RETRYABLE_STATUSES or error.code >= 500:
                raise ProviderUnavailable(reason) from error
            raise ProviderRejected(reason) from error
        except (*TRANSPORT_ERRORS, auth_errors.TransportError) as error:
            raise ProviderUnavailable(f"Gemini unreachable: {type(error).__name__}") from error
        except auth_errors.GoogleAuthError as error:
            # Missing or unusable credentials: a setup problem that retrying cannot fix.
            raise ProviderRejected(f"Gemini credentials failed: {type(error).__name__}") from error
        except ValueError as error:
            # A 200 whose body is not JSON at all (a proxy's HTML page): the SDK cannot parse it.
            raise MalformedReply("Gemini's answer was not JSON") from error
        usage = response.usage_metadata
        tokens_in = tokens_out = 0
        if usage is not None:
            tokens_in = usage.prompt_token_count or 0
            # Thinking is billed as output.
            tokens_out = (usage.candidates_token_count or 0) + (usage.thoughts_token_count or 0)
        model = response.model_version or self.model
        blocked = _blocked(response)
        if blocked:
            return LlmReply(None, tokens_in, tokens_out, blocked=blocked, model=model)
        data = json_object(_text(response), "Gemini's")
        return LlmReply(data, tokens_in, tokens_out, model=model)


class GeminiScriptWriter(LlmScriptWriter):
    """The LlmScriptWriter on Gemini; ``provider`` reads "gemini:<model>"."""

    def __init__(
        self,
        client: genai.Client,
        model: str,
        *,
        fallback: ScriptWriter,
        runner: SceneRunner | None = None,
        verifier: SceneVerifier | None = None,
        breaker: CircuitBreaker | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            GeminiClient(client, model, policy=policy, sleep=sleep),
            provider=f"gemini:{model}",
            fallback=fallback,
            runner=runner,
            verifier=verifier,
            breaker=breaker,
        )
