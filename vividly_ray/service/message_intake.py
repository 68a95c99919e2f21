"""Intake of queued messages (Pub/Sub): a message becomes one durable request, or a recorded
rejection, and the verdict says whether the message may be acknowledged.

The database, not the message service, makes intake exactly-once: a message that names its
``request_id`` records that id once however often it arrives, and a message without one is
keyed by its content for the day it was published, so a redelivery or a second publish of the
same message makes no second request. A message is acknowledged only after its request is
committed; one that is wrong (not JSON, bad fields, or larger than ``MAX_MESSAGE_BYTES``) is
recorded with the reason and given back (``RETRY``), so after the subscription's delivery
attempts it lands on the dead-letter topic, and it never blocks the messages behind it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from vividly_ray.domain.errors import Conflict, InvalidFields, InvalidRequest, Overloaded
from vividly_ray.persistence.records import RequestRecord
from vividly_ray.service.intake import KNOWN_FIELDS, fingerprint, parse_body

log = logging.getLogger("vividly.pubsub")

# The platform's message: {request_id?, student_id, organization_id?, correlation_id?,
# student_query, grade_level, duration_minutes}; the HTTP API's optional fields are accepted too.
# student_id defaults to "anonymous" as over HTTP (the platform's own smoke message has none).
MESSAGE_FIELDS = KNOWN_FIELDS | {"organization_id"}
# A request message is a few hundred bytes; anything near Pub/Sub's own 10 MB limit is a mistake
# or an attack, and is refused before it is parsed (the rejection keeps a 2,000-byte excerpt).
MAX_MESSAGE_BYTES = 64 * 1024


class Verdict(StrEnum):
    ACK = "ack"  # recorded (or already recorded): the message is done
    RETRY = "retry"  # give it back: redelivered later, dead-lettered after the configured attempts


@dataclass(frozen=True)
class IntakeMessage:
    """One delivered message, independent of the client library that received it."""

    message_id: str
    data: bytes
    attributes: Mapping[str, str]
    publish_time: datetime | None = None
    delivery_attempt: int | None = None  # set only when the subscription has a dead-letter policy


@dataclass(frozen=True)
class MessageOutcome:
    verdict: Verdict
    request_id: str | None = None
    created: bool = False
    reason: str = ""


class RequestRecorder(Protocol):
    """What the message intake needs of ``Intake``: record a parsed request durably."""

    def record(
        self,
        request: Any,
        *,
        idempotency_key: str | None = None,
        fingerprint: str | None = None,
        request_id: str | None = None,
    ) -> tuple[RequestRecord, bool]: ...


class RejectionLog(Protocol):
    def record(self, message_id: str, source: str, reason: str, body: bytes) -> int: ...


class MessageIntake:
    """Turns each message into a request; ``handle`` never raises for a bad message."""

    def __init__(
        self,
        recorder: RequestRecorder,
        rejections: RejectionLog,
        *,
        source: str,
        default_organization: str,
        allow_private_callbacks: bool = False,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
    ) -> None:
        self._recorder = recorder
        self._rejections = rejections
        self._source = source
        self._organization = default_organization
        self._allow_private = allow_private_callbacks
        self._max_bytes = max_message_bytes

    def handle(self, message: IntakeMessage) -> MessageOutcome:
        try:
            if len(message.data) > self._max_bytes:
                raise InvalidRequest(
                    "message",
                    f"is {len(message.data)} bytes; the limit is {self._max_bytes} bytes",
                )
            body = _decode(message.data)
            organization = _organization(body, self._organization)
            fields = {k: v for k, v in body.items() if k in KNOWN_FIELDS}
            ignored = sorted(set(body) - MESSAGE_FIELDS)
            request, request_id = parse_body(
                fields, organization, allow_private_callbacks=self._allow_private
            )
            key = _idempotency_key(body, request_id, message)
            record, created = self._recorder.record(
                request,
                idempotency_key=key,
                fingerprint=fingerprint(fields),
                request_id=request_id,
            )
        except (InvalidFields, InvalidRequest, Conflict) as exc:
            return self._reject(message, _reason(exc))
        except Overloaded as exc:
            # Valid work the service cannot take yet: redelivered later, nothing recorded.
            return MessageOutcome(Verdict.RETRY, reason=exc.message)
        if ignored:
            log.info("message fields ignored", extra={"fields": {"ignored": ignored}})
        log.info(
            "message recorded" if created else "duplicate message",
            extra={
                "fields": {
                    "message_id": message.message_id,
                    "request_id": record.request_id,
                    "created": created,
                }
            },
        )
        return MessageOutcome(Verdict.ACK, record.request_id, created)

    def _reject(self, message: IntakeMessage, reason: str) -> MessageOutcome:
        # PostgreSQL text cannot hold NUL; a binary body must still be recorded, or it would
        # fail on every delivery and reach the dead-letter topic with no reason on file.
        seen = self._rejections.record(
            message.message_id,
            self._source,
            reason.replace("\x00", "\ufffd"),
            message.data.replace(b"\x00", "\ufffd".encode()),
        )
        log.warning(
            "message rejected",
            extra={
                "fields": {
                    "message_id": message.message_id,
                    "reason": reason,
                    "deliveries": seen,
                    "delivery_attempt": message.delivery_attempt,
                }
            },
        )
        if message.delivery_attempt is None:
            # No dead-letter policy on the subscription: giving the message back would only
            # bring it back forever. The rejection (with the body) is recorded; drop it.
            return MessageOutcome(Verdict.ACK, reason=reason)
        return MessageOutcome(Verdict.RETRY, reason=reason)


def _decode(data: bytes) -> dict[str, Any]:
    try:
        body = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidRequest("message", f"is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidRequest("message", f"must be a JSON object, got {type(body).__name__}")
    return body


def _organization(body: Mapping[str, Any], default: str) -> str:
    value = body.get("organization_id")
    if value is None or value == "":
        return default
    if isinstance(value, str) and len(value) <= 128 and value.isprintable():
        return value
    raise InvalidRequest("organization_id", "must be text of 1-128 printable characters")


def _idempotency_key(
    body: Mapping[str, Any], request_id: str | None, message: IntakeMessage
) -> str:
    if request_id is not None:
        return f"pubsub:id:{request_id}"
    day = message.publish_time.date().isoformat() if message.publish_time else "undated"
    return f"pubsub:body:{fingerprint(body)[:40]}:{day}"


def _reason(exc: Exception) -> str:
    if isinstance(exc, InvalidFields):
        return "; ".join(f"{p.field}: {p.reason}" for p in exc.problems)
    if isinstance(exc, InvalidRequest):
        return f"{exc.field}: {exc.reason}"
    return str(exc)
