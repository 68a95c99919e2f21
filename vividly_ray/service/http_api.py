"""The HTTP API (v1) and the web page, as a FastAPI app built once per Gateway replica.

Pure of Ray: the Serve Gateway wraps this app with ``@serve.ingress``, and tests run it against
the real database directly. Long work never runs here; intake records the row and returns 202.
"""

# No ``from __future__ import annotations`` here: FastAPI reads the route signatures at
# runtime, and the dependency aliases defined inside ``create_app`` must resolve.
import asyncio
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
from vividly_ray.observability.logs import log_context
from vividly_ray.observability.metrics import ServiceSnapshot, render_metrics
from vividly_ray.persistence.accounts import SqlAccounts
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
from vividly_ray.persistence.orm import utcnow
from vividly_ray.persistence.outbox import SqlWebhookOutbox
from vividly_ray.persistence.repository import (
    SqlRequestRepository,
    oldest_pending_at,
    recent_stage_seconds,
)
from vividly_ray.service.erasure import Eraser
from vividly_ray.service.file_links import signature_valid, signed_path
from vividly_ray.service.intake import Intake
from vividly_ray.service.ranges import (
    RangeNotSatisfiable,
    content_range,
    if_none_match,
    parse_range,
    unsatisfied_content_range,
)
from vividly_ray.service.views import detail_view, event_view, links, summary_view

log = logging.getLogger("vividly.gateway")

LOCAL_ORG = "local"
STREAM_END = frozenset({"completed", "failed", "cancelled", "clarification_needed"})


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

    @app.get("/readyz", tags=["operations"])
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

    @app.get("/metrics", tags=["operations"])
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

    @app.post("/v1/videos", status_code=202, tags=["videos"])
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

    @app.get("/v1/videos", tags=["videos"])
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
        records, next_cursor = services.requests.list_requests(
            org, status=wanted, limit=limit, cursor=cursor
        )
        return {"items": [summary_view(r) for r in records], "next_cursor": next_cursor}

    @app.get("/v1/videos/{request_id}", tags=["videos"])
    def get_video(request_id: str, org: LimitedOrg) -> dict[str, Any]:
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
        return detail_view(record, events, files)

    @app.get("/v1/videos/{request_id}/events", tags=["videos"])
    async def events(
        request_id: str,
        request: Request,
        org: Org,
        last_event_id: Annotated[str | None, Header()] = None,
        after: Annotated[int | None, Query(ge=0)] = None,
    ) -> StreamingResponse:
        await asyncio.to_thread(services.requests.get, request_id, org)
        start = after if after is not None else _last_id(last_event_id)
        stream = _event_stream(services, request, request_id, start)
        headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
        return StreamingResponse(stream, media_type="text/event-stream", headers=headers)

    @app.post("/v1/videos/{request_id}/clarification", status_code=202, tags=["videos"])
    async def clarify(request_id: str, request: Request, org: LimitedOrg) -> dict[str, Any]:
        body = await _json_body(request, services.max_body_bytes)
        answer = body.get("answer")
        if not isinstance(answer, str):
            raise InvalidRequest("answer", "is required: the student's answer as text")
        record = await asyncio.to_thread(
            services.requests.answer, request_id, answer, organization_id=org
        )
        return {"id": record.request_id, "status": record.status.value, "links": links(request_id)}

    @app.post("/v1/videos/{request_id}/cancel", status_code=202, tags=["videos"])
    def cancel(request_id: str, org: LimitedOrg) -> dict[str, Any]:
        record = services.requests.cancel(request_id, org, "cancelled by the caller")
        return {"id": record.request_id, "status": record.status.value}

    eraser = services.eraser
    if eraser is not None:

        @app.delete(
            "/v1/videos/{request_id}",
            tags=["videos"],
            status_code=204,
            response_class=Response,
            responses={202: {"description": "it was running: cancelled now, erased shortly"}},
        )
        def erase(request_id: str, org: LimitedOrg) -> Response:
            """Erase the request and all it stored: question, student id, events and files."""
            outcome = eraser.request(request_id, org)
            if outcome.erased:
                return Response(status_code=204)
            body = {
                "id": request_id,
                "status": "cancelled",
                "erase_after": outcome.due.isoformat(),
            }
            return JSONResponse(body, status_code=202)

    @app.get("/v1/videos/{request_id}/files/{name}", tags=["videos"])
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
        record = services.requests.get(request_id)
        owner = record.organization_id or LOCAL_ORG
        secret = services.accounts.webhook_secret(owner)
        signed = signature_valid(secret, request_id, name, expires, signature)
        anonymous = not authorization and not services.auth_disabled
        if not signed and (anonymous or organization(authorization) != owner):
            raise RequestNotFound(f"no request with id {request_id}")
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
            return Response(status_code=416, headers=headers)
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
            types = {"app.js": "text/javascript", "style.css": "text/css"}
            if name not in types or not (web / name).is_file():
                raise BlobNotFound(f"no static file {name!r}")
            return FileResponse(web / name, media_type=types[name])

    return app


def _last_id(header: str | None) -> int:
    if header is None:
        return 0
    if not header.strip().isdigit():
        raise InvalidRequest("Last-Event-ID", "must be the id of an event this stream sent")
    return int(header.strip())


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

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
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
