"""The one error hierarchy of vividly-ray.

    VividlyError                  (retryable: bool)
    ├── InvalidRequest            bad input; names the field and the allowed range
    ├── InvalidFields             several InvalidRequest problems of one request, reported at once
    ├── PayloadTooLarge           a request body over the configured size
    ├── RequestDecision           validation ended the request without a video
    │   ├── ClarificationNeeded   no identifiable topic; carries 1-3 questions
    │   └── RefusedUnsafe         not suitable for a K-12 audience; carries the reason
    ├── ConfigurationError        settings are missing or wrong (lists every problem at once)
    ├── Unauthenticated           no API key, or an unknown or revoked one
    ├── RequestNotFound           no request with that id (for this organization)
    ├── BlobNotFound              no stored file under that key
    ├── Conflict                  the request cannot do that now (ended, idempotency key reused)
    │   └── IllegalTransition     a status change the state machine does not allow
    ├── LeaseLost                 this worker no longer holds the request (fencing token refused)
    ├── Overloaded                the queue is full; retry after ``retry_after`` seconds
    │   └── RateLimited           this organization sent too many requests
    ├── LibraryError              a library document could not be read or indexed
    ├── StageFailed               a pipeline stage failed; carries the stage and the cause
    └── InternalError             an unexpected exception (a bug): never retried, has an error id

Errors become HTTP responses, exit codes or request states only at the edges, through the one
table in ``vividly_ray.edge``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class VividlyError(Exception):
    """Base class. ``retryable`` says whether trying the same thing again may succeed."""

    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (Ray workers); rebuild them field by field, since
        # most subclasses take other constructor arguments than ``args``.
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[VividlyError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class InvalidRequest(VividlyError):
    """A request field is missing or outside its allowed range."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.reason = message


class InvalidFields(VividlyError):
    """Every invalid field of one request, reported together."""

    def __init__(self, problems: Sequence[InvalidRequest]) -> None:
        super().__init__("; ".join(p.message for p in problems) or "invalid request")
        self.problems = tuple(problems)


class PayloadTooLarge(VividlyError):
    """The request body is larger than the configured limit."""


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


class Unauthenticated(VividlyError):
    """No credentials, or an API key that is unknown or revoked."""


class RequestNotFound(VividlyError):
    """No request exists with the given id (or it belongs to another organization)."""


class BlobNotFound(VividlyError):
    """No blob is stored under the given key."""


class Conflict(VividlyError):
    """The request exists but cannot do what was asked in its current state."""


class IllegalTransition(Conflict):
    """The state machine refuses a status change."""


class LeaseLost(VividlyError):
    """The worker's lease on a request expired and another worker holds it now."""


class Overloaded(VividlyError):
    """Too much work is waiting; the caller should retry after ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(Overloaded):
    """The organization passed its request rate; retry after ``retry_after`` seconds."""


class LibraryError(VividlyError):
    """A library document could not be read or indexed."""


class StageFailed(VividlyError):
    """A pipeline stage failed; ``stage`` is the status name it failed in."""

    def __init__(self, stage: str, reason: str, *, retryable: bool = False) -> None:
        super().__init__(f"{stage}: {reason}", retryable=retryable)
        self.stage = stage
        self.reason = reason


class InternalError(VividlyError):
    """An unexpected exception: a bug. Not retryable; ``error_id`` finds it in the logs."""

    def __init__(self, stage: str, error_id: str, cause: str) -> None:
        super().__init__(f"{stage}: internal error {error_id}", retryable=False)
        self.stage = stage
        self.error_id = error_id
        self.cause = cause
