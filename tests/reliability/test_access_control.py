"""Scenario 12, access control: every route of the API, as the app's own OpenAPI document lists
it, called on one organization's requests by everyone who should not reach them: another
organization, no key, a revoked key, malformed keys and a forged one. None of them may see or
change anything: the answer is 401 or 404, the body and headers hold none of the owner's data
(its ids, title, question, student and correlation ids, questions asked, file bytes), and the
owner's requests are exactly as they were afterwards. A /v1 route this test does not know fails
it, so a new route cannot ship uncovered.

Signed file links are checked too: one link opens one file of one request until it expires.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.api_fixtures import (
    VALID_BODY,
    bearer,
    deliver_files,
    make_client,
    open_stores,
    walk_to_completed,
)
from tests.reliability.ledger import Ledger
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.status import RequestStatus
from vividly_ray.media.hls import part_key, playlist_key
from vividly_ray.service.file_links import signed_path

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

OWNER, STRANGER = "org-owner", "org-stranger"
SECRET_QUESTION = "Explain how zebra-canary photosynthesis works in leaves"
SECRET_STUDENT = "student-zq81-canary"
SECRET_CORRELATION = "lms-corr-canary-55"
SECRET_TITLE = "The Canary Leaf Title 9182"
SECRET_ASKED = "Which part of the canary leaf do you mean?"
SECRET_VIDEO = b"canary video bytes 5521 of the owner"
CALL_DEADLINE_S = 20.0


@dataclass(frozen=True)
class Route:
    """How to call one documented operation: its body, and what a stranger with a valid key of
    its own may get back when the operation has no request id in its path."""

    body: dict[str, Any] | None = None
    stranger_may: frozenset[int] = frozenset()


# Every /v1 operation of the OpenAPI document; a new one must be added here to pass.
ROUTES: dict[tuple[str, str], Route] = {
    ("POST", "/v1/videos"): Route(
        {**VALID_BODY, "student_query": "How do magnets work?"}, frozenset({202})
    ),
    ("GET", "/v1/videos"): Route(None, frozenset({200})),
    ("GET", "/v1/videos/{request_id}"): Route(),
    ("DELETE", "/v1/videos/{request_id}"): Route(),
    ("GET", "/v1/videos/{request_id}/events"): Route(),
    ("POST", "/v1/videos/{request_id}/clarification"): Route({"answer": "the roots"}),
    ("POST", "/v1/videos/{request_id}/cancel"): Route(),
    ("GET", "/v1/videos/{request_id}/files/{name}"): Route(),
    ("GET", "/v1/videos/{request_id}/stream.m3u8"): Route(),
    ("GET", "/v1/videos/{request_id}/stream/{name}"): Route(),
}
FILE_NAMES = ("video.mp4", "captions.vtt", "manifest.json")
# The owner's completed request has a stream too; its parts carry the secret bytes.
STREAM_PARTS = ("init-0123456789abcdef.mp4", "scene-000.m4s")


@dataclass
class World:
    stores: Stores
    client: TestClient
    owner_key: str
    owner_requests: dict[str, str]  # kind -> request id
    stranger_key: str
    stranger_request: str
    callers: dict[str, dict[str, str]]  # name -> headers

    def secrets(self) -> list[str]:
        return [
            *self.owner_requests.values(),
            SECRET_QUESTION,
            SECRET_STUDENT,
            SECRET_CORRELATION,
            SECRET_TITLE,
            SECRET_ASKED,
            SECRET_VIDEO.decode(),
        ]


def _forged(key: str) -> str:
    """The owner's key id with another secret: a valid prefix and a bad secret."""
    prefix, key_id, secret = key.split("_", 2)
    return f"{prefix}_{key_id}_{'A' * len(secret)}"


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    stores = open_stores(tmp_path / "home", database_url)
    client = make_client(stores)
    client.__enter__()
    try:
        owner = stores.accounts.create_key(OWNER)
        revoked = stores.accounts.create_key(OWNER)
        stores.accounts.revoke_key(revoked.key_id)
        stranger = stores.accounts.create_key(STRANGER)
        body = {
            **VALID_BODY,
            "student_query": SECRET_QUESTION,
            "student_id": SECRET_STUDENT,
            "correlation_id": SECRET_CORRELATION,
        }
        created = {}
        for kind in ("pending", "asking", "completed", "running"):
            response = client.post(
                "/v1/videos", json=body, headers={**bearer(owner.key), "Idempotency-Key": kind}
            )
            assert response.status_code == 202, response.text
            created[kind] = response.json()["id"]
        repo = stores.requests
        repo.transition(created["asking"], RequestStatus.VALIDATING)
        repo.transition(
            created["asking"],
            RequestStatus.CLARIFICATION_NEEDED,
            details={"questions": [SECRET_ASKED]},
        )
        walk_to_completed(stores, created["completed"])
        repo.merge_metadata(created["completed"], {"title": SECRET_TITLE})
        deliver_files(stores, created["completed"], SECRET_VIDEO)
        for part in STREAM_PARTS:
            stores.blobs.put_bytes(part_key(created["completed"], part), SECRET_VIDEO, "video/mp4")
        stores.blobs.put_bytes(
            playlist_key(created["completed"]),
            f'#EXTM3U\n#EXT-X-MAP:URI="stream/{STREAM_PARTS[0]}"\n#EXTINF:2.0,\n'
            f"stream/{STREAM_PARTS[1]}\n#EXT-X-ENDLIST\n".encode(),
            "application/vnd.apple.mpegurl",
        )
        repo.transition(created["running"], RequestStatus.VALIDATING)
        repo.transition(created["running"], RequestStatus.RETRIEVING, progress=8)
        theirs = client.post("/v1/videos", json=VALID_BODY, headers=bearer(stranger.key))
        stranger_request = theirs.json()["id"]
        walk_to_completed(stores, stranger_request)
        deliver_files(stores, stranger_request, b"the stranger's own video")
        callers = {
            "another organization": bearer(stranger.key),
            "no key": {},
            "revoked key": bearer(revoked.key),
            "forged secret": bearer(_forged(owner.key)),
            "bare Bearer": {"Authorization": "Bearer"},
            "Bearer x": {"Authorization": "Bearer x"},
            "empty Bearer": {"Authorization": "Bearer   "},
            "Basic": {"Authorization": "Basic b3JnLW93bmVyOnNlY3JldA=="},
            "no scheme": {"Authorization": owner.key},
            "other scheme": {"Authorization": f"Token {owner.key}"},
            "key with a suffix": bearer(owner.key + "x"),
            "key id only": bearer("vk_" + owner.key_id),
        }
        yield World(stores, client, owner.key, created, stranger.key, stranger_request, callers)
    finally:
        client.__exit__(None, None, None)
        stores.db.dispose()


def _documented(client: TestClient) -> dict[tuple[str, str], dict[str, Any]]:
    document = client.get("/openapi.json").json()
    operations = {}
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                operations[(method.upper(), path)] = operation
    return operations


def _snapshot(stores: Stores, request_id: str) -> tuple[Any, ...]:
    record = stores.requests.get(request_id)
    events = stores.requests.events(request_id)
    return (
        record.status,
        record.progress_percentage,
        record.lease_token,
        record.lease_owner,
        record.request_metadata,
        [(e.sequence, e.event_type, e.status) for e in events],
    )


def _call(
    client: TestClient, method: str, url: str, headers: dict[str, str], body: Any
) -> httpx.Response | None:
    """The response, or None when none came within the deadline (a stream that never ends)."""
    result: list[httpx.Response | BaseException] = []

    def send() -> None:
        try:
            result.append(client.request(method, url, headers=headers, json=body))
        except BaseException as exc:  # reported as the result
            result.append(exc)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    thread.join(CALL_DEADLINE_S)
    if not result:
        return None
    if isinstance(result[0], BaseException):
        raise result[0]
    return result[0]


def _leaks(response: httpx.Response, secrets: list[str], allowed: set[str]) -> list[str]:
    text = response.text + " " + " ".join(f"{k}: {v}" for k, v in response.headers.items())
    return [secret for secret in secrets if secret not in allowed and secret in text]


def test_no_route_lets_anyone_but_the_owner_see_or_change_a_request(
    world: World, ledger: Ledger, database_url: str
) -> None:
    started = time.perf_counter()
    documented = _documented(world.client)
    v1 = {op for op in documented if op[1].startswith("/v1/")}
    uncovered = sorted(v1 - set(ROUTES))
    gone = sorted(set(ROUTES) - v1)
    before = {rid: _snapshot(world.stores, rid) for rid in world.owner_requests.values()}
    secrets = world.secrets()
    violations: list[str] = [f"route not covered: {m} {p}" for m, p in uncovered]
    violations += [f"route documented here but not served: {m} {p}" for m, p in gone]
    exercised: set[tuple[str, str]] = set()
    calls = 0
    for (method, template), operation in sorted(documented.items()):
        route = ROUTES.get((method, template))
        if route is None:
            continue
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        unknown = names - {"request_id", "name"}
        if unknown:
            violations.append(f"{method} {template}: no test values for {sorted(unknown)}")
            continue
        targets: list[dict[str, str]] = [{}]
        if "request_id" in names:
            targets = [{"request_id": rid} for rid in world.owner_requests.values()]
        if "name" in names:
            parts = STREAM_PARTS if "/stream/" in template else FILE_NAMES
            targets = [{**t, "name": name} for t in targets for name in parts]
        for values in targets:
            url = template.format(**values)
            for caller, headers in world.callers.items():
                sent_headers = dict(headers)
                if method == "POST" and template == "/v1/videos":
                    # The stranger reuses the owner's idempotency key: a new request of its own.
                    sent_headers["Idempotency-Key"] = "completed"
                response = _call(world.client, method, url, sent_headers, route.body)
                calls += 1
                exercised.add((method, template))
                where = f"{caller}: {method} {url}"
                if response is None:
                    violations.append(f"{where}: answered with a stream that does not end")
                    continue
                code = response.status_code
                stranger_ok = caller == "another organization" and code in route.stranger_may
                if code not in (401, 404) and not stranger_ok:
                    violations.append(f"{where}: {code} {response.text[:200]}")
                allowed = {values["request_id"]} if "request_id" in values else set()
                leaked = _leaks(response, secrets, allowed)
                if leaked:
                    violations.append(f"{where}: the body or headers show {leaked}")
                if code == 401 and response.headers.get("www-authenticate") != "Bearer":
                    violations.append(f"{where}: 401 without a Bearer challenge")
                created = response.json().get("id") if code == 202 else None
                if created in world.owner_requests.values():
                    violations.append(f"{where}: answered with the owner's request")
    # The stranger naming one of the owner's request ids in a submission learns nothing.
    for rid in world.owner_requests.values():
        named = world.client.post(
            "/v1/videos", json={**VALID_BODY, "request_id": rid}, headers=bearer(world.stranger_key)
        )
        calls += 1
        if named.status_code != 409:
            violations.append(f"a submission naming the owner's id {rid}: {named.status_code}")
        leaked = _leaks(named, secrets, {rid})
        if leaked:
            violations.append(f"a submission naming the owner's id shows {leaked}")
    # The other documented routes (operations) show nothing of any organization's requests.
    for (method, template), _ in sorted(documented.items()):
        if template.startswith("/v1/") or "{" in template or method != "GET":
            continue
        for caller in ("no key", "another organization"):
            response = world.client.get(template, headers=world.callers[caller])
            calls += 1
            leaked = _leaks(response, secrets, set())
            if leaked:
                violations.append(f"{caller}: GET {template} shows {leaked}")
    missed = sorted(set(ROUTES) & v1 - exercised)
    violations += [f"route never called: {m} {p}" for m, p in missed]
    after = {rid: _snapshot(world.stores, rid) for rid in world.owner_requests.values()}
    changed = sorted(rid for rid in before if before[rid] != after[rid])
    violations += [f"the owner's request {rid} changed" for rid in changed]
    # The owner still reaches everything it owns.
    owner = bearer(world.owner_key)
    for kind, rid in world.owner_requests.items():
        if world.client.get(f"/v1/videos/{rid}", headers=owner).status_code != 200:
            violations.append(f"the owner lost its {kind} request")
    completed = world.owner_requests["completed"]
    for path in ("stream.m3u8", *(f"stream/{part}" for part in STREAM_PARTS)):
        got = world.client.get(f"/v1/videos/{completed}/{path}", headers=owner)
        if got.status_code != 200:
            violations.append(f"the owner cannot fetch {path} of its video: {got.status_code}")
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    ledger.record(
        f"12. access control: every route x {len(world.callers)} callers ({backend})",
        runs=calls,
        faults=calls,
        violations=len(violations),
        seconds=time.perf_counter() - started,
        routes=len(exercised),
        documented_v1=len(v1),
        callers=len(world.callers),
        owner_requests=len(world.owner_requests),
    )
    assert violations == [], "\n".join(violations[:40])


def _query(link: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(link).query).items()}


def test_a_signed_link_opens_one_file_of_one_request_until_it_expires(
    world: World, ledger: Ledger, database_url: str
) -> None:
    started = time.perf_counter()
    stores, client = world.stores, world.client
    completed = world.owner_requests["completed"]
    owner_secret = stores.accounts.webhook_secret(OWNER)
    stranger_secret = stores.accounts.webhook_secret(STRANGER)
    link = signed_path(owner_secret, completed, "video.mp4", 600)
    query = _query(link)
    # A second finished request of the owner, with files of its own.
    second = client.post("/v1/videos", json=VALID_BODY, headers=bearer(world.owner_key))
    second_id = second.json()["id"]
    walk_to_completed(stores, second_id)
    deliver_files(stores, second_id, b"the owner's second video")

    def swapped(**parts: str) -> str:
        request_id = parts.get("request_id", completed)
        name = parts.get("name", "video.mp4")
        params = {
            "expires": parts.get("expires", query["expires"]),
            "signature": parts.get("signature", query["signature"]),
        }
        return f"/v1/videos/{request_id}/files/{name}?{urlencode(params)}"

    tampered_expiry = str(int(query["expires"]) + 86_400)
    refused: dict[str, str] = {
        "another request of the owner": swapped(request_id=second_id),
        "the stranger's request": swapped(request_id=world.stranger_request),
        "another file name": swapped(name="captions.vtt"),
        "the manifest": swapped(name="manifest.json"),
        "a later expiry": swapped(expires=tampered_expiry),
        "no signature": f"/v1/videos/{completed}/files/video.mp4?expires={query['expires']}",
        "no expiry": f"/v1/videos/{completed}/files/video.mp4?signature={query['signature']}",
        "an expired link": signed_path(
            owner_secret, completed, "video.mp4", 60, now=time.time() - 3600
        ),
        "expired a second ago": signed_path(
            owner_secret, completed, "video.mp4", 0, now=time.time() - 1
        ),
        "signed with another organization's secret": signed_path(
            stranger_secret, completed, "video.mp4", 600
        ),
        "a truncated signature": swapped(signature=query["signature"][:-1]),
        "an upper-cased signature": swapped(signature=query["signature"].upper()),
    }
    violations: list[str] = []
    statuses: dict[str, int] = {}
    works = client.get(link)
    if works.status_code != 200 or works.content != SECRET_VIDEO:
        violations.append(f"the signed link itself does not work: {works.status_code}")
    for what, url in refused.items():
        response = client.get(url)
        statuses[what] = response.status_code
        if response.status_code != 404:
            violations.append(f"{what}: {response.status_code}")
        if SECRET_VIDEO in response.content or b"second video" in response.content:
            violations.append(f"{what}: served the file")
    # A stranger's key does not turn a bad link into a good one.
    for what in ("another request of the owner", "an expired link", "a later expiry"):
        response = client.get(refused[what], headers=bearer(world.stranger_key))
        if response.status_code != 404:
            violations.append(f"{what}, with the stranger's key: {response.status_code}")
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    ledger.record(
        f"12. access control: signed file links ({backend})",
        runs=1 + len(refused) + 3,
        faults=len(refused) + 3,
        violations=len(violations),
        seconds=time.perf_counter() - started,
        refused=sum(1 for code in statuses.values() if code == 404),
    )
    assert violations == [], violations
