"""The results outbox (terminal events for the results topic) and the rejected-message record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from vividly_ray.persistence.database import Database
from vividly_ray.persistence.orm import RejectedMessage, ResultMessage, utcnow
from vividly_ray.persistence.outbox import hold_for


@dataclass(frozen=True)
class DueResult:
    message_id: str
    request_id: str
    status: str
    correlation_id: str | None
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Rejection:
    message_id: str
    source: str
    reason: str
    deliveries: int
    body_excerpt: str


class SqlResultOutbox:
    """Due results messages, claimed with a compare-and-set so two relays never both send one."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def claim_due(self, limit: int, hold_s: float) -> list[DueResult]:
        """Due messages, each held back from other relays for ``hold_s`` seconds; a relay that
        dies mid-publish leaves its messages due again once the hold has passed."""
        now = utcnow()
        with self._db.sessions() as session:
            rows = list(
                session.scalars(
                    select(ResultMessage)
                    .where(ResultMessage.state == "pending", ResultMessage.next_attempt_at <= now)
                    .order_by(ResultMessage.created_at)
                    .limit(limit)
                )
            )
            due = [
                DueResult(
                    r.message_id,
                    r.request_id,
                    r.status,
                    r.correlation_id,
                    dict(r.payload or {}),
                    r.attempts,
                )
                for r in rows
            ]
        return [
            message
            for message in due
            if hold_for(
                self._db,
                ResultMessage,
                ResultMessage.message_id == message.message_id,
                message.attempts,
                now,
                hold_s,
            )
        ]

    def record(
        self,
        message_id: str,
        *,
        published_id: str | None,
        error: str = "",
        retry_in_s: float | None = None,
    ) -> None:
        """Store one attempt: published (``published_id`` set), retried later, or given up."""
        now = utcnow()
        with self._db.sessions.begin() as session:
            row = session.get(ResultMessage, message_id, with_for_update=True)
            if row is None or row.state != "pending":
                return
            row.attempts += 1
            if published_id is not None:
                row.state, row.published_at, row.published_id = "published", now, published_id
                row.last_error = ""
            else:
                row.last_error = error[:500]
                if retry_in_s is None:
                    row.state = "failed"
                else:
                    row.next_attempt_at = now + timedelta(seconds=retry_in_s)

    def states(self, request_id: str) -> list[tuple[str, str]]:
        """(status announced, outbox state) of a request's results messages, oldest first."""
        with self._db.sessions() as session:
            rows = session.execute(
                select(ResultMessage.status, ResultMessage.state)
                .where(ResultMessage.request_id == request_id)
                .order_by(ResultMessage.created_at)
            )
            return [(str(status), str(state)) for status, state in rows]

    def pending_count(self) -> int:
        with self._db.sessions() as session:
            return int(
                session.scalar(select(func.count()).where(ResultMessage.state == "pending")) or 0
            )


class SqlRejections:
    """Intake messages that could not become requests; one row per message id."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, message_id: str, source: str, reason: str, body: bytes) -> int:
        """Note one delivery of a rejected message; returns how many times it was seen."""
        excerpt = body[:2000].decode("utf-8", errors="replace")
        with self._db.sessions.begin() as session:
            row = session.get(RejectedMessage, message_id, with_for_update=True)
            if row is None:
                session.add(
                    RejectedMessage(
                        message_id=message_id,
                        source=source[:255],
                        reason=reason,
                        body_excerpt=excerpt,
                        deliveries=1,
                    )
                )
                return 1
            row.deliveries += 1
            row.reason = reason
            row.last_seen_at = utcnow()
            return row.deliveries

    def get(self, message_id: str) -> Rejection | None:
        with self._db.sessions() as session:
            row = session.get(RejectedMessage, message_id)
            if row is None:
                return None
            return Rejection(
                row.message_id, row.source, row.reason, row.deliveries, row.body_excerpt
            )

    def count(self) -> int:
        with self._db.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(RejectedMessage)) or 0)

    def forget_before(self, cutoff: datetime) -> int:
        """Delete rejections last seen before ``cutoff`` (their excerpts hold student text)."""
        with self._db.sessions.begin() as session:
            gone = session.execute(
                delete(RejectedMessage).where(RejectedMessage.last_seen_at < cutoff)
            )
            return int(getattr(gone, "rowcount", 0) or 0)
