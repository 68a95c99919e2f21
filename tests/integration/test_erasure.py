"""Erasure over the real HTTP API, real databases (SQLite and PostgreSQL) and the local store:
DELETE and the retention sweep leave no row and no blob of the request behind."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from tests.integration.api_fixtures import (
    PUBLIC_CALLBACK,
    VALID_BODY,
    bearer,
    default_eraser,
    deliver_files,
    make_client,
    open_stores,
    video_bytes,
)
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.status import PIPELINE, STAGE_START_PROGRESS, RequestStatus
from vividly_ray.persistence.orm import ContentRequest, RejectedMessage, utcnow
from vividly_ray.persistence.results_outbox import SqlRejections
from vividly_ray.service.erasure import Eraser
from vividly_ray.storage.cache import ContentCache

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# Every table that holds a request id, and the column that holds it.
REQUEST_TABLES = {
    "content_requests": "request_id",
    "request_events": "request_id",
    "webhook_deliveries": "request_id",
    "result_messages": "request_id",
}
CANARY_STUDENT = "canary-student-7f3a"


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def stores(tmp_path: Path, database_url: str) -> Iterator[Stores]:
    built = open_stores(tmp_path / "home", database_url)
    try:
        yield built
    finally:
        built.db.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def eraser(stores: Stores, clock: Clock) -> Eraser:
    return default_eraser(stores, grace=timedelta(seconds=30), clock=clock)


@pytest.fixture
def client(stores: Stores, eraser: Eraser) -> Iterator[TestClient]:
    with make_client(stores, eraser=eraser) as built:
        yield built


@pytest.fixture
def keys(stores: Stores) -> dict[str, dict[str, str]]:
    return {org: bearer(stores.accounts.create_key(org).key) for org in ("org-a", "org-b")}


def rows_of(stores: Stores, request_id: str) -> dict[str, int]:
    with stores.db.engine.connect() as connection:
        counts = {
            table: int(
                connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :id"), {"id": request_id}
                ).scalar_one()
            )
            for table, column in REQUEST_TABLES.items()
        }
        counts["webhook_attempts"] = int(
            connection.execute(
                text(
                    "SELECT count(*) FROM webhook_attempts WHERE webhook_id IN "
                    "(SELECT webhook_id FROM webhook_deliveries WHERE request_id = :id)"
                ),
                {"id": request_id},
            ).scalar_one()
        )
        counts["student_rows"] = int(
            connection.execute(
                text("SELECT count(*) FROM content_requests WHERE student_id = :s"),
                {"s": CANARY_STUDENT},
            ).scalar_one()
        )
    return counts


def scene_blobs(stores: Stores, tmp_path: Path, name: str) -> list[str]:
    """A scene's audio and segment in the cache, with their metadata, as the pipeline stores
    them; returns the two keys the pipeline records (the entries, not the metadata)."""
    cache = ContentCache(stores.blobs, tmp_path / "scratch")
    wav = cache.put("audio", name * 8, ".wav", lambda p: p.write_bytes(b"RIFF" + name.encode()))
    cache.put_json("audio-timings", name * 8, {"sentences": []})
    mp4 = cache.put("segments", name * 8, ".mp4", lambda p: p.write_bytes(b"mp4" + name.encode()))
    cache.put_json("segment-meta", name * 8, {"duration": 1.0})
    return [wav, mp4]


def completed_request(
    stores: Stores, client: TestClient, headers: dict[str, str], tmp_path: Path, name: str
) -> tuple[str, list[str]]:
    """A request that went all the way, with a webhook queued, files and two scenes' blobs."""
    body = {**VALID_BODY, "student_id": CANARY_STUDENT, "callback_url": PUBLIC_CALLBACK}
    answer = client.post("/v1/videos", json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    request_id: str = answer.json()["id"]
    blobs = scene_blobs(stores, tmp_path, name)
    for status in PIPELINE[1:]:
        stores.requests.transition(request_id, status, progress=STAGE_START_PROGRESS[status])
        if status is RequestStatus.GENERATING_VIDEO:
            details = {"scenes_done": 2, "scenes_total": 2, "blobs": blobs}
            stores.requests.progress(request_id, 80, "scenes", details=details, event_type="scene")
        if status is RequestStatus.NOTIFYING:
            deliver_files(stores, request_id, video_bytes(5_000))
    return request_id, blobs


def all_keys(stores: Stores) -> list[str]:
    return sorted(stores.blobs.list_keys(""))


def test_delete_erases_every_row_and_blob_of_a_finished_request(
    stores: Stores, client: TestClient, keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    request_id, _ = completed_request(stores, client, keys["org-a"], tmp_path, "a")
    other_id, other_blobs = completed_request(stores, client, keys["org-a"], tmp_path, "b")
    before = rows_of(stores, request_id)
    assert before["content_requests"] == 1 and before["request_events"] > 5
    assert before["webhook_deliveries"] == 1
    assert any(k.startswith(f"videos/{request_id}/") for k in all_keys(stores))

    answer = client.delete(f"/v1/videos/{request_id}", headers=keys["org-a"])

    assert answer.status_code == 204, answer.text
    after = rows_of(stores, request_id)
    # Only the other request of the same student is left.
    assert after == {**dict.fromkeys(REQUEST_TABLES, 0), "webhook_attempts": 0, "student_rows": 1}
    left = all_keys(stores)
    assert [k for k in left if request_id in k] == []
    # Its scene blobs and their metadata are gone; the other request keeps all of its own.
    assert [k for k in left if k.startswith("cache/")] == sorted(
        [
            *other_blobs,
            f"cache/audio-timings/bb/{'b' * 8}.json",
            f"cache/segment-meta/bb/{'b' * 8}.json",
        ]
    )
    assert client.get(f"/v1/videos/{request_id}", headers=keys["org-a"]).status_code == 404
    assert client.get(f"/v1/videos/{other_id}", headers=keys["org-a"]).status_code == 200
    # Deleting again is a plain 404: there is nothing left to find.
    assert client.delete(f"/v1/videos/{request_id}", headers=keys["org-a"]).status_code == 404


def test_another_organization_cannot_delete_or_learn_that_a_request_exists(
    stores: Stores, client: TestClient, keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    request_id, _ = completed_request(stores, client, keys["org-a"], tmp_path, "c")
    keys_before = all_keys(stores)

    unknown = "00000000-0000-4000-8000-00000000beef"
    for headers in (keys["org-b"], {}, bearer("vk_not-a-real-key")):
        answer = client.delete(f"/v1/videos/{request_id}", headers=headers)
        assert answer.status_code in (401, 404), answer.text
        # The answer is the one an id that never existed gets: nothing tells them apart.
        never = client.delete(f"/v1/videos/{unknown}", headers=headers)
        assert answer.status_code == never.status_code
        assert answer.text.replace(request_id, unknown) == never.text

    assert rows_of(stores, request_id)["content_requests"] == 1
    assert all_keys(stores) == keys_before


def test_a_running_request_is_cancelled_at_once_and_erased_after_the_grace(
    stores: Stores,
    client: TestClient,
    eraser: Eraser,
    clock: Clock,
    keys: dict[str, dict[str, str]],
    tmp_path: Path,
) -> None:
    answer = client.post("/v1/videos", json=VALID_BODY, headers=keys["org-a"])
    request_id = answer.json()["id"]
    for status in (RequestStatus.VALIDATING, RequestStatus.RETRIEVING):
        stores.requests.transition(request_id, status)
    blobs = scene_blobs(stores, tmp_path, "d")
    stores.requests.progress(request_id, 12, "scene", details={"blobs": blobs}, event_type="scene")

    answer = client.delete(f"/v1/videos/{request_id}", headers=keys["org-a"])

    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "cancelled"
    assert stores.requests.get(request_id).status is RequestStatus.CANCELLED
    # Within the grace its holder may still be noticing the cancellation: nothing goes yet.
    assert eraser.sweep().requests_erased == 0
    assert rows_of(stores, request_id)["content_requests"] == 1
    # A late write of the holder after the grace is erased with the rest.
    stores.blobs.put_bytes(f"videos/{request_id}/video.mp4", b"late", "video/mp4")
    clock.now += timedelta(seconds=31)

    report = eraser.sweep()

    assert report.requests_erased == 1
    assert rows_of(stores, request_id)["content_requests"] == 0
    assert [k for k in all_keys(stores) if request_id in k or k.startswith("cache/")] == []


def test_the_retention_sweep_erases_what_ended_before_the_cutoff_and_keeps_the_rest(
    stores: Stores,
    client: TestClient,
    clock: Clock,
    keys: dict[str, dict[str, str]],
    tmp_path: Path,
) -> None:
    old_done, _ = completed_request(stores, client, keys["org-a"], tmp_path, "e")
    recent_done, _ = completed_request(stores, client, keys["org-a"], tmp_path, "f")
    waiting = client.post("/v1/videos", json=VALID_BODY, headers=keys["org-a"]).json()["id"]
    stores.requests.transition(waiting, RequestStatus.VALIDATING)
    stores.requests.transition(waiting, RequestStatus.CLARIFICATION_NEEDED)
    queued = client.post(
        "/v1/videos",
        json={**VALID_BODY, "student_query": "How do bees make honey?"},
        headers=keys["org-a"],
    ).json()["id"]
    long_ago = clock.now - timedelta(days=31)
    with stores.db.sessions.begin() as session:
        session.execute(
            update(ContentRequest)
            .where(ContentRequest.request_id.in_([old_done, waiting, queued]))
            .values(updated_at=long_ago, created_at=long_ago)
        )
    rejections = SqlRejections(stores.db)
    rejections.record("old-message", "sub", "not JSON", b"my name is Canary")
    rejections.record("new-message", "sub", "not JSON", b"{")
    with stores.db.sessions.begin() as session:
        session.execute(
            update(RejectedMessage)
            .where(RejectedMessage.message_id == "old-message")
            .values(last_seen_at=long_ago)
        )
    orphan = "videos/00000000-0000-4000-8000-000000000000/video.mp4"
    stores.blobs.put_bytes(orphan, b"left behind", "video/mp4")
    eraser = default_eraser(stores, retention_days=30.0, clock=clock)

    report = eraser.sweep()

    assert report.requests_erased == 2  # the old completed one and the abandoned question
    assert report.orphans_removed == 1 and report.rejections_forgotten == 1
    with stores.db.sessions() as session:
        left = set(session.scalars(select(ContentRequest.request_id)))
        remembered = set(session.scalars(select(RejectedMessage.message_id)))
    assert left == {recent_done, queued}  # a queued request is work, not data to expire
    assert remembered == {"new-message"}
    keys_left = all_keys(stores)
    assert orphan not in keys_left
    assert not [k for k in keys_left if old_done in k or waiting in k]
    assert any(recent_done in k for k in keys_left)
    # A second sweep finds nothing more to do.
    assert eraser.sweep().as_dict() == dict.fromkeys(report.as_dict(), 0)


def test_zero_retention_days_keeps_finished_requests(
    stores: Stores,
    client: TestClient,
    clock: Clock,
    keys: dict[str, dict[str, str]],
    tmp_path: Path,
) -> None:
    request_id, _ = completed_request(stores, client, keys["org-a"], tmp_path, "g")
    with stores.db.sessions.begin() as session:
        session.execute(
            update(ContentRequest)
            .where(ContentRequest.request_id == request_id)
            .values(updated_at=clock.now - timedelta(days=3000))
        )
    eraser = default_eraser(stores, retention_days=0.0, clock=clock)
    assert eraser.sweep().requests_erased == 0
    assert rows_of(stores, request_id)["content_requests"] == 1


def test_the_api_never_shows_the_recorded_blob_keys(
    stores: Stores, client: TestClient, keys: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    request_id, blobs = completed_request(stores, client, keys["org-a"], tmp_path, "h")
    detail: dict[str, Any] = client.get(f"/v1/videos/{request_id}", headers=keys["org-a"]).json()
    assert blobs[0] not in str(detail)
    assert "blobs" not in str(detail)
