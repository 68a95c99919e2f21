"""The HTTP API (v1) driven through FastAPI's TestClient against real SQLite and PostgreSQL."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.api_fixtures import (
    PROBLEM_JSON,
    PUBLIC_CALLBACK,
    VALID_BODY,
    bearer,
    deliver_files,
    make_client,
    open_stores,
    parse_sse,
    video_bytes,
    walk_to_completed,
)
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.models import DELIVERED_FILES
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.accounts import CreatedKey
from vividly_ray.service.file_links import signed_path
from vividly_ray.service.intake import IntakePolicy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

ClientFactory = Callable[..., TestClient]


@pytest.fixture
def stores(tmp_path: Path, database_url: str) -> Iterator[Stores]:
    built = open_stores(tmp_path / "home", database_url)
    try:
        yield built
    finally:
        built.db.dispose()


@pytest.fixture
def keys(stores: Stores) -> dict[str, CreatedKey]:
    return {org: stores.accounts.create_key(org) for org in ("org-a", "org-b")}


@pytest.fixture
def client_for(stores: Stores) -> Iterator[ClientFactory]:
    """Builds clients of apps on the test's stores, each with its own options."""
    opened: list[TestClient] = []

    def build(**options: Any) -> TestClient:
        client = make_client(stores, **options)
        client.__enter__()
        opened.append(client)
        return client

    try:
        yield build
    finally:
        for client in opened:
            client.__exit__(None, None, None)


@pytest.fixture
def client(client_for: ClientFactory) -> TestClient:
    return client_for()


@pytest.fixture
def a(keys: dict[str, CreatedKey]) -> dict[str, str]:
    return bearer(keys["org-a"].key)


@pytest.fixture
def b(keys: dict[str, CreatedKey]) -> dict[str, str]:
    return bearer(keys["org-b"].key)


def submit(
    client: TestClient,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    expected: int = 202,
) -> dict[str, Any]:
    response = client.post("/v1/videos", json=body or VALID_BODY, headers=headers)
    assert response.status_code == expected, response.text
    found: dict[str, Any] = response.json()
    return found


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The problem+json body of ``response``, which must carry ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def fields_of(body: dict[str, Any]) -> dict[str, str]:
    return {error["field"]: error["message"] for error in body.get("errors", [])}


def query_of(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


# -- authentication ---------------------------------------------------------------------------


def test_a_request_without_a_key_is_refused_with_a_bearer_challenge(client: TestClient) -> None:
    body = problem(client.get("/v1/videos"), 401)
    assert "Bearer" in body["detail"]
    response = client.post("/v1/videos", json=VALID_BODY)
    problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization",
    ["Bearer vk_000000000000_not-a-real-secret", "Bearer not-a-vividly-key", "Basic dXNlcjpwdw=="],
)
def test_an_unknown_or_malformed_key_is_refused(
    client: TestClient, keys: dict[str, CreatedKey], authorization: str
) -> None:
    response = client.get("/v1/videos", headers={"Authorization": authorization})
    problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_key_stops_working_at_once(
    client: TestClient, stores: Stores, keys: dict[str, CreatedKey], a: dict[str, str]
) -> None:
    assert client.get("/v1/videos", headers=a).status_code == 200
    stores.accounts.revoke_key(keys["org-a"].key_id)
    body = problem(client.get("/v1/videos", headers=a), 401)
    assert "revoked" in body["detail"]
    assert client.get("/v1/videos", headers=bearer(keys["org-b"].key)).status_code == 200


def test_with_auth_disabled_every_caller_is_the_local_organization(
    client_for: ClientFactory, stores: Stores
) -> None:
    open_client = client_for(auth_disabled=True)
    assert open_client.get("/healthz").json() == {"status": "ok", "auth_required": False}
    created = submit(open_client, {})
    assert stores.requests.get(created["id"], "local").status is RequestStatus.PENDING
    listed = open_client.get("/v1/videos").json()["items"]
    assert [item["id"] for item in listed] == [created["id"]]


def test_healthz_says_a_key_is_required_by_default(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "auth_required": True}


# -- submitting -------------------------------------------------------------------------------


def test_a_submission_is_recorded_as_pending_and_answered_with_202(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    body = {
        **VALID_BODY,
        "aspect": "9:16",
        "resolution": "1080p",
        "callback_url": PUBLIC_CALLBACK,
        "correlation_id": "lms-42",
    }
    response = client.post("/v1/videos", json=body, headers=a)
    assert response.status_code == 202, response.text
    created = response.json()
    request_id = created["id"]
    assert created["status"] == "pending"
    assert created["links"]["self"] == f"/v1/videos/{request_id}"
    assert created["links"]["events"] == f"/v1/videos/{request_id}/events"
    assert response.headers["location"] == f"/v1/videos/{request_id}"
    record = stores.requests.get(request_id, "org-a")
    assert record.status is RequestStatus.PENDING
    assert record.student_query == "Explain the water cycle"
    assert record.duration_minutes == 2
    assert record.correlation_id == "lms-42"
    assert record.request_metadata["aspect"] == "9:16"
    assert record.request_metadata["resolution"] == "1080p"
    assert record.request_metadata["callback_url"] == PUBLIC_CALLBACK
    detail = client.get(f"/v1/videos/{request_id}", headers=a).json()
    shown = (detail["aspect"], detail["resolution"], detail["status"])
    assert shown == ("9:16", "1080p", "pending")


# -- idempotency ------------------------------------------------------------------------------


def test_the_same_key_and_body_return_the_first_request(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    headers = {**a, "Idempotency-Key": "retry-1"}
    first = client.post("/v1/videos", json=VALID_BODY, headers=headers)
    reordered = dict(reversed(list(VALID_BODY.items())))
    again = client.post("/v1/videos", json=reordered, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    records, _ = stores.requests.list_requests("org-a")
    assert [r.request_id for r in records] == [first.json()["id"]]


def test_the_same_key_with_another_body_is_a_conflict(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    headers = {**a, "Idempotency-Key": "retry-2"}
    submit(client, headers)
    changed = {**VALID_BODY, "grade_level": 6}
    body = problem(client.post("/v1/videos", json=changed, headers=headers), 409)
    assert "Idempotency-Key" in body["detail"]
    records, _ = stores.requests.list_requests("org-a")
    assert len(records) == 1 and records[0].grade_level == "5"


def test_an_idempotency_key_belongs_to_one_organization(
    client: TestClient, stores: Stores, a: dict[str, str], b: dict[str, str]
) -> None:
    first = submit(client, {**a, "Idempotency-Key": "shared"})
    other = submit(client, {**b, "Idempotency-Key": "shared"}, {**VALID_BODY, "grade_level": 7})
    assert other["id"] != first["id"]
    assert stores.requests.get(other["id"], "org-b").grade_level == "7"
    assert stores.requests.get(first["id"], "org-a").grade_level == "5"


def test_an_overlong_idempotency_key_is_refused(client: TestClient, a: dict[str, str]) -> None:
    response = client.post(
        "/v1/videos", json=VALID_BODY, headers={**a, "Idempotency-Key": "k" * 256}
    )
    assert "Idempotency-Key" in fields_of(problem(response, 422))


def test_concurrent_submissions_with_one_key_make_one_request(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    headers = {**a, "Idempotency-Key": "burst"}
    start = threading.Barrier(20)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def send() -> None:
        start.wait()
        response = client.post("/v1/videos", json=VALID_BODY, headers=headers)
        with lock:
            results.append((response.status_code, response.json().get("id", response.text)))

    threads = [threading.Thread(target=send) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    records, _ = stores.requests.list_requests("org-a", limit=100)
    assert len(records) == 1
    assert sorted(code for code, _ in results) == [200] * 19 + [202]
    assert {found for _, found in results} == {records[0].request_id}


# -- validation -------------------------------------------------------------------------------


def test_every_bad_field_is_named_with_its_allowed_range(
    client: TestClient, a: dict[str, str]
) -> None:
    response = client.post("/v1/videos", json={"grade_level": 13, "duration_minutes": 0}, headers=a)
    errors = fields_of(problem(response, 422))
    assert set(errors) == {"student_query", "grade_level", "duration_minutes"}
    assert "required" in errors["student_query"]
    assert "K or 1-12" in errors["grade_level"] and "13" in errors["grade_level"]
    assert "1 to 10" in errors["duration_minutes"]


def test_an_unknown_field_is_named(client: TestClient, a: dict[str, str]) -> None:
    response = client.post("/v1/videos", json={**VALID_BODY, "colour": "blue"}, headers=a)
    assert set(fields_of(problem(response, 422))) == {"colour"}


@pytest.mark.parametrize(
    ("content", "content_type", "status", "field"),
    [
        (b"{not json", "application/json", 422, "body"),
        (b"[1, 2, 3]", "application/json", 422, "body"),
        (b"\xff\xfe", "application/json", 422, "body"),
        (b"student_query=water", "application/x-www-form-urlencoded", 415, None),
        (b'{"student_query": "x"}', "text/plain", 415, None),
    ],
)
def test_a_body_that_is_not_a_json_object_is_refused(
    client: TestClient,
    a: dict[str, str],
    content: bytes,
    content_type: str,
    status: int,
    field: str | None,
) -> None:
    response = client.post(
        "/v1/videos", content=content, headers={**a, "Content-Type": content_type}
    )
    body = problem(response, status)
    if field is not None:
        assert field in fields_of(body)


def test_a_body_over_the_limit_is_refused_with_413(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    big = {**VALID_BODY, "student_query": "Why is the sky blue? " * 300}
    problem(client.post("/v1/videos", json=big, headers=a), 413)
    chunks = iter([b'{"student_query": "', b"x" * 5000, b'"}'])
    streamed = client.post(
        "/v1/videos", content=chunks, headers={**a, "Content-Type": "application/json"}
    )
    problem(streamed, 413)
    assert stores.requests.list_requests("org-a")[0] == []


def test_an_unsupported_method_is_405(client: TestClient, a: dict[str, str]) -> None:
    response = client.put("/v1/videos", json=VALID_BODY, headers=a)
    problem(response, 405)
    assert "POST" in response.headers["allow"]


def test_an_unknown_request_id_is_404(client: TestClient, a: dict[str, str]) -> None:
    for path in ("/v1/videos/no-such-id", "/v1/videos/no-such-id/events"):
        problem(client.get(path, headers=a), 404)
    problem(client.post("/v1/videos/no-such-id/cancel", headers=a), 404)


@pytest.mark.parametrize(
    "callback", ["http://127.0.0.1:9000/hook", "http://10.0.0.8/hook", "http://[::1]/hook"]
)
def test_a_private_callback_is_refused_unless_allowed(
    client_for: ClientFactory, stores: Stores, a: dict[str, str], callback: str
) -> None:
    strict = client_for()
    body = {**VALID_BODY, "callback_url": callback}
    errors = fields_of(problem(strict.post("/v1/videos", json=body, headers=a), 422))
    assert set(errors) == {"callback_url"}
    assert stores.requests.list_requests("org-a")[0] == []
    lenient = client_for(policy=IntakePolicy(max_queue_depth=100, allow_private_callbacks=True))
    created = submit(lenient, a, body)
    assert stores.requests.get(created["id"]).request_metadata["callback_url"] == callback


def test_a_callback_that_is_not_a_url_is_refused(client: TestClient, a: dict[str, str]) -> None:
    for callback in ("ftp://1.1.1.1/x", 42):
        body = {**VALID_BODY, "callback_url": callback}
        response = client.post("/v1/videos", json=body, headers=a)
        assert set(fields_of(problem(response, 422))) == {"callback_url"}


# -- isolation between organizations -----------------------------------------------------------


def test_another_organization_sees_nothing_of_a_request(
    client: TestClient, stores: Stores, a: dict[str, str], b: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    deliver_files(stores, request_id, b"owned by org-a")
    base = f"/v1/videos/{request_id}"
    assert client.get(base, headers=a).status_code == 200
    assert client.get(f"{base}/files/video.mp4", headers=a).content == b"owned by org-a"

    problem(client.get(base, headers=b), 404)
    problem(client.get(f"{base}/events", headers=b), 404)
    problem(client.post(f"{base}/clarification", json={"answer": "plants"}, headers=b), 404)
    problem(client.post(f"{base}/cancel", headers=b), 404)
    problem(client.get(f"{base}/files/video.mp4", headers=b), 404)
    assert client.get("/v1/videos", headers=b).json() == {"items": [], "next_cursor": None}

    assert stores.requests.get(request_id).status is RequestStatus.PENDING
    listed = client.get("/v1/videos", headers=a).json()["items"]
    assert [item["id"] for item in listed] == [request_id]
    assert client.post(f"{base}/cancel", headers=a).status_code == 202


def test_a_signed_link_of_one_request_opens_no_other(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    first, second = submit(client, a)["id"], submit(client, a)["id"]
    for request_id in (first, second):
        deliver_files(stores, request_id, request_id.encode())
    secret = stores.accounts.webhook_secret("org-a")
    link = signed_path(secret, first, "video.mp4", 600)
    assert client.get(link).content == first.encode()
    problem(client.get(link.replace(first, second)), 404)
    problem(client.get(link.replace("video.mp4", "script.json")), 404)


# -- back-pressure and rate limits -------------------------------------------------------------


def test_a_full_queue_answers_503_with_retry_after(
    client_for: ClientFactory, stores: Stores, a: dict[str, str]
) -> None:
    busy = client_for(
        policy=IntakePolicy(max_queue_depth=3, allow_private_callbacks=False, retry_after_s=7)
    )
    accepted = [submit(busy, a)["id"] for _ in range(3)]
    response = busy.post("/v1/videos", json=VALID_BODY, headers=a)
    body = problem(response, 503)
    assert response.headers["retry-after"] == "7"
    assert body["retry_after"] == 7
    records, _ = stores.requests.list_requests("org-a", limit=100)
    assert sorted(r.request_id for r in records) == sorted(accepted)
    assert {r.status for r in records} == {RequestStatus.PENDING}


def test_a_full_queue_still_answers_a_replay_of_an_accepted_request(
    client_for: ClientFactory, stores: Stores, a: dict[str, str]
) -> None:
    busy = client_for(policy=IntakePolicy(max_queue_depth=1, allow_private_callbacks=False))
    headers = {**a, "Idempotency-Key": "accepted-once"}
    first = submit(busy, headers)
    replay = busy.post("/v1/videos", json=VALID_BODY, headers=headers)
    assert replay.status_code == 200, replay.text
    assert replay.json()["id"] == first["id"]
    assert len(stores.requests.list_requests("org-a")[0]) == 1


def _away_from_a_minute_boundary(margin_s: float = 5.0) -> None:
    """The rate limit counts per wall-clock minute; keep one test inside one minute."""
    into = time.time() % 60
    if into > 60 - margin_s:
        time.sleep(60 - into + 0.2)


def test_the_rate_limit_applies_per_organization(
    client_for: ClientFactory, a: dict[str, str], b: dict[str, str]
) -> None:
    limited = client_for(rate_limit_per_minute=5)
    _away_from_a_minute_boundary()
    assert [limited.get("/v1/videos", headers=a).status_code for _ in range(5)] == [200] * 5
    response = limited.get("/v1/videos", headers=a)
    problem(response, 429)
    assert 1 <= int(response.headers["retry-after"]) <= 61
    problem(limited.post("/v1/videos", json=VALID_BODY, headers=a), 429)
    assert limited.get("/v1/videos", headers=b).status_code == 200
    assert limited.get("/healthz").status_code == 200


# -- listing ----------------------------------------------------------------------------------


def test_listing_is_newest_first_and_pages_without_repeats(
    client: TestClient, a: dict[str, str]
) -> None:
    created = [submit(client, a)["id"] for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = client.get(f"/v1/videos?{urlencode(params)}", headers=a)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert seen == list(reversed(created))
    assert pages == 3


def test_listing_filters_by_status(client: TestClient, a: dict[str, str]) -> None:
    kept, cancelled = submit(client, a)["id"], submit(client, a)["id"]
    client.post(f"/v1/videos/{cancelled}/cancel", headers=a)
    pending = client.get("/v1/videos?status=pending", headers=a).json()["items"]
    assert [(i["id"], i["status"]) for i in pending] == [(kept, "pending")]
    ended = client.get("/v1/videos?status=cancelled", headers=a).json()["items"]
    assert [(i["id"], i["status"]) for i in ended] == [(cancelled, "cancelled")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=bogus", "status"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("cursor=bm90LWEtY3Vyc29y", "cursor"),
    ],
)
def test_a_bad_listing_query_is_422(
    client: TestClient, a: dict[str, str], query: str, field: str
) -> None:
    errors = fields_of(problem(client.get(f"/v1/videos?{query}", headers=a), 422))
    assert field in errors


# -- cancelling -------------------------------------------------------------------------------


def test_cancelling_a_pending_request_once(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    response = client.post(f"/v1/videos/{request_id}/cancel", headers=a)
    assert response.status_code == 202
    assert response.json() == {"id": request_id, "status": "cancelled"}
    assert stores.requests.get(request_id).status is RequestStatus.CANCELLED
    assert client.get(f"/v1/videos/{request_id}", headers=a).json()["status"] == "cancelled"
    problem(client.post(f"/v1/videos/{request_id}/cancel", headers=a), 409)


# -- clarification ----------------------------------------------------------------------------


def _ask(stores: Stores, request_id: str, question: str) -> None:
    stores.requests.transition(request_id, RequestStatus.VALIDATING)
    stores.requests.transition(
        request_id, RequestStatus.CLARIFICATION_NEEDED, details={"questions": [question]}
    )


def test_an_answer_sends_the_request_back_to_validation(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    _ask(stores, request_id, "Which topic?")
    detail = client.get(f"/v1/videos/{request_id}", headers=a).json()
    assert detail["status"] == "clarification_needed"
    assert detail["clarifying_questions"] == ["Which topic?"]
    response = client.post(
        f"/v1/videos/{request_id}/clarification", json={"answer": "photosynthesis"}, headers=a
    )
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "validating"
    record = stores.requests.get(request_id)
    assert record.status is RequestStatus.VALIDATING
    assert record.request_metadata["clarifications"] == ["photosynthesis"]
    detail = client.get(f"/v1/videos/{request_id}", headers=a).json()
    assert detail["clarifying_questions"] == [] and detail["clarification_rounds"] == 1


def test_an_answer_when_none_was_asked_is_a_conflict(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    path = f"/v1/videos/{request_id}/clarification"
    problem(client.post(path, json={"answer": "photosynthesis"}, headers=a), 409)
    assert stores.requests.get(request_id).request_metadata["clarifications"] == []


@pytest.mark.parametrize("body", [{}, {"answer": 5}, {"answer": "   "}, {"answer": "x" * 501}])
def test_a_missing_or_empty_answer_is_422(
    client: TestClient, stores: Stores, a: dict[str, str], body: dict[str, Any]
) -> None:
    request_id = submit(client, a)["id"]
    _ask(stores, request_id, "Which topic?")
    path = f"/v1/videos/{request_id}/clarification"
    assert "answer" in fields_of(problem(client.post(path, json=body, headers=a), 422))
    assert stores.requests.get(request_id).status is RequestStatus.CLARIFICATION_NEEDED


# -- events -----------------------------------------------------------------------------------


def test_the_event_stream_replays_every_event_and_ends_at_completion(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    expected = walk_to_completed(stores, request_id)
    response = client.get(f"/v1/videos/{request_id}/events", headers=a)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(response.text)
    assert [e.id for e in events] == list(range(1, len(expected) + 1))
    assert [(e.event, e.data["status"]) for e in events] == expected
    assert [e.data["sequence"] for e in events] == [e.id for e in events]
    assert events[-1].data["progress_percentage"] == 100
    assert events[-1].event == "status" and events[-1].data["status"] == "completed"
    assert response.text.rstrip().split("\n\n")[-1].startswith(f"id: {len(expected)}\n")


def test_the_event_stream_resumes_after_last_event_id(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    expected = walk_to_completed(stores, request_id)
    path = f"/v1/videos/{request_id}/events"
    resumed = parse_sse(client.get(path, headers={**a, "Last-Event-ID": "3"}).text)
    assert [e.id for e in resumed] == list(range(4, len(expected) + 1))
    assert [(e.event, e.data["status"]) for e in resumed] == expected[3:]
    by_query = parse_sse(client.get(f"{path}?after=3", headers=a).text)
    assert [e.id for e in by_query] == [e.id for e in resumed]
    problem(client.get(path, headers={**a, "Last-Event-ID": "three"}), 422)


def test_the_event_stream_follows_a_request_while_it_runs(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    expected: list[tuple[str, str]] = []

    def work() -> None:
        time.sleep(0.2)
        expected.extend(walk_to_completed(stores, request_id))

    worker = threading.Thread(target=work)
    worker.start()
    try:
        response = client.get(f"/v1/videos/{request_id}/events", headers=a)
    finally:
        worker.join(timeout=30)
    events = parse_sse(response.text)
    assert [e.id for e in events] == list(range(1, len(expected) + 1))
    assert [(e.event, e.data["status"]) for e in events] == expected


def test_the_event_stream_ends_when_the_student_is_asked(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    _ask(stores, request_id, "Which topic?")
    events = parse_sse(client.get(f"/v1/videos/{request_id}/events", headers=a).text)
    assert [e.data["status"] for e in events] == ["pending", "validating", "clarification_needed"]
    assert events[-1].data["details"] == {"questions": ["Which topic?"]}


# -- files ------------------------------------------------------------------------------------


@pytest.fixture
def delivered(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> tuple[str, dict[str, bytes], dict[str, str]]:
    """A completed request with every delivered file, and the signed links its detail lists."""
    request_id = submit(client, a)["id"]
    walk_to_completed(stores, request_id)
    contents = deliver_files(stores, request_id, video_bytes())
    detail = client.get(f"/v1/videos/{request_id}", headers=a).json()
    files: dict[str, str] = detail["files"]
    return request_id, contents, files


def test_a_completed_request_lists_a_signed_link_to_every_file(
    delivered: tuple[str, dict[str, bytes], dict[str, str]],
) -> None:
    request_id, _, files = delivered
    assert set(files) == set(DELIVERED_FILES)
    for name, link in files.items():
        assert urlsplit(link).path == f"/v1/videos/{request_id}/files/{name}"
        query = query_of(link)
        assert int(query["expires"]) > time.time() + 3000
        assert query["signature"]


def test_a_signed_link_works_without_a_key(
    client: TestClient, delivered: tuple[str, dict[str, bytes], dict[str, str]]
) -> None:
    _, contents, files = delivered
    for name, link in files.items():
        response = client.get(link)
        assert response.status_code == 200, (name, response.text)
        assert response.headers["content-type"] == DELIVERED_FILES[name]
        assert response.headers["etag"].startswith('"')
        assert response.content == contents[name]
    assert len(contents["video.mp4"]) == 100_000


def test_the_owner_fetches_a_file_with_its_key(
    client: TestClient, a: dict[str, str], delivered: tuple[str, dict[str, bytes], dict[str, str]]
) -> None:
    request_id, contents, _ = delivered
    response = client.get(f"/v1/videos/{request_id}/files/video.mp4", headers=a)
    assert response.status_code == 200
    assert response.content == contents["video.mp4"]


def test_a_tampered_or_expired_link_without_a_key_is_404(
    client: TestClient,
    stores: Stores,
    delivered: tuple[str, dict[str, bytes], dict[str, str]],
) -> None:
    request_id, _, files = delivered
    link = files["video.mp4"]
    signature = query_of(link)["signature"]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    problem(client.get(link.replace(signature, flipped)), 404)
    problem(client.get(urlsplit(link).path), 404)
    secret = stores.accounts.webhook_secret("org-a")
    expired = signed_path(secret, request_id, "video.mp4", 60, now=time.time() - 3600)
    problem(client.get(expired), 404)


def test_a_byte_range_is_served_as_206(
    client: TestClient, delivered: tuple[str, dict[str, bytes], dict[str, str]]
) -> None:
    _, contents, files = delivered
    video = contents["video.mp4"]
    response = client.get(files["video.mp4"], headers={"Range": "bytes=100-199"})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes 100-199/{len(video)}"
    assert response.headers["content-length"] == "100"
    assert response.content == video[100:200]
    tail = client.get(files["video.mp4"], headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == video[-10:]


def test_a_range_past_the_end_is_416(
    client: TestClient, delivered: tuple[str, dict[str, bytes], dict[str, str]]
) -> None:
    _, contents, files = delivered
    size = len(contents["video.mp4"])
    response = client.get(files["video.mp4"], headers={"Range": f"bytes={size}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{size}"


def test_a_matching_etag_answers_304(
    client: TestClient, delivered: tuple[str, dict[str, bytes], dict[str, str]]
) -> None:
    _, _, files = delivered
    etag = client.get(files["video.mp4"]).headers["etag"]
    response = client.get(files["video.mp4"], headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    other = client.get(files["video.mp4"], headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_an_unknown_file_name_is_404(
    client: TestClient, a: dict[str, str], delivered: tuple[str, dict[str, bytes], dict[str, str]]
) -> None:
    request_id, _, _ = delivered
    body = problem(client.get(f"/v1/videos/{request_id}/files/secrets.txt", headers=a), 404)
    assert "video.mp4" in body["detail"]


def test_a_request_still_running_has_no_files(
    client: TestClient, stores: Stores, a: dict[str, str]
) -> None:
    request_id = submit(client, a)["id"]
    assert client.get(f"/v1/videos/{request_id}", headers=a).json()["files"] == {}
    problem(client.get(f"/v1/videos/{request_id}/files/video.mp4", headers=a), 404)


# -- operations -------------------------------------------------------------------------------


def _gauge(text: str, name: str, status: str) -> float:
    match = re.search(rf'^{name}\{{status="{status}"\}} (\S+)$', text, re.MULTILINE)
    assert match is not None, text
    return float(match.group(1))


def test_metrics_count_requests_by_status(client: TestClient, a: dict[str, str]) -> None:
    ids = [submit(client, a)["id"] for _ in range(3)]
    client.post(f"/v1/videos/{ids[0]}/cancel", headers=a)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert _gauge(response.text, "vividly_requests", "pending") == 2
    assert _gauge(response.text, "vividly_requests", "cancelled") == 1
    assert _gauge(response.text, "vividly_requests", "completed") == 0
    assert re.search(r"^vividly_queue_depth 2\.0$", response.text, re.MULTILINE)


def test_readyz_checks_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "checks": {"database": "ok"}}


def test_each_api_call_logs_one_json_line_with_its_request_id_and_no_student_text(
    client: TestClient, a: dict[str, str]
) -> None:
    import io
    import json as jsonlib
    import logging

    from vividly_ray.observability.logs import configure_logging

    namespace = logging.getLogger("vividly")
    saved = (list(namespace.handlers), namespace.level, namespace.propagate)
    sink = io.StringIO()
    configure_logging("INFO", sink)
    try:
        request_id = submit(client, a)["id"]
        assert client.get(f"/v1/videos/{request_id}", headers=a).status_code == 200
    finally:
        namespace.handlers[:] = saved[0]
        namespace.setLevel(saved[1])
        namespace.propagate = saved[2]
    lines = [jsonlib.loads(line) for line in sink.getvalue().splitlines()]
    calls = [line for line in lines if line["message"].startswith("http ")]
    assert [c["status"] for c in calls] == [202, 200]
    assert calls[1]["request_id"] == request_id and calls[1]["severity"] == "INFO"
    assert "Explain" not in sink.getvalue()


@pytest.mark.parametrize("request_id", ["y\U0002b731\u00dc\u00fd", "a/b", "a b", "x" * 37, ""])
def test_a_client_request_id_must_be_safe_in_a_url(
    client: TestClient, a: dict[str, str], request_id: str
) -> None:
    answer = client.post("/v1/videos", json={**VALID_BODY, "request_id": request_id}, headers=a)
    body = problem(answer, 422)
    assert "request_id" in fields_of(body)


def test_a_uuid_request_id_names_the_request(client: TestClient, a: dict[str, str]) -> None:
    chosen = "0b8f3c9e-7d1a-4c2b-9e5f-1a2b3c4d5e6f"
    answer = submit(client, a, {**VALID_BODY, "request_id": chosen})
    assert answer["id"] == chosen
