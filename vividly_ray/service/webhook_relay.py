"""Delivers the webhook outbox: due deliveries are signed, POSTed, and every attempt recorded."""

from __future__ import annotations

import logging
from typing import Protocol

from vividly_ray.notify.webhooks import DeliveryOutcome, WebhookMessage, backoff_seconds
from vividly_ray.persistence.accounts import SqlAccounts
from vividly_ray.persistence.outbox import SqlWebhookOutbox

log = logging.getLogger("vividly.webhooks")


class WebhookSender(Protocol):
    def send(self, message: WebhookMessage, secret: str) -> DeliveryOutcome: ...


class WebhookRelay:
    """One pass over the due webhooks; retried with backoff up to ``max_attempts``.

    Each delivery is claimed for ``hold_s`` seconds before it is sent (longer than a send can
    take), so relays running side by side never send the same attempt twice.
    """

    def __init__(
        self,
        outbox: SqlWebhookOutbox,
        accounts: SqlAccounts,
        sender: WebhookSender,
        max_attempts: int,
        hold_s: float = 120.0,
    ) -> None:
        self._outbox = outbox
        self._accounts = accounts
        self._sender = sender
        self._max_attempts = max_attempts
        self._hold_s = hold_s

    def deliver_due(self, limit: int = 20) -> int:
        """Try every due delivery once; returns how many were attempted."""
        due = self._outbox.claim_due(limit, self._hold_s)
        for webhook in due:
            secret = self._accounts.webhook_secret(webhook.organization_id or "local")
            message = WebhookMessage(
                webhook_id=webhook.webhook_id,
                url=webhook.url,
                event_type=webhook.event_type,
                payload=webhook.payload,
            )
            outcome = self._sender.send(message, secret)
            attempt = webhook.attempts + 1
            retry = None
            if not outcome.delivered and outcome.retryable and attempt < self._max_attempts:
                retry = backoff_seconds(attempt)
            self._outbox.record(
                webhook.webhook_id,
                delivered=outcome.delivered,
                status_code=outcome.status_code,
                error=outcome.error,
                elapsed_s=outcome.elapsed_s,
                retry_in_s=retry,
            )
            log.info(
                "webhook attempt",
                extra={
                    "fields": {
                        "request_id": webhook.request_id,
                        "webhook_id": webhook.webhook_id,
                        "attempt": attempt,
                        "delivered": outcome.delivered,
                        "status_code": outcome.status_code,
                    }
                },
            )
        return len(due)
