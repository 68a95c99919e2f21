"""The HTTP API (v1) and the web page, as a FastAPI app built once per Gateway replica.

Pure of Ray: the Serve Gateway wraps this app with ``@serve.ingress``, and tests run it against
the real database directly. Long work never runs here; intake records the row and returns 202.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route signatures at
# runtime, and the dependency aliases defined inside ``create_app`` must resolve.
import asyncio
import base64
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.errors import (
    BlobNotFound,
    InvalidRequest,
    Overloaded,
    PayloadTooLarge,
    RequestNotFound,
    Unauthenticated,
    VividlyError,
)
from vividly_ray.domain.models import DELIVERED_FILES
from vividly_ray.domain.status import RequestStatus
from vividly_ray.edge import PROBLEM_JSON, problem_details
from vividly_ray.media.hls import (
    PART_CONTENT_TYPE,
    PART_NAME,
    PLAYLIST_CONTENT_TYPE,
    part_key,
    playlist_complete,
    playlist_key,
    rewrite_uris,
)
from vividly_ray.observability.logs import log_context
from vividly_ray.observability.metrics import ServiceSnapshot, render_metrics
from vividly_ray.persistence.accounts import SqlAccounts
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
from vividly_ray.persistence.orm import utcnow
from vividly_ray.persistence.outbox import SqlWebhookOutbox
from vividly_ray.persistence.records import RequestRecord
from vividly_ray.persistence.repository import (
    SqlRequestRepository,
    oldest_pending_at,
    recent_stage_seconds,
)
from vividly_ray.service.erasure import Eraser
from vividly_ray.service.file_links import signature_valid, signed_path, signed_query
from vividly_ray.service.intake import Intake
from vividly_ray.service.ranges import (
    RangeNotSatisfiable,
    content_range,
    if_none_match,
    parse_range,
    unsatisfied_content_range,
)
from vividly_ray.service.views import detail_view, event_view, links, summary_view
from vividly_ray.validation.limits import parse_answer

log = logging.getLogger("vividly.gateway")

LOCAL_ORG = "local"
STREAM_END = frozenset({"completed", "failed", "cancelled", "clarification_needed"})
# Statuses in which a request's progressive stream may have scenes to play.
STREAMING = frozenset(
    {
        RequestStatus.GENERATING_VIDEO,
        RequestStatus.PROCESSING_VIDEO,
        RequestStatus.NOTIFYING,
        RequestStatus.COMPLETED,
    }
)
PLAYLIST_NAME = "stream.m3u8"
# Request ids are UUIDs or a client's own id of 1-36 printable characters: anything else names
# no request, and is answered without asking the database (PostgreSQL refuses a NUL in text).
REQUEST_ID_MAX = 36
# Event sequence numbers are 32-bit integers in the database.
MAX_EVENT_SEQUENCE = 2_147_483_647

# -- what the OpenAPI document declares --------------------------------------------------------
# The schemas accept at least everything the service accepts (intake trims, and reads grades and
# minutes in several forms); intake's own checks, named in each 422, are the exact rules.

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem; `errors` names every bad field.",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "retry_after": {"type": "integer"},
        "error_id": {"type": "string"},
    },
}
_RETRY_AFTER = {"description": "whole seconds to wait", "schema": {"type": "integer"}}
_PROBLEMS: dict[int, dict[str, Any]] = {
    401: {
        "description": "no API key, or an unknown, malformed or revoked one",
        "headers": {"WWW-Authenticate": {"required": True, "schema": {"type": "string"}}},
    },
    404: {"description": "no such request for this organization (or no such file)"},
    409: {"description": "the request cannot do that in its current state"},
    413: {"description": "the body is over the size limit"},
    415: {"description": "the body is not application/json"},
    416: {"description": "the byte range is outside the file"},
    422: {"description": "every bad field, named with its allowed range"},
    429: {
        "description": "the organization passed its rate limit",
        "headers": {"Retry-After": {**_RETRY_AFTER, "required": True}},
    },
    503: {
        "description": "too many requests are waiting, or the database is unavailable",
        "headers": {"Retry-After": _RETRY_AFTER},
    },
}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The declared problem responses of a /v1 route: its own ``codes`` and those every /v1
    route may answer (401, 422, 429, 503)."""
    wanted = sorted({401, 422, 429, 503, *codes})
    return {
        code: {**_PROBLEMS[code], "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
        for code in wanted
    }


def _json_response(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_TEXT = {"type": "string"}
_BINARY = {"type": "string", "format": "binary"}
_OPTIONAL_TEXT = {"type": ["string", "null"]}
_STATUS = {"type": "string", "enum": [status.value for status in RequestStatus]}
_LINKS = {"type": "object", "additionalProperties": {"type": "string"}}
_ID_TEXT = {"type": ["string", "null"], "minLength": 1, "maxLength": 128}
VIDEO_REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["student_query", "grade_level", "duration_minutes"],
    "additionalProperties": False,
    "properties": {
        "student_query": {
            "type": "string",
            "minLength": 3,
            "description": "the question: 3-500 characters after trimming",
        },
        "grade_level": {
            "description": 'K or 1-12: 5, 0 (kindergarten), "K", "5", "5th", "grade 5"',
            "anyOf": [{"type": "integer", "minimum": 0, "maximum": 12}, {"type": "string"}],
        },
        "duration_minutes": {
            "description": "1-10 minutes, as a number or a numeric string",
            "anyOf": [{"type": "number", "minimum": 1, "maximum": 10}, {"type": "string"}],
        },
        "student_id": _ID_TEXT,
        "correlation_id": _ID_TEXT,
        "voice": _ID_TEXT,
        "request_id": {"type": ["string", "null"], "minLength": 1, "maxLength": REQUEST_ID_MAX},
        "aspect": {"type": "string", "description": "16:9 (wide), 9:16 (tall) or 1:1 (square)"},
        "resolution": {"type": "string", "description": "480p, 720p or 1080p"},
        "callback_url": {
            "type": ["string", "null"],
            "description": "an http(s) URL for the webhooks; no private addresses",
        },
    },
}
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["answer"],
    "properties": {
        "answer": {
            "type": "string",
            "minLength": 1,
            "description": "the student's answer: 1-500 characters after trimming",
        }
    },
}
CREATED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "links"],
    "properties": {"id": _TEXT, "status": _STATUS, "links": _LINKS},
}
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "progress_percentage", "student_query", "title", "created_at"],
    "properties": {
        "id": _TEXT,
        "status": _STATUS,
        "progress_percentage": {"type": "integer", "minimum": 0, "maximum": 100},
        "student_query": _TEXT,
        "title": _OPTIONAL_TEXT,
        "created_at": _OPTIONAL_TEXT,
        "updated_at": _OPTIONAL_TEXT,
    },
}
DETAIL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        *SUMMARY_SCHEMA["required"],
        "current_stage",
        "scenes",
        "timeline",
        "clarifying_questions",
        "error",
        "files",
        "links",
    ],
    "properties": {
        **SUMMARY_SCHEMA["properties"],
        "current_stage": _OPTIONAL_TEXT,
        "grade_level": _TEXT,
        "duration_minutes": {"type": "number"},
        "correlation_id": _OPTIONAL_TEXT,
        "scenes": {
            "type": "object",
            "required": ["done", "total"],
            "properties": {"done": {"type": "integer"}, "total": {"type": "integer"}},
        },
        "attempts": {"type": "integer"},
        "timeline": {"type": "array", "items": {"type": "object"}},
        "clarifying_questions": {"type": "array", "items": _TEXT},
        "clarification_rounds": {"type": "integer"},
        "error": {"type": ["object", "null"]},
        "files": {"type": "object", "additionalProperties": _TEXT},
        "links": _LINKS,
        "stream": {
            "type": "string",
            "description": "a signed link to the HLS playlist of the scenes finished so far "
            "(from generating_video on; 404 until the first scene is published)",
        },
    },
}
LIST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {"type": "array", "items": SUMMARY_SCHEMA},
        "next_cursor": _OPTIONAL_TEXT,
    },
}
CANCELLED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {"id": _TEXT, "status": _STATUS},
}
ERASING_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "status", "erase_after"],
    "properties": {"id": _TEXT, "status": _STATUS, "erase_after": _TEXT},
}
_FILE_HEADERS = {
    "ETag": {"schema": {"type": "string"}},
    "Accept-Ranges": {"schema": {"type": "string"}},
}
_FILE_CONTENT = {
    media: {"schema": {"type": "object"} if media == "application/json" else _BINARY}
    for media in sorted(set(DELIVERED_FILES.values()))
}
_STREAM_PART_CONTENT = {PART_CONTENT_TYPE: {"schema": _BINARY}}
_PLAYLIST_CONTENT = {PLAYLIST_CONTENT_TYPE: {"schema": {"type": "string"}}}
_SIGNED_QUERY = {
    "expires": "expiry of a signed link (Unix seconds)",
    "signature": "signature of a signed link",
}
# Each Server-Sent Event: ``event`` is its type, ``data`` the JSON event, ``id`` its sequence.
SSE_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["status", "progress", "scene", "retry"]},
        "data": {"type": "string"},
        "id": {"type": "string", "pattern": "^[0-9]+$"},
    },
}
_METRICS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Prometheus text exposition",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}
READINESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["ready", "checks"],
    "properties": {
        "ready": {"type": "boolean"},
        "checks": {"type": "object", "additionalProperties": _TEXT},
    },
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    """``openapi_extra`` declaring a route's JSON body (the route reads it itself, to answer
    413 and 415 with problems of their own)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@dataclass(frozen=True)
class ApiServices:
    """What the API needs; built by the composition root (or a test) and handed in."""

    db: Database
    requests: SqlRequestRepository
    queue: SqlDispatchQueue
    accounts: SqlAccounts
    outbox: SqlWebhookOutbox
    blobs: BlobStore
    intake: Intake
    auth_disabled: bool
    rate_limit_per_minute: int
    max_body_bytes: int
    file_url_ttl_s: int
    web_dir: Path | None = None
    # Extra readiness checks (the Ray layer adds "are the pools up"); name -> problem or "".
    readiness: Callable[[], dict[str, str]] | None = None
    # With cloud storage: (blob key, file name, seconds) -> a signed URL of the store itself,
    # so clients fetch the bytes from the bucket, not through the gateway.
    store_urls: Callable[[str, str, int], str] | None = None
    store_url_ttl_s: int = 900
    events_poll_s: float = 0.3
    # Erasure (DELETE /v1/videos/{id}); the route exists only with one.
    eraser: Eraser | None = None


def create_app(services: ApiServices) -> FastAPI:
    app = FastAPI(
        title="vividly-ray",
        version="1",
        summary="Turns a student's question into a narrated, captioned explainer video.",
    )
    _install_error_handlers(app)

    @app.middleware("http")
    async def access_log(request: Request, call_next: Any) -> Response:
        """One JSON line per API call, with the request id of /v1/videos/{id} routes; the
        body (student text) is never logged."""
        started = time.perf_counter()
        parts = request.url.path.split("/")
        request_id = parts[3] if len(parts) > 3 and parts[1:3] == ["v1", "videos"] else None
        with log_context(request_id=request_id):
            response: Response = await call_next(request)
            if request.url.path not in ("/healthz", "/readyz", "/metrics"):
                log.info(
                    "http %s %s %s",
                    request.method,
                    request.url.path,
                    response.status_code,
                    extra={
                        "fields": {
                            "method": request.method,
                            "path": request.url.path,
                            "status": response.status_code,
                            "ms": round((time.perf_counter() - started) * 1000, 1),
                        }
                    },
                )
        return response

    def organization(
        authorization: Annotated[str | None, Header()] = None,
    ) -> str:
        if services.auth_disabled:
            return LOCAL_ORG
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("send 'Authorization: Bearer <API key>'")
        return services.accounts.authenticate(authorization[7:].strip())

    def limited(org: Annotated[str, Depends(organization)]) -> str:
        services.accounts.hit(org, services.rate_limit_per_minute)
        return org

    Org = Annotated[str, Depends(organization)]
    LimitedOrg = Annotated[str, Depends(limited)]

    @app.get("/healthz", tags=["operations"])
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "auth_required": not services.auth_disabled}

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={
            200: _json_response("ready", READINESS_SCHEMA),
            503: _json_response("not ready: the failing checks say why", READINESS_SCHEMA),
        },
    )
    def readyz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            services.db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # any driver error means not ready
            checks["database"] = f"unreachable: {type(exc).__name__}"
        if services.readiness is not None:
            for name, problem in services.readiness().items():
                checks[name] = problem or "ok"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    @app.get("/metrics", tags=["operations"], response_class=Response, responses=_METRICS)
    def metrics() -> Response:
        oldest = oldest_pending_at(services.db)
        snapshot = ServiceSnapshot(
            requests_by_status=services.requests.count_by_status(),
            queue_depth=services.requests.pending_count(),
            active_pipelines=services.queue.active_leases(),
            webhook_attempts=services.outbox.attempt_counts(),
            stage_seconds=recent_stage_seconds(services.db),
            oldest_pending_age_s=0.0 if oldest is None else (utcnow() - oldest).total_seconds(),
        )
        body, content_type = render_metrics(snapshot)
        return Response(body, media_type=content_type)

    @app.post(
        "/v1/videos",
        status_code=202,
        tags=["videos"],
        responses={
            202: _json_response("recorded: pending", CREATED_SCHEMA),
            200: _json_response(
                "the same Idempotency-Key and body: the first request", CREATED_SCHEMA
            ),
            **_problems(409, 413, 415),
        },
        openapi_extra=_body(VIDEO_REQUEST_SCHEMA),
    )
    async def submit(
        request: Request,
        org: LimitedOrg,
        idempotency_key: Annotated[str | None, Header()] = None,
    ) -> JSONResponse:
        body = await _json_body(request, services.max_body_bytes)
        record, created = await asyncio.to_thread(
            services.intake.submit, body, org, idempotency_key
        )
        content = {
            "id": record.request_id,
            "status": record.status.value,
            "links": links(record.request_id),
        }
        headers = {"Location": f"/v1/videos/{record.request_id}"}
        return JSONResponse(content, status_code=202 if created else 200, headers=headers)

    @app.get(
        "/v1/videos",
        tags=["videos"],
        responses={200: _json_response("newest first", LIST_SCHEMA), **_problems()},
    )
    def list_videos(
        org: LimitedOrg,
        status: Annotated[str | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query()] = None,
    ) -> dict[str, Any]:
        wanted = None
        if status is not None:
            try:
                wanted = RequestStatus(status)
            except ValueError:
                names = ", ".join(s.value for s in RequestStatus)
                raise InvalidRequest("status", f"must be one of {names}") from None
        if cursor is not None and not _plausible_cursor(cursor):
            raise InvalidRequest("cursor", "is not a cursor this API returned")
        records, next_cursor = services.requests.list_requests(
            org, status=wanted, limit=limit, cursor=cursor
        )
        return {"items": [summary_view(r) for r in records], "next_cursor": next_cursor}

    @app.get(
        "/v1/videos/{request_id}",
        tags=["videos"],
        responses={200: _json_response("the request", DETAIL_SCHEMA), **_problems(404)},
    )
    def get_video(request_id: str, org: LimitedOrg) -> dict[str, Any]:
        _known_id(request_id)
        record = services.requests.get(request_id, org)
        events = services.requests.events(request_id)
        files: dict[str, str] = {}
        stored = record.request_metadata.get("files", {})
        if record.status is RequestStatus.COMPLETED and services.store_urls is not None:
            files = {
                name: services.store_urls(key, name, services.store_url_ttl_s)
                for name, key in stored.items()
            }
        elif record.status is RequestStatus.COMPLETED:
            secret = services.accounts.webhook_secret(org)
            files = {
                name: signed_path(secret, request_id, name, services.file_url_ttl_s)
                for name in stored
            }
        view = detail_view(record, events, files)
        if record.status in STREAMING:
            secret = services.accounts.webhook_secret(org)
            query = signed_query(secret, request_id, PLAYLIST_NAME, services.file_url_ttl_s)
            view["stream"] = f"/v1/videos/{request_id}/{PLAYLIST_NAME}?{query}"
        return view

    @app.get(
        "/v1/videos/{request_id}/events",
        tags=["videos"],
        response_class=StreamingResponse,
        responses={
            200: {
                "description": "Server-Sent Events, until the request ends or asks a question",
                "content": {"text/event-stream": {"schema": SSE_EVENT_SCHEMA}},
            },
            **_problems(404),
        },
    )
    async def events(
        request_id: str,
        request: Request,
        org: Org,
        last_event_id: Annotated[str | None, Header()] = None,
        after: Annotated[int | None, Query(ge=0, le=MAX_EVENT_SEQUENCE)] = None,
    ) -> StreamingResponse:
        _known_id(request_id)
        await asyncio.to_thread(services.requests.get, request_id, org)
        start = after if after is not None else _last_id(last_event_id)
        stream = _event_stream(services, request, request_id, start)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    @app.post(
        "/v1/videos/{request_id}/clarification",
        status_code=202,
        tags=["videos"],
        responses={
            202: _json_response("validating again, with the answer", CREATED_SCHEMA),
            **_problems(404, 409, 413, 415),
        },
        openapi_extra=_body(ANSWER_SCHEMA),
    )
    async def clarify(request_id: str, request: Request, org: LimitedOrg) -> dict[str, Any]:
        _known_id(request_id)
        body = await _json_body(request, services.max_body_bytes)
        answer = body.get("answer")
        if not isinstance(answer, str):
            raise InvalidRequest("answer", "is required: the student's answer as text")
        answer = parse_answer(answer)
        record = await asyncio.to_thread(
            services.requests.answer, request_id, answer, organization_id=org
        )
        # Runnable again (validating, with the answer): a dispatcher may take it now.
        await asyncio.to_thread(services.intake.ring)
        return {"id": record.request_id, "status": record.status.value, "links": links(request_id)}

    @app.post(
        "/v1/videos/{request_id}/cancel",
        status_code=202,
        tags=["videos"],
        responses={202: _json_response("cancelled", CANCELLED_SCHEMA), **_problems(404, 409)},
    )
    def cancel(request_id: str, org: LimitedOrg) -> dict[str, Any]:
        _known_id(request_id)
        record = services.requests.cancel(request_id, org, "cancelled by the caller")
        return {"id": record.request_id, "status": record.status.value}

    eraser = services.eraser
    if eraser is not None:

        @app.delete(
            "/v1/videos/{request_id}",
            tags=["videos"],
            status_code=204,
            response_class=Response,
            responses={
                204: {"description": "erased"},
                202: _json_response(
                    "it was running: cancelled now, erased shortly", ERASING_SCHEMA
                ),
                **_problems(404),
            },
        )
        def erase(request_id: str, org: LimitedOrg) -> Response:
            """Erase the request and all it stored: question, student id, events and files."""
            _known_id(request_id)
            outcome = eraser.request(request_id, org)
            if outcome.erased:
                return Response(status_code=204)
            body = {
                "id": request_id,
                "status": "cancelled",
                "erase_after": outcome.due.isoformat(),
            }
            return JSONResponse(body, status_code=202)

    def reader(
        request_id: str,
        name: str,
        authorization: str | None,
        expires: str | None,
        signature: str | None,
    ) -> tuple[RequestRecord, str]:
        """The request, when the caller may read its file ``name`` (the owner's key, or a
        link signed for that file); anyone else is told there is no such request. Also
        returns the owner's signing secret."""
        _known_id(request_id)
        if not _link_part(expires, _EXPIRES_MAX) or not _link_part(signature, _SIGNATURE_MAX):
            # Not the parts of a link this API signed: treated as no signature at all.
            expires = signature = None
        record = services.requests.get(request_id)
        owner = record.organization_id or LOCAL_ORG
        secret = services.accounts.webhook_secret(owner)
        signed = signature_valid(secret, request_id, name, expires, signature)
        anonymous = not authorization and not services.auth_disabled
        if not signed and (anonymous or organization(authorization) != owner):
            raise RequestNotFound(f"no request with id {request_id}")
        return record, secret

    @app.get(
        f"/v1/videos/{{request_id}}/{PLAYLIST_NAME}",
        tags=["videos"],
        response_class=Response,
        responses={
            200: {
                "description": "the HLS playlist of the scenes finished so far",
                "content": _PLAYLIST_CONTENT,
            },
            **_problems(404),
        },
    )
    def stream_playlist(
        request_id: str,
        authorization: Annotated[str | None, Header()] = None,
        expires: Annotated[str | None, Query(description=_SIGNED_QUERY["expires"])] = None,
        signature: Annotated[str | None, Query(description=_SIGNED_QUERY["signature"])] = None,
    ) -> Response:
        """Watch while it renders: an HLS (fMP4) playlist that grows as scenes finish, in
        order, and ends (EXT-X-ENDLIST) once every scene is in it. Its part links are signed,
        so a player needs no Authorization header to follow them."""
        record, secret = reader(request_id, PLAYLIST_NAME, authorization, expires, signature)
        key = playlist_key(request_id)
        if services.blobs.stat(key) is None:
            raise BlobNotFound(
                f"request {request_id} has no playable scene yet (status {record.status.value}); "
                "the stream starts once its first scene is rendered"
            )
        text = services.blobs.get_bytes(key).decode("utf-8")
        ttl = services.file_url_ttl_s

        def signed_uri(uri: str) -> str:
            if services.store_urls is not None:
                name = uri.rsplit("/", 1)[-1]
                return services.store_urls(
                    part_key(request_id, name), name, services.store_url_ttl_s
                )
            return f"{uri}?{signed_query(secret, request_id, uri, ttl)}"

        complete = playlist_complete(text)
        cache = f"private, max-age={min(ttl, 3600)}" if complete else "no-cache"
        return Response(
            rewrite_uris(text, signed_uri),
            media_type=PLAYLIST_CONTENT_TYPE,
            headers={"Cache-Control": cache},
        )

    @app.get(
        "/v1/videos/{request_id}/stream/{name}",
        tags=["videos"],
        response_class=Response,
        responses={
            200: {
                "description": "an init section or a scene's media",
                "headers": {"ETag": _FILE_HEADERS["ETag"]},
                "content": _STREAM_PART_CONTENT,
            },
            304: {"description": "unchanged since the ETag sent in If-None-Match"},
            307: {"description": "fetch it from the bucket, at Location (cloud storage)"},
            **_problems(404),
        },
    )
    def stream_part(
        request_id: str,
        name: str,
        authorization: Annotated[str | None, Header()] = None,
        expires: Annotated[str | None, Query(description=_SIGNED_QUERY["expires"])] = None,
        signature: Annotated[str | None, Query(description=_SIGNED_QUERY["signature"])] = None,
        if_none: Annotated[str | None, Header(alias="if-none-match")] = None,
    ) -> Response:
        """A part the playlist names: ``init-<hash>.mp4``, ``scene-<nnn>.m4s`` or
        ``scene-<nnn>-<mm>.m4s`` (a part of a scene, from its sentence mm)."""
        if not PART_NAME.match(name):
            raise BlobNotFound(
                f"no stream part {name!r}; the playlist names init-<hash>.mp4 and "
                "scene-<nnn>.m4s / scene-<nnn>-<mm>.m4s parts"
            )
        record, _ = reader(request_id, f"stream/{name}", authorization, expires, signature)
        key = part_key(request_id, name)
        info = services.blobs.stat(key)
        if info is None:
            raise BlobNotFound(
                f"request {request_id} has no stream part {name} (status {record.status.value})"
            )
        if services.store_urls is not None:
            target = services.store_urls(key, name, services.store_url_ttl_s)
            return Response(status_code=307, headers={"Location": target})
        etag = f'"{info.etag}"'
        headers = {"ETag": etag, "Cache-Control": "private, max-age=3600"}
        if if_none_match(if_none, etag):
            return Response(status_code=304, headers=headers)
        headers["Content-Length"] = str(info.size)
        return StreamingResponse(
            services.blobs.read_range(key, 0, max(0, info.size - 1)) if info.size else iter(()),
            media_type=PART_CONTENT_TYPE,
            headers=headers,
        )

    @app.get(
        "/v1/videos/{request_id}/files/{name}",
        tags=["videos"],
        response_class=Response,
        responses={
            200: {"description": "the file", "headers": _FILE_HEADERS, "content": _FILE_CONTENT},
            206: {"description": "the byte range asked for", "content": _FILE_CONTENT},
            304: {"description": "unchanged since the ETag sent in If-None-Match"},
            307: {"description": "fetch it from the bucket, at Location (cloud storage)"},
            **_problems(404, 416),
        },
    )
    def file(
        request_id: str,
        name: str,
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        expires: Annotated[str | None, Query()] = None,
        signature: Annotated[str | None, Query()] = None,
        range_header: Annotated[str | None, Header(alias="range")] = None,
        if_none: Annotated[str | None, Header(alias="if-none-match")] = None,
    ) -> Response:
        if name not in DELIVERED_FILES:
            allowed = ", ".join(DELIVERED_FILES)
            raise BlobNotFound(f"no file {name!r}; a video has {allowed}")
        record, _ = reader(request_id, name, authorization, expires, signature)
        key = record.request_metadata.get("files", {}).get(name)
        info = services.blobs.stat(key) if key else None
        if info is None:
            raise BlobNotFound(f"request {request_id} has no {name} (status {record.status.value})")
        if services.store_urls is not None:
            # The bucket serves the bytes (ranges included) under a short-lived signed URL.
            target = services.store_urls(str(key), name, services.store_url_ttl_s)
            return Response(status_code=307, headers={"Location": target})
        etag = f'"{info.etag}"'
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Cache-Control": "private, max-age=3600"}
        if if_none_match(if_none, etag):
            return Response(status_code=304, headers=headers)
        media_type = DELIVERED_FILES[name]
        try:
            wanted = parse_range(range_header, info.size)
        except RangeNotSatisfiable:
            headers["Content-Range"] = unsatisfied_content_range(info.size)
            body = {
                "type": "https://vividly-ray.dev/problems/range-not-satisfiable",
                "title": "Range not satisfiable",
                "status": 416,
                "detail": f"{name} has {info.size} bytes; the range asked for is outside them",
                "instance": str(request.url.path),
            }
            return JSONResponse(body, status_code=416, media_type=PROBLEM_JSON, headers=headers)
        if wanted is None:
            headers["Content-Length"] = str(info.size)
            return StreamingResponse(
                services.blobs.read_range(key, 0, max(0, info.size - 1)) if info.size else iter(()),
                media_type=media_type,
                headers=headers,
            )
        headers["Content-Range"] = content_range(wanted, info.size)
        headers["Content-Length"] = str(wanted.length)
        return StreamingResponse(
            services.blobs.read_range(key, wanted.start, wanted.end),
            status_code=206,
            media_type=media_type,
            headers=headers,
        )

    if services.web_dir is not None:
        web = services.web_dir

        @app.get("/", include_in_schema=False)
        def page() -> FileResponse:
            return FileResponse(web / "index.html", media_type="text/html")

        @app.get("/static/{name}", include_in_schema=False)
        def static(name: str) -> FileResponse:
            types = {
                "app.js": "text/javascript",
                "stream.js": "text/javascript",
                "style.css": "text/css",
            }
            if name not in types or not (web / name).is_file():
                raise BlobNotFound(f"no static file {name!r}")
            return FileResponse(web / name, media_type=types[name])

    return app


def _last_id(header: str | None) -> int:
    if header is None:
        return 0
    value = header.strip()
    # ASCII digits only: str.isdigit() also takes "²", which int() refuses.
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        raise InvalidRequest("Last-Event-ID", "must be the id of an event this stream sent")
    if int(value) > MAX_EVENT_SEQUENCE:
        raise InvalidRequest("Last-Event-ID", "must be the id of an event this stream sent")
    return int(value)


def _known_id(request_id: str) -> None:
    """Refuse, as not found, an id no request can have."""
    if not (1 <= len(request_id) <= REQUEST_ID_MAX and request_id.isprintable()):
        raise RequestNotFound(f"no request with id {request_id[:REQUEST_ID_MAX]!r}")


_EXPIRES_MAX = 12  # a Unix time, in seconds
_SIGNATURE_MAX = 64


def _link_part(value: str | None, longest: int) -> bool:
    """Whether a signed link's ``expires`` or ``signature`` could be one this API wrote: short
    ASCII letters and digits (the HMAC comparison takes ASCII only, int() no huge numbers)."""
    return value is not None and 1 <= len(value) <= longest and value.isascii() and value.isalnum()


def _plausible_cursor(cursor: str) -> bool:
    """A cursor this API could have written: short URL-safe base64 of printable text."""
    if len(cursor) > 200 or not cursor.isascii():
        return False
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    return decoded.isprintable()


async def _json_body(request: Request, limit: int) -> dict[str, Any]:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        raise _Unsupported(content_type)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("body", f"is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise InvalidRequest("body", "must be a JSON object")
    return body


class _Unsupported(VividlyError):
    def __init__(self, content_type: str) -> None:
        super().__init__(f"send application/json, not {content_type or 'no content type'}")


async def _event_stream(
    services: ApiServices, request: Request, request_id: str, after: int
) -> AsyncIterator[bytes]:
    """SSE of every event after ``after``, ending once the request ends or asks a question."""
    last = after
    idle = 0.0
    yield b"retry: 2000\n\n"
    while True:
        batch = await asyncio.to_thread(services.requests.events, request_id, last)
        for event in batch:
            last = event.sequence
            data = json.dumps(event_view(event), separators=(",", ":"))
            yield f"id: {event.sequence}\nevent: {event.event_type}\ndata: {data}\n\n".encode()
            if event.event_type == "status" and event.status.value in STREAM_END:
                return
        if batch:
            idle = 0.0
        else:
            record = await asyncio.to_thread(services.requests.get, request_id)
            # Ended, and its last event was already sent (a resumed stream after the end):
            # nothing more will come.
            if record.status.value in STREAM_END and not await asyncio.to_thread(
                services.requests.events, request_id, last, 1
            ):
                return
            idle += services.events_poll_s
            if idle >= 15:
                idle = 0.0
                yield b": keep-alive\n\n"
        if await request.is_disconnected():
            return
        await asyncio.sleep(services.events_poll_s)


def _install_error_handlers(app: FastAPI) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from vividly_ray.resilience import database_unavailable

    # How long a client should wait before trying again while the database is away.
    database_retry_after_s = 5

    def problem(error: BaseException, request: Request, status: int | None = None) -> JSONResponse:
        body = problem_details(error, str(request.url.path))
        if status is not None:
            body["status"] = status
        headers = {}
        if isinstance(error, Overloaded):
            headers["Retry-After"] = str(error.retry_after)
        if isinstance(error, Unauthenticated):
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse(
            body, status_code=body["status"], media_type=PROBLEM_JSON, headers=headers
        )

    @app.exception_handler(VividlyError)
    async def vividly_error(request: Request, exc: VividlyError) -> JSONResponse:
        if isinstance(exc, _Unsupported):
            return problem(exc, request, 415)
        return problem(exc, request)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        from vividly_ray.domain.errors import InvalidFields

        problems = [
            InvalidRequest(".".join(str(p) for p in err["loc"][1:]) or "request", err["msg"])
            for err in exc.errors()
        ]
        return problem(InvalidFields(problems), request)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": str(exc.detail),
            "status": exc.status_code,
            "detail": str(exc.detail),
            "instance": str(request.url.path),
        }
        return JSONResponse(
            body, status_code=exc.status_code, media_type=PROBLEM_JSON, headers=exc.headers
        )

    def internal(request: Request) -> JSONResponse:
        error_id = uuid.uuid4().hex[:12]
        log.exception("internal error %s", error_id)
        body = {
            "type": "https://vividly-ray.dev/problems/internal",
            "title": "Internal error",
            "status": 500,
            "detail": f"internal error {error_id}",
            "error_id": error_id,
            "instance": str(request.url.path),
        }
        return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)

    def unavailable(request: Request, exc: BaseException) -> JSONResponse:
        # A database outage is not a bug: nothing accepted is lost, and the same call will
        # pass once the database is back. The driver's message is logged, never sent.
        log.warning(
            "database unavailable: %s %s",
            request.method,
            request.url.path,
            extra={"fields": {"error": type(exc).__name__}},
        )
        body = {
            "type": "https://vividly-ray.dev/problems/database-unavailable",
            "title": "Database unavailable",
            "status": 503,
            "detail": "the database is unavailable just now; try again in "
            f"{database_retry_after_s} s",
            "retry_after": database_retry_after_s,
            "instance": str(request.url.path),
        }
        return JSONResponse(
            body,
            status_code=503,
            media_type=PROBLEM_JSON,
            headers={"Retry-After": str(database_retry_after_s)},
        )

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        if database_unavailable(exc):
            return unavailable(request, exc)
        return internal(request)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        if database_unavailable(exc):  # a driver error wrapped in another exception
            return unavailable(request, exc)
        return internal(request)
