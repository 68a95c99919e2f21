"""Scenario 2, duplicate intake: one request per idempotency key, request id or message, however
often and however concurrently it arrives, over HTTP (two Gateway replicas on one database) and
through the Pub/Sub intake, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_fixtures import VALID_BODY, bearer, make_client, open_stores
from tests.reliability.ledger import Ledger
from vividly_ray.bootstrap import Stores
from vividly_ray.persistence.results_outbox import SqlRejections
from vividly_ray.service.intake import Intake, IntakePolicy
from vividly_ray.service.message_intake import (
    IntakeMessage,
    MessageIntake,
    MessageOutcome,
    Verdict,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

BURST = 50
REDELIVERIES = 5
ORG = "platform"  # the Pub/Sub intake's default organization, and the HTTP caller's
SUBSCRIPTION = "projects/p/subscriptions/requests"
POLICY = IntakePolicy(max_queue_depth=1000, allow_private_callbacks=False)


@dataclass
class Rig:
    stores: Stores
    replicas: tuple[TestClient, TestClient]
    headers: dict[str, str]
    pubsub: MessageIntake

    def rows(self, organization: str = ORG) -> list[str]:
        records, _ = self.stores.requests.list_requests(organization, limit=100)
        return [record.request_id for record in records]


@pytest.fixture
def rig(tmp_path: Path, database_url: str) -> Iterator[Rig]:
    stores = open_stores(tmp_path / "home", database_url)
    replicas = (make_client(stores, policy=POLICY), make_client(stores, policy=POLICY))
    for client in replicas:
        client.__enter__()
    pubsub = MessageIntake(
        Intake(stores.requests, POLICY),
        SqlRejections(stores.db),
        source=SUBSCRIPTION,
        default_organization=ORG,
    )
    key = stores.accounts.create_key(ORG)
    try:
        yield Rig(stores, replicas, bearer(key.key), pubsub)
    finally:
        for client in replicas:
            client.__exit__(None, None, None)
        stores.db.dispose()


def _at_once(calls: list[Callable[[], Any]], timeout_s: float = 120.0) -> list[Any]:
    """Run every call on its own thread, released together; their results in call order."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        start.wait()
        try:
            results[index] = call()
        except Exception as exc:  # a crash is a result to count, not a test error
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(thread.is_alive() for thread in threads), "a call did not finish in time"
    return results


def _post(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Callable[[], Any]:
    return lambda: client.post("/v1/videos", json=body, headers=headers)


def _answer(response: Any) -> tuple[int, str | None]:
    """(status, request id) of an HTTP answer; an exception counts as a 599 without an id."""
    if isinstance(response, Exception):
        return 599, None
    found = response.json().get("id") if response.status_code < 300 else None
    return response.status_code, found


def _message(body: dict[str, Any], message_id: str, attempt: int | None = 1) -> IntakeMessage:
    return IntakeMessage(
        message_id=message_id,
        data=json.dumps(body).encode(),
        attributes={},
        publish_time=datetime.now(UTC),
        delivery_attempt=attempt,
    )


def test_one_idempotency_key_sent_50_times_at_once_makes_one_request(
    rig: Rig, ledger: Ledger, database_url: str
) -> None:
    started = time.perf_counter()
    headers = {**rig.headers, "Idempotency-Key": "burst-50"}
    calls = [_post(rig.replicas[i % 2], headers, VALID_BODY) for i in range(BURST)]
    answers = [_answer(r) for r in _at_once(calls)]
    rows = rig.rows()
    codes = [code for code, _ in answers]
    ids = {found for _, found in answers}
    server_errors = sum(1 for code in codes if code >= 500)
    unexpected = sum(1 for code in codes if code not in (200, 202))
    mismatched = sum(1 for _, found in answers if found not in rows[:1])
    violations = (
        max(0, len(rows) - 1) + (len(rows) == 0) + mismatched + unexpected + (codes.count(202) != 1)
    )
    ledger.record(
        f"2. duplicate intake: Idempotency-Key x{BURST} ({_backend(database_url)})",
        runs=BURST,
        faults=BURST - 1,
        violations=violations,
        seconds=time.perf_counter() - started,
        rows=len(rows),
        created=codes.count(202),
        replayed=codes.count(200),
        server_errors=server_errors,
        distinct_ids=len(ids),
    )
    assert server_errors == 0, codes
    assert len(rows) == 1, rows
    assert sorted(codes) == [200] * (BURST - 1) + [202]
    assert ids == {rows[0]}


def test_one_key_with_two_bodies_at_once_keeps_the_first_and_conflicts_the_other(
    rig: Rig, ledger: Ledger, database_url: str
) -> None:
    started = time.perf_counter()
    headers = {**rig.headers, "Idempotency-Key": "two-bodies"}
    other = {**VALID_BODY, "grade_level": 6}
    calls = [_post(rig.replicas[i % 2], headers, VALID_BODY if i % 2 else other) for i in range(20)]
    answers = [_answer(r) for r in _at_once(calls)]
    rows = rig.rows()
    violations = abs(len(rows) - 1)
    # Whichever body was recorded first wins: its senders get the request, the others 409.
    kept = rig.stores.requests.get(rows[0]).grade_level if rows else None
    winner_parity = 1 if kept == "5" else 0
    for index, (code, found) in enumerate(answers):
        if index % 2 == winner_parity:
            violations += code not in (200, 202) or found not in rows[:1]
        else:
            violations += code != 409
    # And once more, after the burst: the same key with another body is a conflict.
    late = rig.replicas[0].post(
        "/v1/videos", json={**VALID_BODY, "duration_minutes": 3}, headers=headers
    )
    violations += late.status_code != 409
    violations += late.headers.get("content-type") != "application/problem+json"
    violations += len(rig.rows()) != 1
    codes = [code for code, _ in answers]
    ledger.record(
        f"2. duplicate intake: one key, two bodies x20 ({_backend(database_url)})",
        runs=len(calls) + 1,
        faults=len(calls),
        violations=violations,
        seconds=time.perf_counter() - started,
        rows=len(rig.rows()),
        conflicts=codes.count(409) + (late.status_code == 409),
        server_errors=sum(1 for code in codes if code >= 500),
    )
    assert violations == 0, (answers, late.status_code, late.text)
    assert rig.stores.requests.get(rows[0]).grade_level == kept


def test_a_message_redelivered_5_times_makes_one_request(
    rig: Rig, ledger: Ledger, database_url: str
) -> None:
    started = time.perf_counter()
    named = {**VALID_BODY, "request_id": "msg-request-1", "correlation_id": "lms-1"}
    unnamed = {**VALID_BODY, "student_query": "How do volcanoes erupt?"}
    violations = 0
    outcomes = []
    for body in (named, unnamed):
        # The same message delivered again (one message id), at once and then one by one, and
        # a second publish of the same content (another message id) the same day.
        deliveries: list[Callable[[], Any]] = [
            partial(rig.pubsub.handle, _message(body, "m-1")) for _ in range(REDELIVERIES)
        ]
        burst = _at_once(deliveries)
        again = [rig.pubsub.handle(_message(body, "m-1")) for _ in range(REDELIVERIES)]
        republished = rig.pubsub.handle(_message(body, "m-2"))
        seen = [*burst, *again, republished]
        outcomes += seen
        crashed = [o for o in seen if isinstance(o, Exception)]
        ids = {o.request_id for o in seen if not isinstance(o, Exception)}
        created = sum(1 for o in seen if not isinstance(o, Exception) and o.created)
        violations += len(crashed) + (len(ids) != 1) + (created != 1)
        violations += sum(
            1 for o in seen if not isinstance(o, Exception) and o.verdict != Verdict.ACK
        )
    rows = rig.rows()
    violations += abs(len(rows) - 2)
    violations += "msg-request-1" not in rows
    ledger.record(
        f"2. duplicate intake: Pub/Sub redelivery x{REDELIVERIES} ({_backend(database_url)})",
        runs=len(outcomes),
        faults=len(outcomes) - 2,
        violations=violations,
        seconds=time.perf_counter() - started,
        messages=2,
        rows=len(rows),
    )
    assert violations == 0, (outcomes, rows)


def test_a_message_and_an_http_request_with_one_request_id_make_one_request(
    rig: Rig, ledger: Ledger, database_url: str
) -> None:
    started = time.perf_counter()
    violations = 0
    runs = 0
    orders = ("http first", "message first", "at once")
    for number, order in enumerate(orders):
        request_id = f"shared-id-{number}"
        body = {**VALID_BODY, "request_id": request_id}
        http = _post(rig.replicas[number % 2], rig.headers, body)

        def deliver(attempt: int, b: dict[str, Any] = body) -> Any:
            return rig.pubsub.handle(_message(b, f"m-{b['request_id']}", attempt))

        if order == "http first":
            results = [http(), deliver(1), deliver(2)]
        elif order == "message first":
            results = [deliver(1), http(), http()]
        else:
            results = _at_once([http] * 5 + [partial(deliver, a) for a in range(1, 6)])
        runs += len(results)
        for result in results:
            if isinstance(result, Exception):
                violations += 1
            elif isinstance(result, MessageOutcome):
                violations += result.verdict != Verdict.ACK or result.request_id != request_id
            else:
                code, found = _answer(result)
                violations += code not in (200, 202) or found != request_id
        violations += rig.rows().count(request_id) != 1
    rows = rig.rows()
    violations += len(rows) != len(orders)
    # Another organization naming the same id gets a conflict, never the request.
    stranger = bearer(rig.stores.accounts.create_key("other-school").key)
    response = rig.replicas[0].post(
        "/v1/videos", json={**VALID_BODY, "request_id": "shared-id-0"}, headers=stranger
    )
    violations += response.status_code != 409
    violations += rig.rows("other-school") != []
    ledger.record(
        f"2. duplicate intake: message + HTTP, one request_id ({_backend(database_url)})",
        runs=runs + 1,
        faults=runs - len(orders),
        violations=violations,
        seconds=time.perf_counter() - started,
        rows=len(rows),
        stranger_status=response.status_code,
    )
    assert violations == 0, (rows, response.status_code, response.text)


def _backend(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"
