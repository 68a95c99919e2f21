"""Intake: turn a submitted body into a durable ``pending`` request, or say exactly what is wrong.

Fields are parsed once, here, for HTTP (and later Pub/Sub); every bad field is reported at once
with the API's own field names. Intake never does the work: it records the row and returns.

Once a new row is committed, intake rings its doorbell (the Ray layer's wakes a Dispatcher), so
the request is claimed at once instead of at the dispatchers' next poll. The ring is a hint: the
row is already durable and the poll still finds it, so a ring that fails loses nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from vividly_ray.domain.errors import InvalidFields, InvalidRequest, Overloaded
from vividly_ray.domain.models import VideoRequest
from vividly_ray.notify.webhooks import check_callback_url
from vividly_ray.persistence.records import RequestRecord
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.validation.limits import (
    parse_aspect,
    parse_grade,
    parse_minutes,
    parse_question,
    parse_resolution,
)

# The API's field names for the validator's own.
API_FIELDS = {"question": "student_query", "grade": "grade_level", "minutes": "duration_minutes"}
KNOWN_FIELDS = frozenset(
    {
        "student_query",
        "grade_level",
        "duration_minutes",
        "student_id",
        "correlation_id",
        "request_id",
        "aspect",
        "resolution",
        "voice",
        "callback_url",
    }
)
ID_MAX = 128
URL_SAFE_ID = re.compile(r"[A-Za-z0-9._~-]{1,36}")
# Told that a request is waiting to be claimed; called after its row is committed.
Doorbell = Callable[[], None]

log = logging.getLogger("vividly.intake")


@dataclass(frozen=True)
class IntakePolicy:
    max_queue_depth: int
    allow_private_callbacks: bool
    retry_after_s: int = 5


def _api_error(problem: InvalidRequest) -> InvalidRequest:
    name = API_FIELDS.get(problem.field, problem.field)
    return InvalidRequest(name, problem.reason)


def _optional_id(body: Mapping[str, Any], name: str, default: str | None) -> str | None:
    value = body.get(name, default)
    if value is None:
        return None
    if name == "request_id":
        # It becomes part of every URL of the request (Location, links), so it is made of the
        # characters a URL path carries as they are.
        if isinstance(value, str) and URL_SAFE_ID.fullmatch(value):
            return value
        raise InvalidRequest(
            name, "must be 1-36 characters of letters, digits, '-', '_', '.' or '~' (a UUID)"
        )
    if isinstance(value, str) and 1 <= len(value) <= ID_MAX and value.isprintable():
        return value
    raise InvalidRequest(name, f"must be text of 1-{ID_MAX} printable characters")


def parse_body(
    body: Mapping[str, Any], organization_id: str, *, allow_private_callbacks: bool
) -> tuple[VideoRequest, str | None]:
    """The request a body asks for and its optional client-chosen id; every problem at once."""
    problems: list[InvalidRequest] = []
    unknown = sorted(set(body) - KNOWN_FIELDS)
    for name in unknown:
        problems.append(InvalidRequest(name, "is not a field of this API"))
    values: dict[str, Any] = {}

    def take(name: str, parse: Any, *args: Any) -> None:
        try:
            values[name] = parse(*args)
        except InvalidRequest as problem:
            problems.append(_api_error(problem))

    for api in ("student_query", "grade_level"):
        if api not in body:
            problems.append(InvalidRequest(api, "is required"))
    if "duration_minutes" not in body:
        problems.append(InvalidRequest("duration_minutes", "is required (1-10 minutes)"))
    if "student_query" in body:
        take("question", parse_question, body["student_query"])
    if "grade_level" in body:
        take("grade", parse_grade, body["grade_level"])
    if "duration_minutes" in body:
        take("minutes", parse_minutes, body["duration_minutes"])
    take("aspect", parse_aspect, body.get("aspect", "16:9"))
    take("resolution", parse_resolution, body.get("resolution", "720p"))
    for name, default in (
        ("student_id", "anonymous"),
        ("correlation_id", None),
        ("request_id", None),
        ("voice", None),
    ):
        take(name, _optional_id, body, name, default)
    callback = body.get("callback_url")
    if callback is not None:
        if isinstance(callback, str):
            take("callback_url", _checked_callback, callback, allow_private_callbacks)
        else:
            problems.append(InvalidRequest("callback_url", "must be an http(s) URL"))
    if problems:
        raise InvalidFields(problems)
    request = VideoRequest(
        question=values["question"],
        grade=values["grade"],
        minutes=values["minutes"],
        aspect=values["aspect"],
        resolution=values["resolution"],
        student_id=values["student_id"] or "anonymous",
        organization_id=organization_id,
        correlation_id=values["correlation_id"],
        voice=values.get("voice") or "",
        callback_url=values.get("callback_url"),
    )
    return request, values.get("request_id")


def _checked_callback(url: str, allow_private: bool) -> str:
    check_callback_url(url, allow_private=allow_private)
    return url


def fingerprint(body: Mapping[str, Any]) -> str:
    """Same body (whatever the key order) -> same fingerprint."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class Intake:
    """Records requests durably; refuses new work when the queue is past its depth."""

    def __init__(
        self,
        requests: SqlRequestRepository,
        policy: IntakePolicy,
        doorbell: Doorbell | None = None,
    ) -> None:
        self._requests = requests
        self._policy = policy
        self._doorbell = doorbell

    def ring(self) -> None:
        """Tell the dispatchers a request is waiting (a new one, or one answered after a
        clarification). A failing doorbell is logged and ignored: the next poll finds it."""
        if self._doorbell is None:
            return
        try:
            self._doorbell()
        except Exception:
            log.warning("the dispatchers could not be told of a new request", exc_info=True)

    def submit(
        self,
        body: Mapping[str, Any],
        organization_id: str,
        idempotency_key: str | None = None,
    ) -> tuple[RequestRecord, bool]:
        """The recorded request and whether it is new (False: an idempotent repeat)."""
        if idempotency_key is not None and not (
            1 <= len(idempotency_key) <= 255 and idempotency_key.isprintable()
        ):
            raise InvalidRequest("Idempotency-Key", "must be 1-255 printable characters")
        request, request_id = parse_body(
            body, organization_id, allow_private_callbacks=self._policy.allow_private_callbacks
        )
        return self.record(
            request,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint(body) if idempotency_key is not None else None,
            request_id=request_id,
        )

    def record(
        self,
        request: VideoRequest,
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        request_id: str | None = None,
    ) -> tuple[RequestRecord, bool]:
        """Record an already parsed request (the CLI parses its own flags).

        A replay of an accepted request is answered even when the queue is full: only new
        work is refused.
        """
        if idempotency_key is not None:
            existing = self._requests.find_by_key(
                request.organization_id, idempotency_key, fingerprint
            )
            if existing is not None:
                return existing, False
        if self._requests.pending_count() >= self._policy.max_queue_depth:
            raise Overloaded(
                f"{self._policy.max_queue_depth} requests are already waiting; try again shortly",
                self._policy.retry_after_s,
            )
        record, created = self._requests.create(
            request,
            idempotency_key=idempotency_key,
            fingerprint=fingerprint,
            request_id=request_id,
        )
        if created:
            self.ring()
        return record, created
