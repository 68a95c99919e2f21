"""The webhook outbox: due deliveries, and a record of every attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update

from vividly_ray.persistence.database import Database
from vividly_ray.persistence.orm import ResultMessage, WebhookAttempt, WebhookDelivery, utcnow


@dataclass(frozen=True)
class DueWebhook:
    webhook_id: str
    request_id: str
    organization_id: str | None
    url: str
    event_type: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class AttemptRecord:
    webhook_id: str
    attempt: int
    delivered: bool
    status_code: int | None
    error: str


OutboxRow = WebhookDelivery | ResultMessage


def hold_for(
    db: Database,
    model: type[OutboxRow],
    identity: ColumnElement[bool],
    attempts: int,
    now: datetime,
    hold_s: float,
) -> bool:
    """Claim one pending outbox row for ``hold_s`` seconds by compare-and-set: only the relay
    whose update moves ``next_attempt_at`` past now (with the attempt count it read) sends it,
    so relays side by side never send the same attempt twice."""
    with db.sessions.begin() as session:
        result = session.execute(
            update(model)
            .where(
                identity,
                model.state == "pending",
                model.attempts == attempts,
                model.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + timedelta(seconds=hold_s))
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


class SqlWebhookOutbox:
    """Reads due webhooks and records the outcome of each attempt."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def due(self, limit: int = 20) -> list[DueWebhook]:
        now = utcnow()
        with self._db.sessions() as session:
            rows = session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at)
                .limit(limit)
            )
            return [
                DueWebhook(
                    r.webhook_id,
                    r.request_id,
                    r.organization_id,
                    r.url,
                    r.event_type,
                    dict(r.payload or {}),
                    r.attempts,
                )
                for r in rows
            ]

    def claim_due(self, limit: int, hold_s: float) -> list[DueWebhook]:
        """Due deliveries, each held back from other relays for ``hold_s`` seconds.

        Several relays (one per dispatcher replica) may run at once; only the relay whose
        compare-and-set moves a delivery's ``next_attempt_at`` past now sends it. A relay that
        dies mid-send leaves the delivery due again once ``hold_s`` has passed.
        """
        now = utcnow()
        return [
            webhook
            for webhook in self.due(limit)
            if hold_for(
                self._db,
                WebhookDelivery,
                WebhookDelivery.webhook_id == webhook.webhook_id,
                webhook.attempts,
                now,
                hold_s,
            )
        ]

    def record(
        self,
        webhook_id: str,
        *,
        delivered: bool,
        status_code: int | None,
        error: str,
        elapsed_s: float,
        retry_in_s: float | None,
    ) -> None:
        """Store one attempt; ``retry_in_s`` None means no further attempt (done or given up)."""
        now = utcnow()
        with self._db.sessions.begin() as session:
            row = session.get(WebhookDelivery, webhook_id, with_for_update=True)
            if row is None or row.state != "pending":
                return
            row.attempts += 1
            session.add(
                WebhookAttempt(
                    webhook_id=webhook_id,
                    attempt=row.attempts,
                    delivered=delivered,
                    status_code=status_code,
                    error=error[:500],
                    elapsed_ms=int(elapsed_s * 1000),
                )
            )
            if delivered:
                row.state, row.delivered_at = "delivered", now
            elif retry_in_s is None:
                row.state = "failed"
            else:
                row.next_attempt_at = now + timedelta(seconds=retry_in_s)

    def attempts(self, request_id: str) -> list[AttemptRecord]:
        with self._db.sessions() as session:
            rows = session.execute(
                select(WebhookAttempt)
                .join(WebhookDelivery, WebhookDelivery.webhook_id == WebhookAttempt.webhook_id)
                .where(WebhookDelivery.request_id == request_id)
                .order_by(WebhookAttempt.attempt_id)
            ).scalars()
            return [
                AttemptRecord(r.webhook_id, r.attempt, r.delivered, r.status_code, r.error)
                for r in rows
            ]

    def attempt_counts(self) -> dict[str, int]:
        """Attempts by outcome: delivered, retry (failed but tried again) and failed (final)."""
        with self._db.sessions() as session:
            delivered = session.scalar(
                select(func.count()).select_from(WebhookAttempt).where(WebhookAttempt.delivered)
            )
            total = session.scalar(select(func.count()).select_from(WebhookAttempt))
            final = session.scalar(select(func.count()).where(WebhookDelivery.state == "failed"))
        delivered, total, final = int(delivered or 0), int(total or 0), int(final or 0)
        return {"delivered": delivered, "retry": total - delivered - final, "failed": final}
