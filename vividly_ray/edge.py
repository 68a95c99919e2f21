"""The one edge policy: how each error becomes an exit code and an HTTP response.

Both edges (the CLI and the Gateway) look errors up here, so a new error type is mapped once.
HTTP bodies follow RFC 9457 (``application/problem+json``) and name every bad field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vividly_ray.domain.errors import (
    BlobNotFound,
    ClarificationNeeded,
    ConfigurationError,
    Conflict,
    InternalError,
    InvalidFields,
    InvalidRequest,
    LeaseLost,
    LibraryError,
    Overloaded,
    PayloadTooLarge,
    RateLimited,
    RefusedUnsafe,
    RequestDecision,
    RequestNotFound,
    StageFailed,
    Unauthenticated,
    VividlyError,
)

PROBLEM_JSON = "application/problem+json"
EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_CLARIFY, EXIT_REFUSED = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class EdgePolicy:
    """What an error means at the edges: a process exit code and an HTTP status."""

    exit_code: int
    http_status: int
    slug: str
    title: str


# Most specific first: the first class in an error's MRO that appears here wins.
POLICIES: dict[type[VividlyError], EdgePolicy] = {
    InvalidFields: EdgePolicy(EXIT_INVALID, 422, "invalid-fields", "Invalid request fields"),
    InvalidRequest: EdgePolicy(EXIT_INVALID, 422, "invalid-fields", "Invalid request fields"),
    PayloadTooLarge: EdgePolicy(EXIT_INVALID, 413, "payload-too-large", "Request body too large"),
    ClarificationNeeded: EdgePolicy(EXIT_CLARIFY, 200, "clarification-needed", "Needs an answer"),
    RefusedUnsafe: EdgePolicy(EXIT_REFUSED, 422, "refused", "Refused for a K-12 audience"),
    RequestDecision: EdgePolicy(EXIT_FAILED, 422, "decision", "No video for this question"),
    ConfigurationError: EdgePolicy(EXIT_INVALID, 500, "configuration", "Service misconfigured"),
    Unauthenticated: EdgePolicy(EXIT_INVALID, 401, "unauthenticated", "Authentication required"),
    RequestNotFound: EdgePolicy(EXIT_INVALID, 404, "not-found", "No such request"),
    BlobNotFound: EdgePolicy(EXIT_FAILED, 404, "file-not-found", "No such file"),
    Conflict: EdgePolicy(EXIT_INVALID, 409, "conflict", "Conflict with the request's state"),
    RateLimited: EdgePolicy(EXIT_FAILED, 429, "rate-limited", "Too many requests"),
    Overloaded: EdgePolicy(EXIT_FAILED, 503, "overloaded", "Service busy"),
    LeaseLost: EdgePolicy(EXIT_FAILED, 409, "lease-lost", "Another worker holds the request"),
    LibraryError: EdgePolicy(EXIT_INVALID, 422, "library", "Library document unreadable"),
    StageFailed: EdgePolicy(EXIT_FAILED, 500, "stage-failed", "Pipeline stage failed"),
    InternalError: EdgePolicy(EXIT_FAILED, 500, "internal", "Internal error"),
}
UNEXPECTED = EdgePolicy(EXIT_FAILED, 500, "internal", "Internal error")


def policy_for(error: BaseException) -> EdgePolicy:
    """The policy of the most specific known class of ``error``; unknown errors are bugs."""
    for cls in type(error).__mro__:
        found = POLICIES.get(cls)
        if found is not None:
            return found
    return UNEXPECTED


def field_errors(error: BaseException) -> list[dict[str, str]]:
    """Every bad field of an input error, as ``{"field", "message"}``."""
    if isinstance(error, InvalidFields):
        return [{"field": p.field, "message": p.reason} for p in error.problems]
    if isinstance(error, InvalidRequest):
        return [{"field": error.field, "message": error.reason}]
    return []


def problem_details(error: BaseException, instance: str = "") -> dict[str, Any]:
    """An RFC 9457 problem object for ``error``; an unexpected one reveals only its error id."""
    policy = policy_for(error)
    body: dict[str, Any] = {
        "type": f"https://vividly-ray.dev/problems/{policy.slug}",
        "title": policy.title,
        "status": policy.http_status,
    }
    if isinstance(error, InternalError):
        body["detail"] = f"internal error {error.error_id} in {error.stage}"
        body["error_id"] = error.error_id
    elif isinstance(error, VividlyError):
        body["detail"] = error.message
    else:
        body["detail"] = "internal error"
    errors = field_errors(error)
    if errors:
        body["errors"] = errors
    if isinstance(error, Overloaded):
        body["retry_after"] = error.retry_after
    if instance:
        body["instance"] = instance
    return body
