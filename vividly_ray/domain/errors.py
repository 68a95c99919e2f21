"""The one error hierarchy of vividly-ray.

    VividlyError                  (retryable: bool)
    ├── InvalidRequest            bad input; names the field and the allowed range
    ├── RequestDecision           validation ended the request without a video
    │   ├── ClarificationNeeded   no identifiable topic; carries 1-3 questions
    │   └── RefusedUnsafe         not suitable for a K-12 audience; carries the reason
    ├── ConfigurationError        settings are missing or wrong (lists every problem at once)
    ├── IllegalTransition         a status change the state machine does not allow
    ├── RequestNotFound           no request with that id
    ├── LibraryError              a library document could not be read or indexed
    └── StageFailed               a pipeline stage failed; carries the stage and the cause

Errors become HTTP responses, exit codes or request states only at the edges.
"""

from __future__ import annotations

from collections.abc import Sequence


class VividlyError(Exception):
    """Base class. ``retryable`` says whether trying the same thing again may succeed."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable


class InvalidRequest(VividlyError):
    """A request field is missing or outside its allowed range."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class RequestDecision(VividlyError):
    """Validation decided not to make a video (yet)."""


class ClarificationNeeded(RequestDecision):
    """The question has no identifiable topic; the student is asked 1-3 questions."""

    def __init__(self, reasons: Sequence[str], questions: Sequence[str]) -> None:
        super().__init__("; ".join(reasons) or "the question needs clarification")
        self.reasons = tuple(reasons)
        self.questions = tuple(questions)


class RefusedUnsafe(RequestDecision):
    """The question is not suitable for a K-12 audience, or tries to steer the system."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons) or "refused")
        self.reasons = tuple(reasons)


class ConfigurationError(VividlyError):
    """Settings are missing or invalid; ``problems`` lists all of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("invalid settings:\n  - " + "\n  - ".join(problems))
        self.problems = tuple(problems)


class IllegalTransition(VividlyError):
    """The state machine refuses a status change."""


class RequestNotFound(VividlyError):
    """No request exists with the given id."""


class LibraryError(VividlyError):
    """A library document could not be read or indexed."""


class StageFailed(VividlyError):
    """A pipeline stage failed; ``stage`` is the status name it failed in."""

    def __init__(self, stage: str, reason: str, *, retryable: bool = False) -> None:
        super().__init__(f"{stage}: {reason}", retryable=retryable)
        self.stage = stage
        self.reason = reason
