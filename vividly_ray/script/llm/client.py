"""The port every language-model adapter implements, its reply, and its errors.

    StageFailed("generating_script")
    └── ProviderError          the provider gave no usable answer
        ├── ProviderUnavailable  429, 5xx, timeouts, dropped connections: retryable, and
        │   │                    raised only once the adapter's own retries are spent
        │   └── RetryAfter       a busy answer that said how long to wait
        └── ProviderRejected     400, 401, 403, or malformed JSON twice in a row: not retryable
            └── MalformedReply   one reply that was not the JSON object asked for

A safety block or refusal is not an error: it is an answer, reported in ``LlmReply.blocked``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from vividly_ray.domain.errors import StageFailed

STAGE = "generating_script"
# Statuses worth trying again: the request was fine, the provider was busy or broken.
RETRYABLE_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class LlmReply:
    """One structured answer: the JSON object, what it cost, and whether it was blocked.

    ``blocked`` holds the provider's reason when it refused or filtered the answer; ``data`` is
    then None.
    """

    data: JsonObject | None
    tokens_in: int = 0
    tokens_out: int = 0
    blocked: str | None = None
    model: str = ""


class LlmClient(Protocol):
    """Asks a language model for one JSON object that follows ``schema``.

    ``system`` holds only our own instructions; everything a student or a document wrote goes
    in ``user``. Raises ProviderUnavailable or ProviderRejected when no usable answer came.
    """

    def generate_json(
        self, system: str, user: str, schema: JsonObject, *, temperature: float = 0.3
    ) -> LlmReply: ...


class ProviderError(StageFailed):
    """The model provider gave no usable answer."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(STAGE, reason, retryable=retryable)


class ProviderUnavailable(ProviderError):
    """The provider is busy or failing (429, 5xx, timeout) and stayed so through the retries."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retryable=True)


class ProviderRejected(ProviderError):
    """The provider refused the request (400, 401, 403) or kept answering with broken JSON."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, retryable=False)


class MalformedReply(ProviderRejected):
    """A reply that was not the JSON object asked for (tried once more before it counts)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard an adapter tries before it gives up on one call.

    ``attempts`` counts every request for a busy provider, the first included; a malformed reply
    is asked for again ``malformed_retries`` times. Delays double from ``base_delay`` up to
    ``max_delay``; a provider's Retry-After is honoured up to ``max_delay``.
    """

    attempts: int = 3
    base_delay: float = 1.0
    max_delay: float = 8.0
    malformed_retries: int = 1


class RetryAfter(ProviderUnavailable):
    """A busy answer that said how long to wait."""

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.seconds = seconds


def json_object(text: str, who: str) -> dict[str, Any]:
    """The JSON object a model answered; anything else is a ``MalformedReply`` naming ``who``."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise MalformedReply(f"{who} answer was not JSON") from error
    if not isinstance(data, dict):
        raise MalformedReply(f"{who} answer was not a JSON object")
    return data


def call_with_retries(
    send: Callable[[], LlmReply],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
) -> LlmReply:
    """``send()`` until it answers, within ``policy``; raises the last error when it never does."""
    busy = 0
    malformed = 0
    while True:
        try:
            return send()
        except MalformedReply as error:
            malformed += 1
            if malformed > policy.malformed_retries:
                raise ProviderRejected(f"{error.reason} (after {malformed} tries)") from error
        except ProviderUnavailable as error:
            busy += 1
            if busy >= policy.attempts:
                raise ProviderUnavailable(f"{error.reason} (after {busy} tries)") from error
            delay = policy.base_delay * 2 ** (busy - 1)
            if isinstance(error, RetryAfter):
                delay = max(delay, error.seconds)
            sleep(min(delay, policy.max_delay))
