"""4. Poison messages: malformed and oversized intake messages published among healthy ones, through
the real Pub/Sub emulator and the bridge's real intake loop, on the real PostgreSQL.

Invariants:
- every poison message is recorded in ``rejected_messages`` with its reason, once per delivery,
  and reaches the dead-letter topic after the subscription's ``max_delivery_attempts``;
- no healthy message is dead-lettered, and every healthy one (even when published twice)
  becomes exactly one request;
- nothing is acknowledged before its row is committed: each ``ack`` (and each ``nack`` of a
  rejected message) is checked, at that moment, through a second connection that sees only
  committed rows.

Nothing is rendered: only intake runs, so the scenario stays fast.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.cloud import pubsub_v1
from google.cloud.pubsub_v1.subscriber.message import Message
from sqlalchemy import func, select

from tests.pubsub_emulator import PROJECT, create_topology, pull
from tests.reliability.ledger import Ledger
from vividly_ray.bootstrap import build_pubsub_bridge, build_stores
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.orm import ContentRequest, RejectedMessage
from vividly_ray.persistence.results_outbox import SqlRejections
from vividly_ray.service.message_intake import MAX_MESSAGE_BYTES
from vividly_ray.settings import load_settings

pytestmark = pytest.mark.integration

MAX_DELIVERIES = 5  # the smallest dead-letter policy Pub/Sub accepts
HEALTHY = 24
REPUBLISHED = 8  # healthy messages published a second time
COPIES = 2  # of each poison kind


def healthy_body(n: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "student_query": f"How do volcanoes erupt? (lesson {n})",
        "grade_level": str(1 + n % 12),
        "duration_minutes": 1 + n % 3,
        "student_id": f"student-{n}",
        "correlation_id": f"healthy-{n}",
    }
    if n % 2 == 0:  # half name their request id, half are keyed by their content
        body["request_id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"poison-test-{n}"))
    return body


def _valid(n: int) -> dict[str, Any]:
    return {
        "student_query": "Explain the water cycle",
        "grade_level": "5",
        "duration_minutes": 2,
        "correlation_id": f"poison-{n}",
    }


# kind -> (the message body for copy n, what its recorded reason must contain)
POISON: dict[str, tuple[Callable[[int], bytes], str]] = {
    "not-json": (lambda n: b"{not json " + str(n).encode(), "is not JSON"),
    "not-utf8": (lambda n: b"\xff\xfe\x00garbage" + bytes([n]), "is not JSON"),
    "json-array": (lambda n: json.dumps([n, "water"]).encode(), "must be a JSON object"),
    "missing-fields": (
        lambda n: json.dumps({"student_query": f"What is rain? {n}"}).encode(),
        "grade_level: is required",
    ),
    "bad-grade": (
        lambda n: json.dumps({**_valid(n), "grade_level": "15"}).encode(),
        "grade_level:",
    ),
    # Valid fields plus padding: only the size limit keeps this one from becoming a request
    # (fields a message does not know are ignored).
    "oversized": (
        lambda n: json.dumps({**_valid(n), "padding": "x" * (MAX_MESSAGE_BYTES + 1024)}).encode(),
        f"the limit is {MAX_MESSAGE_BYTES} bytes",
    ),
}


class AckAudit:
    """Wraps ``Message.ack``/``nack``: before the SDK sends either, checks through its own
    connection that what the verdict rests on is committed."""

    def __init__(self, database_url: str) -> None:
        self._db = Database.from_url(database_url)
        self._lock = threading.Lock()
        self.acks: Counter[str] = Counter()
        self.nacks: Counter[str] = Counter()
        self.violations: list[str] = []

    def _committed_request(self, correlation_id: str) -> int:
        with self._db.sessions() as session:
            query = select(func.count()).where(ContentRequest.correlation_id == correlation_id)
            return int(session.scalar(query) or 0)

    def _committed_rejection(self, message_id: str) -> int:
        with self._db.sessions() as session:
            row = session.get(RejectedMessage, message_id)
            return 0 if row is None else row.deliveries

    def ack(self, message: Message) -> None:
        case = message.attributes.get("case", "")
        with self._lock:
            self.acks[case] += 1
        if case.startswith("healthy-"):
            found = self._committed_request(case)
            if found != 1:
                self._violation(f"{case} acked with {found} committed rows")
        else:
            self._violation(f"poison message {case} was acknowledged")

    def nack(self, message: Message) -> None:
        case = message.attributes.get("case", "")
        with self._lock:
            self.nacks[case] += 1
        if case.startswith("healthy-"):
            return  # a healthy one is given back only when the database failed: not here
        seen = self._committed_rejection(str(message.message_id))
        attempt = message.delivery_attempt or 0
        if seen < attempt:
            self._violation(f"{case} given back before delivery {attempt} was recorded ({seen})")

    def _violation(self, text: str) -> None:
        with self._lock:
            self.violations.append(text)

    def close(self) -> None:
        self._db.dispose()


def _publish_all(topic: str, messages: list[tuple[str, bytes]]) -> dict[str, str]:
    """Publish (case, data) pairs, interleaved as given; returns the message id of each case's
    first publish."""
    publisher = pubsub_v1.PublisherClient()
    futures = [(case, publisher.publish(topic, data, case=case)) for case, data in messages]
    ids: dict[str, str] = {}
    for case, future in futures:
        ids.setdefault(case, str(future.result(timeout=30)))
    return ids


def test_poison_messages_are_dead_lettered_and_healthy_ones_become_one_request_each(
    pubsub_host: str,
    postgres_url: str,
    tmp_path: Path,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started = time.monotonic()
    topology = create_topology(uuid.uuid4().hex[:8], max_delivery_attempts=MAX_DELIVERIES)
    audit = AckAudit(postgres_url)
    real_ack, real_nack = Message.ack, Message.nack

    def ack(self: Message) -> None:
        audit.ack(self)
        real_ack(self)

    def nack(self: Message) -> None:
        audit.nack(self)
        real_nack(self)

    monkeypatch.setattr(Message, "ack", ack)
    monkeypatch.setattr(Message, "nack", nack)

    healthy = {f"healthy-{n}": json.dumps(healthy_body(n)).encode() for n in range(HEALTHY)}
    poison = {
        f"{kind}-{copy}": make(copy) for kind, (make, _) in POISON.items() for copy in range(COPIES)
    }
    # Interleaved: a poison message after every two healthy ones, then the second publishes.
    order: list[tuple[str, bytes]] = []
    poison_items = list(poison.items())
    for n, item in enumerate(healthy.items()):
        order.append(item)
        if n % 2 == 1 and poison_items:
            order.append(poison_items.pop(0))
    order.extend(poison_items)
    order.extend(list(healthy.items())[:REPUBLISHED])

    settings = load_settings(
        {},
        home=tmp_path / "home",
        database_url=postgres_url,
        google_cloud_project=PROJECT,
        pubsub_subscription=topology.subscription,
        poll_seconds=0.1,
    )
    stores = build_stores(settings)
    bridge = build_pubsub_bridge(settings, stores)
    assert bridge is not None and bridge.intake is not None
    bridge.start()
    try:
        ids = _publish_all(topology.requests_topic, order)
        dead = pull(topology.dead_letter_subscription, wait_s=90, want=len(poison))
        dead_letter_s = time.monotonic() - started
        # Anything more arriving now would be a healthy message or a second copy.
        extra = pull(topology.dead_letter_subscription, wait_s=3, want=1)
        deadline = time.monotonic() + 30
        while sum(audit.acks[c] for c in healthy) < HEALTHY + REPUBLISHED:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
    finally:
        bridge.stop()
        audit.close()
    seconds = time.monotonic() - started

    violations = list(audit.violations)
    dead_cases = Counter(m.message.attributes.get("case", "") for m in [*dead, *extra])
    for case in poison:
        if dead_cases[case] != 1:
            violations.append(f"{case} reached the dead-letter topic {dead_cases[case]} times")
    for case in set(dead_cases) - set(poison):
        violations.append(f"{case} was dead-lettered")
    for message in dead:
        case = message.message.attributes.get("case", "")
        if case in poison and message.message.data != poison[case]:
            violations.append(f"{case} reached the dead-letter topic altered")

    rejections = SqlRejections(stores.db)
    deliveries: list[int] = []
    for case in poison:
        rejection = rejections.get(ids[case])
        kind = case.rsplit("-", 1)[0]
        if rejection is None:
            violations.append(f"{case} has no rejected_messages row")
            continue
        deliveries.append(rejection.deliveries)
        if POISON[kind][1] not in rejection.reason:
            violations.append(f"{case} rejected for {rejection.reason!r}")
        if rejection.deliveries != MAX_DELIVERIES:
            violations.append(f"{case} was delivered {rejection.deliveries} times")
        if len(rejection.body_excerpt) > 2000:
            violations.append(f"{case} kept {len(rejection.body_excerpt)} characters of its body")
    if rejections.count() != len(poison):
        violations.append(f"{rejections.count()} rejections for {len(poison)} poison messages")

    records, _ = stores.requests.list_requests("platform", limit=100)
    by_correlation = Counter(r.correlation_id for r in records)
    for case in healthy:
        if by_correlation[case] != 1:
            violations.append(f"{case} became {by_correlation[case]} requests")
    for n in range(0, HEALTHY, 2):
        wanted = healthy_body(n)["request_id"]
        if not any(r.request_id == wanted for r in records):
            violations.append(f"healthy-{n} was not recorded under its own request id")
    if len(records) != HEALTHY:
        violations.append(f"{len(records)} requests for {HEALTHY} healthy messages")
    acked = sum(audit.acks[c] for c in healthy)
    if acked != HEALTHY + REPUBLISHED:
        violations.append(f"{acked} acks for {HEALTHY + REPUBLISHED} healthy publishes")
    stores.db.dispose()

    ledger.record(
        "4. poison messages: malformed + oversized among healthy (Pub/Sub emulator)",
        runs=len(order),
        faults=len(poison),
        violations=len(violations),
        seconds=seconds,
        healthy=HEALTHY,
        republished=REPUBLISHED,
        poison=len(poison),
        dead_lettered=sum(dead_cases[c] for c in poison),
        requests=len(records),
        deliveries_per_poison=max(deliveries, default=0),
        acks_checked=sum(audit.acks.values()),
        nacks_checked=sum(audit.nacks.values()),
        dead_letter_s=round(dead_letter_s, 1),
    )
    assert violations == []
