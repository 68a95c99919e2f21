"""Publishes the results outbox: each terminal event once, with request_id, status and
correlation_id as message attributes and the request's summary as the JSON body."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from vividly_ray.notify.webhooks import backoff_seconds
from vividly_ray.persistence.results_outbox import DueResult, SqlResultOutbox

log = logging.getLogger("vividly.pubsub")


class PublishRefused(Exception):
    """The message service refused this message itself (malformed, too large): trying it again
    will not help, so it counts toward the relay's ``max_attempts``."""


class ResultsPublisher(Protocol):
    """Sends one message to the results topic; returns the message id the server gave it.

    Raises ``PublishRefused`` when the service refused the message itself; any other exception
    means the service could not take it now (unreachable, the topic missing, a timeout)."""

    def publish(self, data: bytes, attributes: Mapping[str, str]) -> str: ...


class ResultsRelay:
    """One pass over the due results, published side by side; a failed publish is retried with
    backoff.

    Delivery is at least once: a relay that dies after the publish but before recording it
    publishes that event again. Receivers deduplicate on the ``event_id`` attribute.

    The results topic is the platform's own, so an outage of it (the service unreachable, the
    topic deleted and created again) is waited out however long it lasts: such a failure is
    retried at most every ``backoff_cap_s`` and never given up. Only a message the service
    refuses (``PublishRefused``) fails after ``max_attempts``.
    """

    def __init__(
        self,
        outbox: SqlResultOutbox,
        publisher: ResultsPublisher,
        max_attempts: int = 20,
        hold_s: float = 60.0,
        *,
        backoff_base_s: float = 2.0,
        backoff_cap_s: float = 300.0,
        parallel: int = 8,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._max_attempts = max_attempts
        self._hold_s = hold_s
        self._backoff = (backoff_base_s, backoff_cap_s)
        self._parallel = max(1, parallel)

    def publish_due(self, limit: int = 50) -> int:
        """Try every due message once; returns how many were attempted."""
        due = self._outbox.claim_due(limit, self._hold_s)
        if not due:
            return 0
        # One slow or unreachable service costs one publish timeout per pass, not one per
        # message: the publishes wait side by side.
        with ThreadPoolExecutor(
            max_workers=min(self._parallel, len(due)), thread_name_prefix="results-publish"
        ) as pool:
            outcomes = list(pool.map(self._attempt, due))
        for message, (published, error) in zip(due, outcomes, strict=True):
            if published is not None:
                self._published(message, published)
            else:
                assert error is not None
                self._failed(message, error)
        return len(due)

    def _attempt(self, message: DueResult) -> tuple[str | None, Exception | None]:
        attributes = {
            "event_id": message.message_id,
            "request_id": message.request_id,
            "status": message.status,
            "correlation_id": message.correlation_id or "",
        }
        body = json.dumps(message.payload, sort_keys=True).encode("utf-8")
        try:
            return self._publisher.publish(body, attributes), None
        except Exception as exc:  # the client raises many kinds (network, auth, quota)
            return None, exc

    def _published(self, message: DueResult, published: str) -> None:
        self._outbox.record(message.message_id, published_id=published)
        log.info(
            "results published",
            extra={
                "fields": {
                    "request_id": message.request_id,
                    "status": message.status,
                    "message_id": published,
                }
            },
        )

    def _failed(self, message: DueResult, exc: Exception) -> None:
        attempt = message.attempts + 1
        base, cap = self._backoff
        refused = isinstance(exc, PublishRefused)
        give_up = refused and attempt >= self._max_attempts
        self._outbox.record(
            message.message_id,
            published_id=None,
            error=f"{type(exc).__name__}: {exc}",
            retry_in_s=None if give_up else backoff_seconds(attempt, base=base, cap=cap),
        )
        log.warning(
            "results publish failed",
            extra={
                "fields": {
                    "request_id": message.request_id,
                    "attempt": attempt,
                    "refused": refused,
                    "given_up": give_up,
                    "error": str(exc)[:200],
                }
            },
        )
