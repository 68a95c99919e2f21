"""The request repository: request rows, their state machine and their event history.

Every change is checked against the state machine, progress never goes backwards, and every
change appends a numbered event in the same transaction, so the status row and its history
agree. A write that carries a fencing token is refused (``LeaseLost``) unless the token is the
current claim's, so a worker that lost its lease cannot overwrite its successor's work. A move
to a terminal state (or to ``clarification_needed``) queues its webhook, and its results message
when a results topic is configured, in the same transaction (the outboxes), so the announcement
is never lost to a crash after the commit.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from vividly_ray.domain.errors import (
    Conflict,
    InvalidRequest,
    LeaseLost,
    RequestNotFound,
    VividlyError,
)
from vividly_ray.domain.models import ErrorInfo, VideoRequest
from vividly_ray.domain.status import RequestStatus, check_transition
from vividly_ray.persistence.database import Database, aware
from vividly_ray.persistence.orm import (
    ContentRequest,
    RequestEvent,
    ResultMessage,
    WebhookDelivery,
    utcnow,
)
from vividly_ray.persistence.records import (
    EventRecord,
    RequestRecord,
    request_metadata,
    to_event,
    to_record,
)

ANNOUNCED = frozenset(
    {
        RequestStatus.COMPLETED,
        RequestStatus.FAILED,
        RequestStatus.CANCELLED,
        RequestStatus.CLARIFICATION_NEEDED,
    }
)


@dataclass
class _Batch:
    """The transaction of an ``apply_batch`` and the rows it has locked so far."""

    session: Session
    rows: dict[str, ContentRequest] = field(default_factory=dict)


class SqlRequestRepository:
    """Requests and their events in any SQLAlchemy database."""

    def __init__(self, db: Database, *, publish_results: bool = False) -> None:
        self.db = db
        self._publish_results = publish_results
        self._sessions = db.sessions
        self._batch: ContextVar[_Batch | None] = ContextVar("batch", default=None)

    @contextmanager
    def _write(self) -> Iterator[Session]:
        """The batch's transaction inside ``apply_batch``, else a transaction of its own."""
        batch = self._batch.get()
        if batch is not None:
            yield batch.session
            return
        with self._sessions.begin() as session:
            yield session

    def apply_batch(
        self, calls: Sequence[tuple[str, tuple[Any, ...], dict[str, Any]]]
    ) -> list[Any]:
        """Run several writes (transition, progress, merge_metadata) in one transaction.

        Each write checks everything (the row, its token, the state machine) before it changes
        anything, so a refused write leaves the transaction as it was: its error is returned in
        its place and the others commit. A database error fails the whole batch.

        A request's row is read and locked once per batch (the lock is held until the commit,
        so no other writer can change it meanwhile) and the batch's events are inserted
        together at the commit: a batch of progress events costs about one round trip each
        for the row and the events, not one per write.
        """
        allowed = {"transition", "progress", "merge_metadata"}
        results: list[Any] = []
        with self._sessions.begin() as session, session.no_autoflush:
            marker = self._batch.set(_Batch(session))
            try:
                for name, args, kwargs in calls:
                    if name not in allowed:
                        results.append(InvalidRequest("write", f"unknown write {name!r}"))
                        continue
                    try:
                        results.append(getattr(self, name)(*args, **kwargs))
                    except VividlyError as exc:
                        results.append(exc)
            finally:
                self._batch.reset(marker)
        return results

    @classmethod
    def from_url(cls, url: str) -> SqlRequestRepository:
        """A repository on a database whose schema is created if missing (tests, tools)."""
        db = Database.from_url(url)
        db.create_schema()
        return cls(db)

    # -- intake -------------------------------------------------------------------------------

    def create(
        self,
        request: VideoRequest,
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        request_id: str | None = None,
    ) -> tuple[RequestRecord, bool]:
        """Record a new request as ``pending``; returns it and whether it was created now.

        With an idempotency key, the same key and fingerprint returns the request made the
        first time; the same key with another fingerprint raises ``Conflict``.
        """
        if idempotency_key is not None:
            existing = self.find_by_key(request.organization_id, idempotency_key, fingerprint)
            if existing is not None:
                return existing, False
        new_id = request_id or str(uuid.uuid4())
        try:
            with self._sessions.begin() as session:
                row = ContentRequest(
                    request_id=new_id,
                    student_id=request.student_id,
                    organization_id=request.organization_id,
                    correlation_id=request.correlation_id,
                    student_query=request.question,
                    grade_level=request.grade.label,
                    duration_minutes=request.minutes,
                    status=RequestStatus.PENDING.value,
                    progress_percentage=0,
                    current_stage=RequestStatus.PENDING.value,
                    request_metadata=request_metadata(request),
                    idempotency_key=idempotency_key,
                    request_fingerprint=fingerprint,
                    lease_token=0,
                    attempts=0,
                    event_sequence=0,
                )
                session.add(row)
                session.flush()
                self._append(session, row, "status", "request recorded")
                return to_record(row), True
        except IntegrityError:
            # A concurrent submission with the same key (or id) won the race.
            if idempotency_key is not None:
                existing = self.find_by_key(request.organization_id, idempotency_key, fingerprint)
                if existing is not None:
                    return existing, False
            if request_id is not None:
                try:
                    return self.get(request_id, request.organization_id), False
                except RequestNotFound:
                    raise Conflict(f"request id {request_id} is already in use") from None
            raise

    def find_by_key(
        self, organization_id: str | None, key: str, fingerprint: str | None
    ) -> RequestRecord | None:
        """The request made earlier with this key, or None; another body raises ``Conflict``."""
        with self._sessions() as session:
            row = session.scalars(
                select(ContentRequest).where(
                    ContentRequest.organization_id == organization_id,
                    ContentRequest.idempotency_key == key,
                )
            ).one_or_none()
            if row is None:
                return None
            if row.request_fingerprint != fingerprint:
                raise Conflict(
                    "this Idempotency-Key was already used with a different request body"
                )
            return to_record(row)

    # -- reads --------------------------------------------------------------------------------

    def get(self, request_id: str, organization_id: str | None = None) -> RequestRecord:
        """The request; another organization's request is reported as not found."""
        with self._sessions() as session:
            row = session.get(ContentRequest, request_id)
            if row is None or (
                organization_id is not None and row.organization_id != organization_id
            ):
                raise RequestNotFound(f"no request with id {request_id}")
            return to_record(row)

    def list_requests(
        self,
        organization_id: str,
        *,
        status: RequestStatus | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[RequestRecord], str | None]:
        """The organization's requests, newest first, and the cursor of the next page."""
        query = select(ContentRequest).where(ContentRequest.organization_id == organization_id)
        if status is not None:
            query = query.where(ContentRequest.status == status.value)
        if cursor:
            at, last_id = _decode_cursor(cursor)
            query = query.where(
                or_(
                    ContentRequest.created_at < at,
                    and_(ContentRequest.created_at == at, ContentRequest.request_id < last_id),
                )
            )
        query = query.order_by(
            ContentRequest.created_at.desc(), ContentRequest.request_id.desc()
        ).limit(limit + 1)
        with self._sessions() as session:
            rows = list(session.scalars(query))
        records = [to_record(row) for row in rows[:limit]]
        more = len(rows) > limit and records
        next_cursor = (
            _encode_cursor(records[-1].created_at, records[-1].request_id) if more else None
        )
        return records, next_cursor

    def events(self, request_id: str, after: int = 0, limit: int = 1000) -> list[EventRecord]:
        """Events with a sequence number above ``after``, in order."""
        with self._sessions() as session:
            rows = session.scalars(
                select(RequestEvent)
                .where(RequestEvent.request_id == request_id, RequestEvent.sequence > after)
                .order_by(RequestEvent.sequence)
                .limit(limit)
            )
            return [to_event(row) for row in rows]

    def count_by_status(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(
                select(ContentRequest.status, func.count()).group_by(ContentRequest.status)
            )
            return {str(status): int(count) for status, count in rows}

    def pending_count(self) -> int:
        with self._sessions() as session:
            return int(
                session.scalar(
                    select(func.count()).where(ContentRequest.status == RequestStatus.PENDING.value)
                )
                or 0
            )

    # -- state changes ------------------------------------------------------------------------

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: ErrorInfo | None = None,
        token: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> RequestRecord:
        """Move to ``status``; a repeat of the current status is a no-op (idempotent retries)."""
        with self._write() as session:
            row = self._lock(session, request_id, token)
            current = RequestStatus(row.status)
            if current == status:
                return to_record(row)
            check_transition(current, status)
            now = utcnow()
            row.status = status.value
            row.current_stage = status.value
            row.updated_at = now
            if progress is not None:
                row.progress_percentage = max(row.progress_percentage, min(progress, 100))
            if error is not None:
                row.error_message = error.message
                row.error_code = error.code
                row.error_stage = error.stage
                row.error_id = error.error_id or None
            if status is RequestStatus.VALIDATING and row.started_at is None:
                row.started_at = now
            if status.is_terminal:
                row.completed_at = now
                row.lease_owner = None
                row.lease_expires_at = None
            if status is RequestStatus.CLARIFICATION_NEEDED and details:
                row.request_metadata = {
                    **(row.request_metadata or {}),
                    "clarifying_questions": list(details.get("questions", [])),
                }
            event_details = dict(details or {})
            if error is not None:
                event_details["error"] = {
                    "stage": error.stage,
                    "code": error.code,
                    "message": error.message,
                    "error_id": error.error_id,
                }
            self._append(session, row, "status", message, event_details)
            if status in ANNOUNCED:
                self._announce(session, row, status)
            return to_record(row)

    def progress(
        self,
        request_id: str,
        percentage: int,
        detail: str = "",
        *,
        token: int | None = None,
        details: dict[str, Any] | None = None,
        event_type: str = "progress",
    ) -> RequestRecord:
        """Raise progress to ``percentage``; a lower value records nothing."""
        with self._write() as session:
            row = self._lock(session, request_id, token)
            status = RequestStatus(row.status)
            if status.is_terminal:
                return to_record(row)
            if min(percentage, 100) > row.progress_percentage or (
                details and event_type != "progress"
            ):
                row.progress_percentage = max(row.progress_percentage, min(percentage, 100))
                row.updated_at = utcnow()
                self._append(session, row, event_type, detail, dict(details or {}))
            return to_record(row)

    def merge_metadata(
        self, request_id: str, values: dict[str, Any], *, token: int | None = None
    ) -> None:
        with self._write() as session:
            row = self._lock(session, request_id, token)
            row.request_metadata = {**(row.request_metadata or {}), **values}

    def cancel(
        self, request_id: str, organization_id: str | None = None, reason: str = ""
    ) -> RequestRecord:
        """Mark the request cancelled now; its worker sees it at its next heartbeat."""
        with self._sessions.begin() as session:
            row = self._lock(session, request_id, None, organization_id)
            status = RequestStatus(row.status)
            if status.is_terminal:
                raise Conflict(f"request {request_id} has already ended ({status.value})")
            self._cancel_row(session, row, reason or "cancelled")
            return to_record(row)

    def _cancel_row(self, session: Session, row: ContentRequest, reason: str) -> None:
        check_transition(RequestStatus(row.status), RequestStatus.CANCELLED)
        now = utcnow()
        row.status = RequestStatus.CANCELLED.value
        row.current_stage = RequestStatus.CANCELLED.value
        row.updated_at = row.completed_at = now
        row.lease_owner = None
        row.lease_expires_at = None
        self._append(session, row, "status", reason)
        self._announce(session, row, RequestStatus.CANCELLED)

    # -- erasure ------------------------------------------------------------------------------

    def schedule_erasure(
        self,
        request_id: str,
        organization_id: str | None,
        *,
        grace: timedelta,
        now: datetime | None = None,
    ) -> datetime:
        """Mark the request for erasure; returns the moment from which it may be erased.

        A running request is cancelled first; its holder notices at its next heartbeat, and
        ``grace`` (longer than a heartbeat) passes before its blobs may go, so none are written
        after the erasure. A request that ended on its own is due at once.
        """
        with self._sessions.begin() as session:
            row = self._lock(session, request_id, None, organization_id)
            status = RequestStatus(row.status)
            now = now or utcnow()
            if not status.is_terminal:
                self._cancel_row(session, row, "cancelled: erasure requested")
                due = now + grace
            elif status is RequestStatus.CANCELLED:
                ended = aware(row.completed_at) or now
                due = max(now, ended + grace)
            else:
                due = now
            current = aware(row.erase_after)
            row.erase_after = due if current is None else min(current, due)
            return row.erase_after

    def erasure_keys(self, request_id: str) -> list[str]:
        """Every blob key the request recorded: its delivered files and its scenes' blobs."""
        with self._sessions() as session:
            row = session.get(ContentRequest, request_id)
            if row is None:
                return []
            keys = [str(k) for k in (row.request_metadata or {}).get("files", {}).values()]
            details = session.scalars(
                select(RequestEvent.details).where(RequestEvent.request_id == request_id)
            )
            for detail in details:
                keys.extend(str(k) for k in (detail or {}).get("blobs", []))
        return list(dict.fromkeys(keys))

    def erase(self, request_id: str) -> bool:
        """Delete the request's row; its events and outbox rows go with it (ON DELETE CASCADE)."""
        with self._sessions.begin() as session:
            gone = session.execute(
                delete(ContentRequest).where(ContentRequest.request_id == request_id)
            )
            return bool(getattr(gone, "rowcount", 0))

    def due_erasures(
        self, now: datetime, ended_before: datetime | None, limit: int = 200
    ) -> list[str]:
        """Requests to erase now: those marked and due, and (with a retention cutoff) those
        that ended, or stopped to wait for an answer, before ``ended_before``."""
        due = [ContentRequest.erase_after <= now]
        if ended_before is not None:
            ended = [s.value for s in RequestStatus if s.is_terminal]
            ended.append(RequestStatus.CLARIFICATION_NEEDED.value)
            due.append(
                and_(ContentRequest.status.in_(ended), ContentRequest.updated_at < ended_before)
            )
        with self._sessions() as session:
            found = session.scalars(
                select(ContentRequest.request_id)
                .where(or_(*due))
                .order_by(ContentRequest.updated_at)
                .limit(limit)
            )
            return list(found)

    def existing(self, request_ids: Sequence[str]) -> set[str]:
        """Which of these ids have a row."""
        found: set[str] = set()
        with self._sessions() as session:
            for start in range(0, len(request_ids), 500):
                chunk = list(request_ids[start : start + 500])
                found.update(
                    session.scalars(
                        select(ContentRequest.request_id).where(
                            ContentRequest.request_id.in_(chunk)
                        )
                    )
                )
        return found

    def answer(
        self,
        request_id: str,
        answer: str,
        *,
        organization_id: str | None = None,
        max_rounds: int = 3,
    ) -> RequestRecord:
        """Record the student's answer; the request goes back to validation with it."""
        text = answer.strip()
        if not 1 <= len(text) <= 500:
            raise InvalidRequest("answer", f"must be text of 1-500 characters, got {len(text)}")
        with self._sessions.begin() as session:
            row = self._lock(session, request_id, None, organization_id)
            status = RequestStatus(row.status)
            if status is not RequestStatus.CLARIFICATION_NEEDED:
                raise Conflict(
                    f"request {request_id} is {status.value}, not waiting for clarification"
                )
            answers = [*row.request_metadata.get("clarifications", []), text]
            if len(answers) > max_rounds:
                raise Conflict(
                    f"request {request_id} already had {max_rounds} clarification rounds"
                )
            row.request_metadata = {**row.request_metadata, "clarifications": answers}
            row.status = RequestStatus.VALIDATING.value
            row.current_stage = RequestStatus.VALIDATING.value
            row.updated_at = utcnow()
            row.next_attempt_at = None
            row.attempts = 0
            self._append(session, row, "status", f"answer {len(answers)} received")
            return to_record(row)

    # -- helpers ------------------------------------------------------------------------------

    def _lock(
        self,
        session: Session,
        request_id: str,
        token: int | None,
        organization_id: str | None = None,
    ) -> ContentRequest:
        batch = self._batch.get()
        locked = batch.rows if batch is not None and batch.session is session else None
        row = locked.get(request_id) if locked is not None else None
        if row is None:
            row = session.scalars(
                select(ContentRequest)
                .where(ContentRequest.request_id == request_id)
                .with_for_update()
            ).one_or_none()
            if row is not None and locked is not None:
                locked[request_id] = row
        if row is None or (organization_id is not None and row.organization_id != organization_id):
            raise RequestNotFound(f"no request with id {request_id}")
        if token is not None and (row.lease_token != token or row.lease_owner is None):
            status = RequestStatus(row.status)
            if status.is_terminal:
                # Cancelled (or finished) meanwhile: the caller must stop, not retry.
                raise Conflict(f"request {request_id} has ended ({status.value})")
            raise LeaseLost(
                f"request {request_id} is held under token {row.lease_token}, not {token}"
            )
        return row

    @staticmethod
    def _append(
        session: Session,
        row: ContentRequest,
        event_type: str,
        message: str,
        details: dict[str, Any] | None = None,
    ) -> None:
        row.event_sequence = (row.event_sequence or 0) + 1
        session.add(
            RequestEvent(
                request_id=row.request_id,
                sequence=row.event_sequence,
                event_type=event_type,
                status=row.status,
                progress_percentage=row.progress_percentage,
                message=message,
                details=dict(details or {}),
            )
        )

    def _announce(self, session: Session, row: ContentRequest, status: RequestStatus) -> None:
        self._queue_webhook(session, row, status)
        if self._publish_results:
            session.add(
                ResultMessage(
                    message_id=f"res_{uuid.uuid4().hex}",
                    request_id=row.request_id,
                    status=status.value,
                    correlation_id=row.correlation_id,
                    payload=webhook_payload(row, status),
                    state="pending",
                    attempts=0,
                    last_error="",
                    next_attempt_at=utcnow(),
                )
            )

    @staticmethod
    def _queue_webhook(session: Session, row: ContentRequest, status: RequestStatus) -> None:
        url = (row.request_metadata or {}).get("callback_url")
        if not url:
            return
        session.add(
            WebhookDelivery(
                webhook_id=f"msg_{uuid.uuid4().hex}",
                request_id=row.request_id,
                organization_id=row.organization_id,
                url=str(url),
                event_type=f"video.{status.value}",
                payload=webhook_payload(row, status),
                state="pending",
                attempts=0,
                next_attempt_at=utcnow(),
            )
        )


def webhook_payload(row: ContentRequest, status: RequestStatus) -> dict[str, Any]:
    """A webhook's ``data``: the request, its status and, on failure, why."""
    data: dict[str, Any] = {
        "id": row.request_id,
        "status": status.value,
        "correlation_id": row.correlation_id,
        "progress_percentage": row.progress_percentage,
        "links": {"self": f"/v1/videos/{row.request_id}"},
    }
    if status is RequestStatus.FAILED:
        data["error"] = {
            "stage": row.error_stage,
            "code": row.error_code,
            "message": row.error_message,
            "error_id": row.error_id,
        }
    if status is RequestStatus.CLARIFICATION_NEEDED:
        data["clarifying_questions"] = list(
            (row.request_metadata or {}).get("clarifying_questions", [])
        )
    data["at"] = utcnow().isoformat()
    return data


def _encode_cursor(at: datetime, request_id: str) -> str:
    raw = f"{at.isoformat()}|{request_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, request_id = base64.urlsafe_b64decode(padded).decode("utf-8").split("|", 1)
        return datetime.fromisoformat(at), request_id
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("cursor", "is not a cursor this API returned") from exc


__all__: Sequence[str] = ("SqlRequestRepository", "RequestRecord", "EventRecord")


def recent_stage_seconds(db: Database, limit: int = 500) -> list[tuple[str, float]]:
    """(stage, seconds) of the most recently completed requests, for the duration histogram."""
    with db.sessions() as session:
        rows = session.scalars(
            select(ContentRequest.request_metadata)
            .where(ContentRequest.status == RequestStatus.COMPLETED.value)
            .order_by(ContentRequest.completed_at.desc())
            .limit(limit)
        )
        pairs: list[tuple[str, float]] = []
        for meta in rows:
            for stage, seconds in dict((meta or {}).get("stage_seconds", {})).items():
                if isinstance(seconds, int | float):
                    pairs.append((str(stage), float(seconds)))
        return pairs


def oldest_pending_at(db: Database) -> datetime | None:
    from vividly_ray.persistence.database import aware

    with db.sessions() as session:
        found = session.scalar(
            select(func.min(ContentRequest.created_at)).where(
                ContentRequest.status == RequestStatus.PENDING.value
            )
        )
        return aware(found)
