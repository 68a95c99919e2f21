"""Publishes the results outbox: each terminal event once, with request_id, status and
correlation_id as message attributes and the request's summary as the JSON body."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Protocol

from vividly_ray.notify.webhooks import backoff_seconds
from vividly_ray.persistence.results_outbox import SqlResultOutbox

log = logging.getLogger("vividly.pubsub")


class ResultsPublisher(Protocol):
    """Sends one message to the results topic; returns the message id the server gave it."""

    def publish(self, data: bytes, attributes: Mapping[str, str]) -> str: ...


class ResultsRelay:
    """One pass over the due results; a failed publish is retried with backoff.

    Delivery is at least once: a relay that dies after the publish but before recording it
    publishes that event again. Receivers deduplicate on the ``event_id`` attribute.
    """

    def __init__(
        self,
        outbox: SqlResultOutbox,
        publisher: ResultsPublisher,
        max_attempts: int = 20,
        hold_s: float = 60.0,
    ) -> None:
        self._outbox = outbox
        self._publisher = publisher
        self._max_attempts = max_attempts
        self._hold_s = hold_s

    def publish_due(self, limit: int = 50) -> int:
        """Try every due message once; returns how many were attempted."""
        due = self._outbox.claim_due(limit, self._hold_s)
        for message in due:
            attributes = {
                "event_id": message.message_id,
                "request_id": message.request_id,
                "status": message.status,
                "correlation_id": message.correlation_id or "",
            }
            body = json.dumps(message.payload, sort_keys=True).encode("utf-8")
            try:
                published = self._publisher.publish(body, attributes)
            except Exception as exc:  # the client raises many kinds (network, auth, quota)
                attempt = message.attempts + 1
                retry = backoff_seconds(attempt) if attempt < self._max_attempts else None
                self._outbox.record(
                    message.message_id,
                    published_id=None,
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in_s=retry,
                )
                log.warning(
                    "results publish failed",
                    extra={
                        "fields": {
                            "request_id": message.request_id,
                            "attempt": attempt,
                            "error": str(exc)[:200],
                        }
                    },
                )
                continue
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
        return len(due)
