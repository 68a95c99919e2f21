"""JSON views of requests and events, in the shapes the API documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vividly_ray.persistence.database import aware
from vividly_ray.persistence.records import EventRecord, RequestRecord


def _iso(moment: Any) -> str | None:
    found = aware(moment)
    return None if found is None else found.isoformat()


INTERNAL_DETAILS = frozenset({"blobs"})


def event_view(event: EventRecord) -> dict[str, Any]:
    return {
        "sequence": event.sequence,
        "type": event.event_type,
        "status": event.status.value,
        "progress_percentage": event.progress_percentage,
        "message": event.message,
        # Internal bookkeeping (the blob keys a scene wrote) is not part of the API.
        "details": {k: v for k, v in event.details.items() if k not in INTERNAL_DETAILS},
        "at": _iso(event.created_at),
    }


def links(request_id: str) -> dict[str, str]:
    base = f"/v1/videos/{request_id}"
    return {
        "self": base,
        "events": f"{base}/events",
        "cancel": f"{base}/cancel",
        "clarification": f"{base}/clarification",
    }


def summary_view(record: RequestRecord) -> dict[str, Any]:
    return {
        "id": record.request_id,
        "status": record.status.value,
        "progress_percentage": record.progress_percentage,
        "student_query": record.student_query,
        "title": record.request_metadata.get("title"),
        "created_at": _iso(record.created_at),
        "updated_at": _iso(record.updated_at),
    }


def detail_view(
    record: RequestRecord, events: Sequence[EventRecord], files: dict[str, str]
) -> dict[str, Any]:
    """Everything the platform and the web page show about one request."""
    meta = record.request_metadata
    done = 0
    total = int(meta.get("scenes_total", 0) or 0)
    for event in events:
        if event.event_type == "scene":
            done = int(event.details.get("scenes_done", done))
            total = int(event.details.get("scenes_total", total))
    if record.status.value in ("processing_video", "notifying", "completed") and total:
        done = total
    timeline = [
        {"status": e.status.value, "at": _iso(e.created_at), "message": e.message}
        for e in events
        if e.event_type == "status"
    ]
    error = None
    if record.error is not None:
        error = {
            "stage": record.error.stage,
            "code": record.error.code,
            "message": record.error.message,
            "error_id": record.error.error_id or None,
        }
    waiting = record.status.value == "clarification_needed"
    return {
        **summary_view(record),
        "current_stage": record.current_stage,
        "grade_level": record.grade_level,
        "duration_minutes": record.duration_minutes,
        "correlation_id": record.correlation_id,
        "aspect": meta.get("aspect"),
        "resolution": meta.get("resolution"),
        "scenes": {"done": done, "total": total},
        "attempts": record.attempts,
        "timeline": timeline,
        "clarifying_questions": list(meta.get("clarifying_questions", [])) if waiting else [],
        "clarification_rounds": len(meta.get("clarifications", [])),
        "error": error,
        "files": files,
        "video_seconds": meta.get("video_seconds"),
        "links": links(record.request_id),
    }
