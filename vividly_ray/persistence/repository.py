"""The request repository: the only code that writes request state.

Every change is checked against the state machine, progress never goes backwards, and every
change appends an event in the same transaction, so the status row and its history agree.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from vividly_ray.domain.errors import RequestNotFound
from vividly_ray.domain.models import VideoRequest
from vividly_ray.domain.status import RequestStatus, check_transition
from vividly_ray.persistence.orm import Base, ContentRequest, RequestEvent, utcnow


@dataclass(frozen=True)
class RequestRecord:
    request_id: str
    student_id: str
    student_query: str
    grade_level: str
    duration_minutes: float
    status: RequestStatus
    progress_percentage: int
    current_stage: str | None
    error_message: str | None
    request_metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class EventRecord:
    event_id: int
    event_type: str
    status: RequestStatus
    progress_percentage: int
    message: str
    details: dict[str, Any]
    created_at: datetime


def make_engine(url: str) -> Engine:
    """An engine with SQLite made safe for several processes (WAL, foreign keys, busy wait)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


class SqlRequestRepository:
    """Requests and their events in any SQLAlchemy database."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> SqlRequestRepository:
        repo = cls(make_engine(url))
        repo.create_schema()
        return repo

    def create_schema(self) -> None:
        Base.metadata.create_all(self._engine)

    def create(self, request: VideoRequest, metadata: dict[str, Any] | None = None) -> str:
        request_id = str(uuid.uuid4())
        with self._sessions.begin() as session:
            session.add(
                ContentRequest(
                    request_id=request_id,
                    student_id=request.student_id,
                    organization_id=request.organization_id,
                    correlation_id=request.correlation_id,
                    student_query=request.question,
                    grade_level=request.grade.label,
                    duration_minutes=request.minutes,
                    status=RequestStatus.PENDING.value,
                    progress_percentage=0,
                    current_stage=RequestStatus.PENDING.value,
                    request_metadata=dict(metadata or {}),
                )
            )
            session.flush()
            self._append(
                session, request_id, "status", RequestStatus.PENDING, 0, "request recorded"
            )
        return request_id

    def transition(
        self,
        request_id: str,
        status: RequestStatus,
        *,
        message: str = "",
        progress: int | None = None,
        error: str | None = None,
    ) -> RequestRecord:
        """Move to ``status``; a repeat of the current status is a no-op (idempotent retries)."""
        with self._sessions.begin() as session:
            row = self._lock(session, request_id)
            current = RequestStatus(row.status)
            if current == status:
                return _record(row)
            check_transition(current, status)
            now = utcnow()
            row.status = status.value
            row.current_stage = status.value
            row.updated_at = now
            if progress is not None:
                row.progress_percentage = max(row.progress_percentage, progress)
            if error is not None:
                row.error_message = error
            if status is RequestStatus.VALIDATING and row.started_at is None:
                row.started_at = now
            if status.is_terminal:
                row.completed_at = now
            self._append(session, request_id, "status", status, row.progress_percentage, message)
            return _record(row)

    def progress(self, request_id: str, percentage: int, detail: str = "") -> RequestRecord:
        """Raise progress to ``percentage``; a lower value leaves it as it is and logs nothing."""
        with self._sessions.begin() as session:
            row = self._lock(session, request_id)
            if percentage > row.progress_percentage and not RequestStatus(row.status).is_terminal:
                row.progress_percentage = min(percentage, 100)
                row.updated_at = utcnow()
                self._append(
                    session, request_id, "progress", RequestStatus(row.status), percentage, detail
                )
            return _record(row)

    def merge_metadata(self, request_id: str, values: dict[str, Any]) -> None:
        with self._sessions.begin() as session:
            row = self._lock(session, request_id)
            row.request_metadata = {**(row.request_metadata or {}), **values}

    def get(self, request_id: str) -> RequestRecord:
        with self._sessions() as session:
            row = session.get(ContentRequest, request_id)
            if row is None:
                raise RequestNotFound(f"no request with id {request_id}")
            return _record(row)

    def events(self, request_id: str) -> list[EventRecord]:
        with self._sessions() as session:
            rows = session.scalars(
                select(RequestEvent)
                .where(RequestEvent.request_id == request_id)
                .order_by(RequestEvent.event_id)
            )
            return [
                EventRecord(
                    event_id=e.event_id,
                    event_type=e.event_type,
                    status=RequestStatus(e.status),
                    progress_percentage=e.progress_percentage,
                    message=e.message,
                    details=dict(e.details or {}),
                    created_at=e.created_at,
                )
                for e in rows
            ]

    def _lock(self, session: Session, request_id: str) -> ContentRequest:
        row = session.scalars(
            select(ContentRequest).where(ContentRequest.request_id == request_id).with_for_update()
        ).one_or_none()
        if row is None:
            raise RequestNotFound(f"no request with id {request_id}")
        return row

    @staticmethod
    def _append(
        session: Session,
        request_id: str,
        event_type: str,
        status: RequestStatus,
        progress: int,
        message: str,
    ) -> None:
        session.add(
            RequestEvent(
                request_id=request_id,
                event_type=event_type,
                status=status.value,
                progress_percentage=progress,
                message=message,
                details={},
            )
        )


def _record(row: ContentRequest) -> RequestRecord:
    return RequestRecord(
        request_id=row.request_id,
        student_id=row.student_id,
        student_query=row.student_query,
        grade_level=row.grade_level,
        duration_minutes=row.duration_minutes,
        status=RequestStatus(row.status),
        progress_percentage=row.progress_percentage,
        current_stage=row.current_stage,
        error_message=row.error_message,
        request_metadata=dict(row.request_metadata or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
