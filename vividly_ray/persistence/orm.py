"""SQLAlchemy 2.0 models: one declarative Base, string UUID ids everywhere.

Table and column names follow the platform's ``content_requests`` model. ``request_events`` is
append-only and numbers each request's events 1, 2, 3... (the ids of the live event stream).
Alembic migrations in ``persistence/migrations`` create exactly these tables; a test compares them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The single declarative base for every table."""


class Organization(Base):
    """A tenant: every request and API key belongs to one; it signs its own webhooks."""

    __tablename__ = "organizations"

    organization_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    webhook_secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ApiKey(Base):
    """An API key, stored as a SHA-256 hash; the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organization_id: Mapped[str] = mapped_column(
        String(128), ForeignKey("organizations.organization_id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ContentRequest(Base):
    __tablename__ = "content_requests"
    __table_args__ = (
        UniqueConstraint("organization_id", "idempotency_key", name="uq_request_idempotency"),
        Index("ix_content_requests_claim", "status", "next_attempt_at"),
        Index("ix_content_requests_org_created", "organization_id", "created_at"),
    )

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(128), index=True)
    organization_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    correlation_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    student_query: Mapped[str] = mapped_column(Text)
    grade_level: Mapped[str] = mapped_column(String(4))
    duration_minutes: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32), index=True)
    progress_percentage: Mapped[int] = mapped_column(Integer, default=0)
    current_stage: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_stage: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Everything else needed to rebuild the request on any worker: aspect, resolution, voice,
    # callback URL, clarification answers; and what it produced: title, files, stage times.
    request_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Durable dispatch: who holds the request, until when, and the fencing token of that claim.
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    lease_token: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    event_sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # When set, the request and everything it stored are erased once this moment has passed
    # (DELETE /v1/videos/{id}); the wait lets a cancelled holder notice before its blobs go.
    erase_after: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True, index=True
    )


class RequestEvent(Base):
    __tablename__ = "request_events"
    __table_args__ = (
        UniqueConstraint("request_id", "sequence", name="uq_request_events_sequence"),
    )

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("content_requests.request_id", ondelete="CASCADE")
    )
    sequence: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(32))  # status | progress | scene | retry
    status: Mapped[str] = mapped_column(String(32))
    progress_percentage: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class WebhookDelivery(Base):
    """The webhook outbox: written in the same transaction as the event it announces."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),)

    webhook_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("content_requests.request_id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    url: Mapped[str] = mapped_column(Text)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebhookAttempt(Base):
    """One POST of a webhook: every attempt is recorded, delivered or not."""

    __tablename__ = "webhook_attempts"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("webhook_deliveries.webhook_id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RateWindow(Base):
    """Requests counted per organization per minute, shared by every Gateway replica."""

    __tablename__ = "rate_windows"

    organization_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch minute
    count: Mapped[int] = mapped_column(Integer, default=0)


class ResultMessage(Base):
    """The results outbox: a terminal event to publish, written with the status change."""

    __tablename__ = "result_messages"
    __table_args__ = (Index("ix_result_messages_due", "state", "next_attempt_at"),)

    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("content_requests.request_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32))
    correlation_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending|published|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_id: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RejectedMessage(Base):
    """An intake message that could not become a request, with the reason (one row per message,
    counting its deliveries until Pub/Sub moves it to the dead-letter topic)."""

    __tablename__ = "rejected_messages"

    message_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    source: Mapped[str] = mapped_column(String(255))  # the subscription it came from
    reason: Mapped[str] = mapped_column(Text)
    body_excerpt: Mapped[str] = mapped_column(Text, default="")
    deliveries: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
