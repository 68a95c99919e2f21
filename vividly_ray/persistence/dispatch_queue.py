"""Durable dispatch: claiming requests with a lease, heartbeats, fencing and retry with backoff.

A dispatcher claims the oldest runnable request (PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so
dispatchers never wait on each other) and holds it for ``lease_s`` seconds, renewing the lease
while it works. Each claim increments ``lease_token``, the fencing token every later write must
carry. A holder that dies stops renewing; once the lease has expired another dispatcher claims
the request and resumes it from its current stage.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from vividly_ray.domain.errors import Conflict, LeaseLost, RequestNotFound
from vividly_ray.domain.models import ErrorInfo
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.orm import ContentRequest, utcnow
from vividly_ray.persistence.records import RequestRecord, to_record
from vividly_ray.persistence.repository import SqlRequestRepository

RUNNABLE = tuple(
    s.value
    for s in RequestStatus
    if not s.is_terminal and s is not RequestStatus.CLARIFICATION_NEEDED
)


@dataclass(frozen=True)
class Claim:
    """A request held by one dispatcher; ``token`` fences every write made under it."""

    request_id: str
    token: int
    attempt: int
    record: RequestRecord


class SqlDispatchQueue:
    """Leases on ``content_requests`` rows."""

    def __init__(self, db: Database, repository: SqlRequestRepository) -> None:
        self._db = db
        self._repo = repository

    def claim(self, owner: str, lease_s: float, max_attempts: int) -> Claim | None:
        """Claim the oldest runnable request whose lease is free or expired, or return None.

        A request already tried ``max_attempts`` times (a worker died under it each time) is
        failed with that reason instead of being claimed again.
        """
        for _ in range(8):
            now = utcnow()
            free = or_(
                ContentRequest.lease_expires_at.is_(None), ContentRequest.lease_expires_at < now
            )
            due = or_(
                ContentRequest.next_attempt_at.is_(None), ContentRequest.next_attempt_at <= now
            )
            with self._db.sessions.begin() as session:
                pick = (
                    select(ContentRequest.request_id)
                    .where(ContentRequest.status.in_(RUNNABLE), free, due)
                    .order_by(ContentRequest.created_at)
                    .limit(1)
                )
                if self._db.is_postgres:
                    pick = pick.with_for_update(skip_locked=True)
                request_id = session.scalar(pick)
                if request_id is None:
                    return None
                # Compare-and-set on the same conditions: on SQLite two claimants may pick the
                # same row, and only one update matches.
                result = session.execute(
                    update(ContentRequest)
                    .where(ContentRequest.request_id == request_id, free, due)
                    .values(
                        lease_owner=owner,
                        lease_expires_at=now + timedelta(seconds=lease_s),
                        lease_token=ContentRequest.lease_token + 1,
                        attempts=ContentRequest.attempts + 1,
                        updated_at=now,
                    )
                    .execution_options(synchronize_session=False)
                )
                if result.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                row = session.get(ContentRequest, request_id, populate_existing=True)
                assert row is not None
                record = to_record(row)
            if record.attempts > max_attempts:
                self._give_up(record, max_attempts)
                continue
            return Claim(record.request_id, record.lease_token, record.attempts, record)
        return None

    def _give_up(self, record: RequestRecord, max_attempts: int) -> None:
        stage = record.status.value
        with contextlib.suppress(Conflict, LeaseLost):
            self._repo.transition(
                record.request_id,
                RequestStatus.FAILED,
                message=f"gave up after {max_attempts} attempts",
                error=ErrorInfo(
                    stage=stage,
                    code="attempts_exhausted",
                    message=f"the request was tried {max_attempts} times without finishing "
                    f"(last stage: {stage})",
                ),
                token=record.lease_token,
            )

    def renew(self, request_id: str, token: int, lease_s: float) -> RequestStatus:
        """Extend the lease; returns the current status so the holder sees a cancellation."""
        now = utcnow()
        with self._db.sessions.begin() as session:
            row = session.get(ContentRequest, request_id, with_for_update=True)
            if row is None:
                raise RequestNotFound(f"no request with id {request_id}")
            status = RequestStatus(row.status)
            if status.is_terminal:
                return status
            if row.lease_token != token or row.lease_owner is None:
                raise LeaseLost(f"request {request_id} is now held under token {row.lease_token}")
            row.lease_expires_at = now + timedelta(seconds=lease_s)
            return status

    def release(self, request_id: str, token: int) -> None:
        """Give the request up (finished, waiting for an answer, or shutting down)."""
        with self._db.sessions.begin() as session:
            session.execute(
                update(ContentRequest)
                .where(ContentRequest.request_id == request_id, ContentRequest.lease_token == token)
                .values(lease_owner=None, lease_expires_at=None)
                .execution_options(synchronize_session=False)
            )

    def retry_later(self, request_id: str, token: int, delay_s: float, reason: str) -> None:
        """Release the request to be claimed again after ``delay_s`` (a retryable failure)."""
        now = utcnow()
        self._repo.progress(
            request_id,
            0,
            f"retrying in {delay_s:.0f} s: {reason}",
            token=token,
            details={"delay_s": delay_s, "reason": reason},
            event_type="retry",
        )
        with self._db.sessions.begin() as session:
            session.execute(
                update(ContentRequest)
                .where(ContentRequest.request_id == request_id, ContentRequest.lease_token == token)
                .values(
                    lease_owner=None,
                    lease_expires_at=None,
                    next_attempt_at=now + timedelta(seconds=delay_s),
                )
                .execution_options(synchronize_session=False)
            )

    def status(self, request_id: str) -> RequestStatus:
        return self._repo.get(request_id).status

    def active_leases(self) -> int:
        from sqlalchemy import func

        now = utcnow()
        with self._db.sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).where(
                        ContentRequest.lease_owner.is_not(None),
                        ContentRequest.lease_expires_at > now,
                    )
                )
                or 0
            )
