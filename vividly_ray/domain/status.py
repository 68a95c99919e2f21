"""Request statuses (the platform's contract) and the transitions between them."""

from __future__ import annotations

from enum import StrEnum

from vividly_ray.domain.errors import IllegalTransition


class RequestStatus(StrEnum):
    PENDING = "pending"
    VALIDATING = "validating"
    RETRIEVING = "retrieving"
    GENERATING_SCRIPT = "generating_script"
    GENERATING_VIDEO = "generating_video"
    PROCESSING_VIDEO = "processing_video"
    NOTIFYING = "notifying"
    COMPLETED = "completed"
    CLARIFICATION_NEEDED = "clarification_needed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


PIPELINE: tuple[RequestStatus, ...] = (
    RequestStatus.PENDING,
    RequestStatus.VALIDATING,
    RequestStatus.RETRIEVING,
    RequestStatus.GENERATING_SCRIPT,
    RequestStatus.GENERATING_VIDEO,
    RequestStatus.PROCESSING_VIDEO,
    RequestStatus.NOTIFYING,
    RequestStatus.COMPLETED,
)

TERMINAL = frozenset({RequestStatus.COMPLETED, RequestStatus.FAILED, RequestStatus.CANCELLED})

# Progress (percent) a request has reached when it enters each pipeline status.
STAGE_START_PROGRESS: dict[RequestStatus, int] = {
    RequestStatus.PENDING: 0,
    RequestStatus.VALIDATING: 2,
    RequestStatus.RETRIEVING: 8,
    RequestStatus.GENERATING_SCRIPT: 15,
    RequestStatus.GENERATING_VIDEO: 25,
    RequestStatus.PROCESSING_VIDEO: 85,
    RequestStatus.NOTIFYING: 95,
    RequestStatus.COMPLETED: 100,
}


def _allowed() -> dict[RequestStatus, frozenset[RequestStatus]]:
    allowed: dict[RequestStatus, set[RequestStatus]] = {s: set() for s in RequestStatus}
    for here, nxt in zip(PIPELINE, PIPELINE[1:], strict=False):
        allowed[here].add(nxt)
    for status in PIPELINE[:-1]:
        allowed[status] |= {RequestStatus.FAILED, RequestStatus.CANCELLED}
    # Validation may stop to ask the student, and so may a script-writing model that finds the
    # question unclear; the student's answer starts validation again.
    allowed[RequestStatus.VALIDATING].add(RequestStatus.CLARIFICATION_NEEDED)
    allowed[RequestStatus.GENERATING_SCRIPT].add(RequestStatus.CLARIFICATION_NEEDED)
    allowed[RequestStatus.CLARIFICATION_NEEDED] |= {
        RequestStatus.VALIDATING,
        RequestStatus.CANCELLED,
    }
    return {k: frozenset(v) for k, v in allowed.items()}


ALLOWED_TRANSITIONS = _allowed()


def check_transition(current: RequestStatus, new: RequestStatus) -> None:
    """Raise ``IllegalTransition`` unless ``current -> new`` is allowed."""
    if new not in ALLOWED_TRANSITIONS[current]:
        raise IllegalTransition(f"cannot move a request from {current} to {new}")


def band_progress(stage: RequestStatus, fraction: float) -> int:
    """Overall progress for ``fraction`` (0..1) of the way through ``stage``."""
    index = PIPELINE.index(stage)
    start = STAGE_START_PROGRESS[stage]
    end = STAGE_START_PROGRESS[PIPELINE[min(index + 1, len(PIPELINE) - 1)]]
    clamped = min(max(fraction, 0.0), 1.0)
    return start + int((end - start) * clamped)
