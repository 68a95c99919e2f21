"""Builders for driving the real HTTP API over a real database in tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from vividly_ray.bootstrap import Stores, build_stores
from vividly_ray.domain.models import DELIVERED_FILES, delivered_key
from vividly_ray.domain.status import PIPELINE, STAGE_START_PROGRESS, RequestStatus
from vividly_ray.persistence.results_outbox import SqlRejections
from vividly_ray.service.erasure import Eraser
from vividly_ray.service.http_api import ApiServices, create_app
from vividly_ray.service.intake import Intake, IntakePolicy
from vividly_ray.settings import load_settings

PROBLEM_JSON = "application/problem+json"
PUBLIC_CALLBACK = "https://1.1.1.1/hooks/vividly"
VALID_BODY: dict[str, Any] = {
    "student_query": "Explain the water cycle",
    "grade_level": 5,
    "duration_minutes": 2,
}


def open_stores(home: Path, database_url: str) -> Stores:
    """Every store of the service on ``database_url``, migrated by the composition root."""
    return build_stores(load_settings({}, home=home, database_url=database_url))


def make_client(
    stores: Stores,
    *,
    policy: IntakePolicy | None = None,
    auth_disabled: bool = False,
    rate_limit_per_minute: int = 10_000,
    max_body_bytes: int = 4096,
    file_url_ttl_s: int = 3600,
    events_poll_s: float = 0.02,
    eraser: Eraser | None = None,
) -> TestClient:
    """A client of the API app built on ``stores``; server errors come back as responses."""
    services = ApiServices(
        db=stores.db,
        requests=stores.requests,
        queue=stores.queue,
        accounts=stores.accounts,
        outbox=stores.outbox,
        blobs=stores.blobs,
        intake=Intake(
            stores.requests,
            policy or IntakePolicy(max_queue_depth=1000, allow_private_callbacks=False),
        ),
        auth_disabled=auth_disabled,
        rate_limit_per_minute=rate_limit_per_minute,
        max_body_bytes=max_body_bytes,
        file_url_ttl_s=file_url_ttl_s,
        events_poll_s=events_poll_s,
        eraser=eraser or default_eraser(stores),
    )
    return TestClient(create_app(services), raise_server_exceptions=False)


def default_eraser(stores: Stores, **overrides: Any) -> Eraser:
    """The Eraser the service builds, on ``stores`` (``retention_days``, ``grace``, ``clock``)."""
    options: dict[str, Any] = {"retention_days": 30.0, "grace": timedelta(seconds=30)}
    options.update(overrides)
    return Eraser(stores.requests, stores.blobs, SqlRejections(stores.db), **options)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass(frozen=True)
class SseEvent:
    id: int
    event: str
    data: dict[str, Any]


def parse_sse(body: str) -> list[SseEvent]:
    """The events of a ``text/event-stream`` body, in order; comments and ``retry`` skipped."""
    found: list[SseEvent] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "data" in fields:
            found.append(SseEvent(int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return found


def walk_to_completed(stores: Stores, request_id: str) -> list[tuple[str, str]]:
    """Move a pending request through the whole pipeline with progress and scene updates.

    Returns the (event type, status) of every event the request now has, in order.
    """
    repo = stores.requests
    expected = [("status", "pending")]
    for status in PIPELINE[1:]:
        repo.transition(
            request_id, status, progress=STAGE_START_PROGRESS[status], message=f"now {status}"
        )
        expected.append(("status", status.value))
        if status is RequestStatus.RETRIEVING:
            repo.progress(request_id, 10, "found two sources")
            expected.append(("progress", status.value))
        if status is RequestStatus.GENERATING_VIDEO:
            for done in (1, 2):
                repo.progress(
                    request_id,
                    25 + 30 * done,
                    f"scene {done} of 2",
                    details={"scenes_done": done, "scenes_total": 2},
                    event_type="scene",
                )
                expected.append(("scene", status.value))
    return expected


def video_bytes(size: int = 100_000) -> bytes:
    """A payload in which every short window of bytes is distinct from its neighbours."""
    return bytes((i * 7 + i // 251) % 256 for i in range(size))


def deliver_files(stores: Stores, request_id: str, video: bytes) -> dict[str, bytes]:
    """Store every delivered file of ``request_id`` and record their keys on the request."""
    contents = {name: f"{name} of {request_id}\n".encode() for name in DELIVERED_FILES}
    contents["video.mp4"] = video
    keys: dict[str, str] = {}
    for name, data in contents.items():
        key = delivered_key(request_id, name)
        stores.blobs.put_bytes(key, data, DELIVERED_FILES[name])
        keys[name] = key
    stores.requests.merge_metadata(request_id, {"files": keys})
    return contents
