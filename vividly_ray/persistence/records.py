"""Read-only views of stored rows, and the mapping from a row back to a ``VideoRequest``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vividly_ray.domain.models import Aspect, ErrorInfo, Resolution, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.orm import ContentRequest, RequestEvent


@dataclass(frozen=True)
class RequestRecord:
    request_id: str
    student_id: str
    organization_id: str | None
    correlation_id: str | None
    student_query: str
    grade_level: str
    duration_minutes: float
    status: RequestStatus
    progress_percentage: int
    current_stage: str | None
    error_message: str | None
    error: ErrorInfo | None
    request_metadata: dict[str, Any]
    attempts: int
    lease_token: int
    lease_owner: str | None
    created_at: datetime
    updated_at: datetime

    def to_request(self) -> VideoRequest:
        """Rebuild the request exactly as it was accepted, on any worker."""
        from vividly_ray.validation.limits import parse_grade

        meta = self.request_metadata
        return VideoRequest(
            question=self.student_query,
            grade=parse_grade(self.grade_level),
            minutes=self.duration_minutes,
            aspect=Aspect(meta.get("aspect", Aspect.WIDE.value)),
            resolution=Resolution(meta.get("resolution", Resolution.P720.value)),
            student_id=self.student_id,
            organization_id=self.organization_id,
            correlation_id=self.correlation_id,
            voice=str(meta.get("voice", "")),
            callback_url=meta.get("callback_url"),
            clarifications=tuple(str(a) for a in meta.get("clarifications", ())),
        )


@dataclass(frozen=True)
class EventRecord:
    sequence: int
    event_type: str
    status: RequestStatus
    progress_percentage: int
    message: str
    details: dict[str, Any]
    created_at: datetime


def request_metadata(request: VideoRequest) -> dict[str, Any]:
    """The parts of a request that have no column of their own."""
    return {
        "aspect": request.aspect.value,
        "resolution": request.resolution.value,
        "voice": request.voice,
        "callback_url": request.callback_url,
        "clarifications": list(request.clarifications),
    }


def to_record(row: ContentRequest) -> RequestRecord:
    error = None
    if row.error_code or row.error_message:
        error = ErrorInfo(
            stage=row.error_stage or row.current_stage or "",
            code=row.error_code or "failed",
            message=row.error_message or "",
            error_id=row.error_id or "",
        )
    return RequestRecord(
        request_id=row.request_id,
        student_id=row.student_id,
        organization_id=row.organization_id,
        correlation_id=row.correlation_id,
        student_query=row.student_query,
        grade_level=row.grade_level,
        duration_minutes=row.duration_minutes,
        status=RequestStatus(row.status),
        progress_percentage=row.progress_percentage,
        current_stage=row.current_stage,
        error_message=row.error_message,
        error=error,
        request_metadata=dict(row.request_metadata or {}),
        attempts=row.attempts or 0,
        lease_token=row.lease_token or 0,
        lease_owner=row.lease_owner,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def to_event(row: RequestEvent) -> EventRecord:
    return EventRecord(
        sequence=row.sequence,
        event_type=row.event_type,
        status=RequestStatus(row.status),
        progress_percentage=row.progress_percentage,
        message=row.message,
        details=dict(row.details or {}),
        created_at=row.created_at,
    )
