"""Scenario 11, rate limits under concurrent load: an organization hammering past its limit gets
429 with ``Retry-After`` and a problem+json body, while another organization's calls in the same
window all succeed. The count lives in the database, so two Gateway replicas (two apps, each
with its own engine, on one database) share it: the limit is the limit, not twice it."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.integration.api_fixtures import (
    PROBLEM_JSON,
    VALID_BODY,
    bearer,
    deliver_files,
    make_client,
    open_stores,
    walk_to_completed,
)
from tests.reliability.ledger import Ledger
from vividly_ray.bootstrap import Stores
from vividly_ray.service.file_links import signed_path

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LIMIT = 20
HAMMER = 60  # org A's calls in one minute: three times its limit
NEIGHBOUR = 15  # org B's calls in the same minute, under its limit
MARGIN_S = 5.0  # the whole burst must fit in one wall-clock minute (it takes 1-2 s)


@dataclass
class Replicas:
    stores: tuple[Stores, Stores]
    clients: tuple[TestClient, TestClient]


@pytest.fixture
def replicas(tmp_path: Path, database_url: str) -> Iterator[Replicas]:
    """Two Gateway replicas: separate stores (engines, pools) and apps on one database."""
    first = open_stores(tmp_path / "home-1", database_url)
    second = open_stores(tmp_path / "home-2", database_url)
    clients = tuple(make_client(stores, rate_limit_per_minute=LIMIT) for stores in (first, second))
    for client in clients:
        client.__enter__()
    try:
        yield Replicas((first, second), (clients[0], clients[1]))
    finally:
        for client in clients:
            client.__exit__(None, None, None)
        first.db.dispose()
        second.db.dispose()


def _window() -> int:
    return int(time.time() // 60)


def _wait_for_a_fresh_window() -> None:
    into = time.time() % 60
    if into > 60 - MARGIN_S:
        time.sleep(60 - into + 0.3)


def _at_once(calls: list[Callable[[], httpx.Response]]) -> list[httpx.Response | Exception]:
    start = threading.Barrier(len(calls))
    results: list[httpx.Response | Exception] = [RuntimeError("not run")] * len(calls)

    def run(index: int) -> None:
        start.wait(timeout=60)
        try:
            results[index] = calls[index]()
        except Exception as exc:  # counted as a violation below
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _limited_properly(response: httpx.Response, window: int) -> list[str]:
    """What is wrong with a 429, if anything."""
    problems = []
    retry_after = response.headers.get("retry-after", "")
    if not retry_after.isdigit():
        problems.append(f"Retry-After is not whole seconds: {retry_after!r}")
    elif not 1 <= int(retry_after) <= (window + 1) * 60 - int(time.time()) + 2:
        problems.append(f"Retry-After {retry_after} is not the time left in the minute")
    if response.headers.get("content-type") != PROBLEM_JSON:
        problems.append(f"content type {response.headers.get('content-type')}")
        return problems
    body: dict[str, Any] = response.json()
    if body.get("status") != 429 or not body.get("type") or not body.get("title"):
        problems.append(f"not a 429 problem: {body}")
    if retry_after.isdigit() and body.get("retry_after") != int(retry_after):
        problems.append(f"body retry_after {body.get('retry_after')} != header {retry_after}")
    return problems


def test_one_organization_past_its_limit_is_throttled_and_another_is_not(
    replicas: Replicas, ledger: Ledger, database_url: str
) -> None:
    stores = replicas.stores[0]
    violations: list[str] = []
    for attempt in range(2):  # once more, as new organizations, if the burst crossed a minute
        keys = {org: stores.accounts.create_key(f"{org}-{attempt}") for org in ("org-a", "org-b")}
        a, b = bearer(keys["org-a"].key), bearer(keys["org-b"].key)
        _wait_for_a_fresh_window()
        started = time.perf_counter()
        window = _window()
        # One finished request of org A (its one counted call), for the uncounted routes.
        first = replicas.clients[0].post("/v1/videos", json=VALID_BODY, headers=a)
        assert first.status_code == 202, first.text
        request_id = first.json()["id"]
        walk_to_completed(stores, request_id)
        deliver_files(stores, request_id, b"video of org-a")
        link = signed_path(keys["org-a"].webhook_secret, request_id, "video.mp4", 600)

        def call(client: TestClient, headers: dict[str, str], n: int) -> httpx.Response:
            if n % 3 == 0:
                return client.post("/v1/videos", json=VALID_BODY, headers=headers)
            return client.get("/v1/videos?limit=1", headers=headers)

        # Org A's calls on both replicas, with org B's interleaved among them.
        plan: list[tuple[str, Callable[[], httpx.Response]]] = []
        for n in range(HAMMER - 1):
            plan.append(("a", partial(call, replicas.clients[n % 2], a, n)))
            if n % 4 == 0 and sum(owner == "b" for owner, _ in plan) < NEIGHBOUR:
                plan.append(("b", partial(call, replicas.clients[(n + 1) % 2], b, n)))
        owners = [owner for owner, _ in plan]
        results = _at_once([run for _, run in plan])
        # While org A is throttled, its event stream and its downloads still answer.
        stream = replicas.clients[1].get(f"/v1/videos/{request_id}/events", headers=a)
        download = replicas.clients[0].get(link)
        if _window() == window:
            break
        assert attempt == 0, "two bursts in a row crossed a minute boundary"
    seconds = time.perf_counter() - started
    outcome: Counter[str] = Counter()
    for owner, result in zip(owners, results, strict=True):
        if isinstance(result, Exception):
            violations.append(f"org {owner}: {result!r}")
            continue
        code = result.status_code
        outcome[f"{owner}:{code}"] += 1
        if code >= 500:
            violations.append(f"org {owner}: {code} {result.text}")
        elif owner == "b" and code not in (200, 202):
            violations.append(f"org B was refused: {code} {result.text}")
        elif owner == "a" and code == 429:
            violations.extend(_limited_properly(result, window))
        elif owner == "a" and code not in (200, 202):
            violations.append(f"org A got {code}: {result.text}")
    a_calls = 1 + sum(1 for owner in owners if owner == "a")
    a_accepted = 1 + outcome["a:200"] + outcome["a:202"]
    b_accepted = outcome["b:200"] + outcome["b:202"]
    if a_accepted != LIMIT:
        violations.append(f"org A had {a_accepted} calls accepted, its limit is {LIMIT}")
    if outcome["a:429"] != a_calls - LIMIT:
        violations.append(f"org A got {outcome['a:429']} 429s for {a_calls - LIMIT} extra calls")
    if stream.status_code != 200 or download.content != b"video of org-a":
        violations.append(
            f"uncounted routes throttled: {stream.status_code} {download.status_code}"
        )
    backend = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    ledger.record(
        f"11. rate limit per organization, 2 replicas ({backend})",
        runs=a_calls + b_accepted + outcome["b:429"],
        faults=a_calls - LIMIT,
        violations=len(violations),
        seconds=seconds,
        limit=LIMIT,
        a_accepted=a_accepted,
        a_throttled=outcome["a:429"],
        b_calls=sum(1 for owner in owners if owner == "b"),
        b_accepted=b_accepted,
    )
    assert violations == [], violations
