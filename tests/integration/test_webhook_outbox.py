"""The webhook outbox and its relay, over real databases and a real local HTTP receiver."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select, update

from vividly_ray.domain.models import ErrorInfo, Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus, band_progress
from vividly_ray.notify.webhooks import HttpWebhookSender, WebhookVerificationError, verify
from vividly_ray.persistence.accounts import SqlAccounts
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.orm import WebhookDelivery, utcnow
from vividly_ray.persistence.outbox import SqlWebhookOutbox
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.service.webhook_relay import WebhookRelay

pytestmark = pytest.mark.integration

ORG = "org"
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    verified: bool

    @property
    def document(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """Answers each POST with the next code of ``answers`` (the last one repeats)."""

    secret: str
    url: str = ""
    answers: list[int] = field(default_factory=lambda: [204])
    delay_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, headers: dict[str, str], body: bytes) -> int:
        try:
            verify(self.secret, headers, body)
            verified = True
        except WebhookVerificationError:
            verified = False
        with self.lock:
            self.received.append(Received(headers, body, verified))
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        time.sleep(self.delay_s)
        return answer if verified else 401


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {name.lower(): value for name, value in self.headers.items()}
            self.send_response(receiver.take(headers, body))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@dataclass
class Rig:
    db: Database
    repo: SqlRequestRepository
    outbox: SqlWebhookOutbox
    accounts: SqlAccounts
    receiver: Receiver
    sender: HttpWebhookSender

    def relay(self) -> WebhookRelay:
        return WebhookRelay(self.outbox, self.accounts, self.sender, max_attempts=MAX_ATTEMPTS)

    def new_request(self, callback: bool = True) -> str:
        request = VideoRequest(
            question="Explain the water cycle",
            grade=Grade(5),
            minutes=1,
            organization_id=ORG,
            callback_url=f"{self.receiver.url}/hooks/vividly" if callback else None,
        )
        record, created = self.repo.create(request)
        assert created
        return record.request_id

    def complete(self, request_id: str) -> None:
        for status in PIPELINE[1:]:
            self.repo.transition(request_id, status, progress=band_progress(status, 0.0))

    def fail(self, request_id: str) -> None:
        self.repo.transition(request_id, RequestStatus.VALIDATING)
        error = ErrorInfo("validating", "refused", "not suitable for a K-12 audience")
        self.repo.transition(request_id, RequestStatus.FAILED, message="refused", error=error)

    def deliveries(self, request_id: str) -> list[WebhookDelivery]:
        with self.db.sessions() as session:
            return list(
                session.scalars(
                    select(WebhookDelivery).where(WebhookDelivery.request_id == request_id)
                )
            )

    def make_due(self) -> None:
        with self.db.sessions.begin() as session:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.state == "pending")
                .values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )


@pytest.fixture
def rig(database_url: str) -> Iterator[Rig]:
    db = Database.from_url(database_url)
    db.create_schema()
    accounts = SqlAccounts(db)
    receiver = Receiver(secret=accounts.webhook_secret(ORG))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    sender = HttpWebhookSender(timeout_s=5.0, allow_private=True)
    try:
        yield Rig(db, SqlRequestRepository(db), SqlWebhookOutbox(db), accounts, receiver, sender)
    finally:
        sender.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        db.dispose()


def _due_for(rig: Rig, request_id: str) -> list[str]:
    return [w.event_type for w in rig.outbox.due(limit=100) if w.request_id == request_id]


def test_each_ending_queues_exactly_one_delivery(rig: Rig) -> None:
    completed, failed, cancelled = rig.new_request(), rig.new_request(), rig.new_request()
    silent = rig.new_request(callback=False)
    rig.complete(completed)
    rig.fail(failed)
    rig.repo.transition(cancelled, RequestStatus.VALIDATING)
    rig.repo.cancel(cancelled, ORG, "the student left")
    rig.complete(silent)

    assert _due_for(rig, completed) == ["video.completed"]
    assert _due_for(rig, failed) == ["video.failed"]
    assert _due_for(rig, cancelled) == ["video.cancelled"]
    assert _due_for(rig, silent) == []
    for request_id in (completed, failed, cancelled):
        rows = rig.deliveries(request_id)
        assert len(rows) == 1
        assert rows[0].state == "pending" and rows[0].attempts == 0
        assert rows[0].organization_id == ORG
        assert rows[0].url == f"{rig.receiver.url}/hooks/vividly"
    assert rig.deliveries(silent) == []
    failure = rig.deliveries(failed)[0].payload
    assert failure["status"] == "failed" and failure["error"]["code"] == "refused"


def test_a_completed_request_is_announced_once_with_a_valid_signature(rig: Rig) -> None:
    request_id = rig.new_request()
    rig.complete(request_id)

    assert rig.relay().deliver_due() == 1

    assert len(rig.receiver.received) == 1
    got = rig.receiver.received[0]
    assert got.verified
    assert got.document["type"] == "video.completed"
    assert got.document["data"]["status"] == "completed"
    assert got.document["data"]["id"] == request_id
    assert got.document["data"]["progress_percentage"] == 100
    (row,) = rig.deliveries(request_id)
    assert got.headers["webhook-id"] == row.webhook_id
    assert row.state == "delivered" and row.attempts == 1 and row.delivered_at is not None
    attempts = rig.outbox.attempts(request_id)
    assert [(a.webhook_id, a.attempt, a.delivered, a.status_code) for a in attempts] == [
        (row.webhook_id, 1, True, 204)
    ]
    rig.make_due()
    assert rig.relay().deliver_due() == 0
    assert len(rig.receiver.received) == 1


def test_failed_and_cancelled_requests_are_announced(rig: Rig) -> None:
    failed, cancelled = rig.new_request(), rig.new_request()
    rig.fail(failed)
    rig.repo.cancel(cancelled, ORG)

    assert rig.relay().deliver_due() == 2

    by_id = {r.document["data"]["id"]: r for r in rig.receiver.received}
    assert set(by_id) == {failed, cancelled}
    assert all(r.verified for r in rig.receiver.received)
    assert by_id[failed].document["data"]["status"] == "failed"
    assert by_id[failed].document["data"]["error"]["message"] == (
        "not suitable for a K-12 audience"
    )
    assert by_id[cancelled].document["data"]["status"] == "cancelled"
    for request_id in (failed, cancelled):
        assert [a.delivered for a in rig.outbox.attempts(request_id)] == [True]


def test_a_server_error_is_retried_with_the_same_webhook_id(rig: Rig) -> None:
    rig.receiver.answers = [500, 200]
    request_id = rig.new_request()
    rig.complete(request_id)
    relay = rig.relay()

    assert relay.deliver_due() == 1
    (row,) = rig.deliveries(request_id)
    assert row.state == "pending" and row.attempts == 1
    assert relay.deliver_due() == 0
    rig.make_due()
    assert relay.deliver_due() == 1

    ids = [r.headers["webhook-id"] for r in rig.receiver.received]
    assert ids == [row.webhook_id, row.webhook_id]
    assert all(r.verified for r in rig.receiver.received)
    assert rig.receiver.received[0].body == rig.receiver.received[1].body
    attempts = rig.outbox.attempts(request_id)
    assert [(a.attempt, a.delivered, a.status_code) for a in attempts] == [
        (1, False, 500),
        (2, True, 200),
    ]
    assert attempts[0].error == "HTTP 500"
    (row,) = rig.deliveries(request_id)
    assert row.state == "delivered" and row.attempts == 2


def test_a_delivery_is_given_up_after_its_attempts_are_spent(rig: Rig) -> None:
    rig.receiver.answers = [503]
    request_id = rig.new_request()
    rig.complete(request_id)
    relay = rig.relay()

    for _ in range(MAX_ATTEMPTS):
        rig.make_due()
        assert relay.deliver_due() == 1
    rig.make_due()
    assert relay.deliver_due() == 0

    (row,) = rig.deliveries(request_id)
    assert row.state == "failed" and row.attempts == MAX_ATTEMPTS
    assert row.delivered_at is None
    assert len(rig.receiver.received) == MAX_ATTEMPTS
    assert len({r.headers["webhook-id"] for r in rig.receiver.received}) == 1
    attempts = rig.outbox.attempts(request_id)
    assert [(a.attempt, a.delivered, a.status_code) for a in attempts] == [
        (n, False, 503) for n in range(1, MAX_ATTEMPTS + 1)
    ]
    assert rig.outbox.attempt_counts() == {"delivered": 0, "retry": 2, "failed": 1}


def test_a_refusal_that_cannot_pass_is_not_retried(rig: Rig) -> None:
    rig.receiver.answers = [410]
    request_id = rig.new_request()
    rig.complete(request_id)

    assert rig.relay().deliver_due() == 1
    rig.make_due()
    assert rig.relay().deliver_due() == 0

    (row,) = rig.deliveries(request_id)
    assert row.state == "failed" and row.attempts == 1
    assert [(a.delivered, a.status_code) for a in rig.outbox.attempts(request_id)] == [(False, 410)]


def test_relays_running_side_by_side_send_each_attempt_once(rig: Rig) -> None:
    rig.receiver.answers = [503, 204]
    rig.receiver.delay_s = 0.5
    request_id = rig.new_request()
    rig.complete(request_id)
    relays = [rig.relay() for _ in range(3)]

    def round_of_deliveries() -> list[int]:
        barrier = threading.Barrier(len(relays))
        attempted: list[int] = []

        def run(relay: WebhookRelay) -> None:
            barrier.wait(timeout=10)
            attempted.append(relay.deliver_due())

        threads = [threading.Thread(target=run, args=(relay,)) for relay in relays]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        return attempted

    first = round_of_deliveries()
    rig.make_due()
    second = round_of_deliveries()

    assert sorted(first) == [0, 0, 1] and sorted(second) == [0, 0, 1]
    assert len(rig.receiver.received) == 2
    attempts = rig.outbox.attempts(request_id)
    assert [(a.attempt, a.delivered, a.status_code) for a in attempts] == [
        (1, False, 503),
        (2, True, 204),
    ]
    (row,) = rig.deliveries(request_id)
    assert row.state == "delivered" and row.attempts == 2


def test_a_delivery_held_by_a_relay_that_died_is_sent_once_the_hold_passes(rig: Rig) -> None:
    request_id = rig.new_request()
    rig.complete(request_id)
    hold_s = 0.4

    held = rig.outbox.claim_due(limit=10, hold_s=hold_s)

    assert [w.request_id for w in held] == [request_id]
    assert rig.outbox.claim_due(limit=10, hold_s=hold_s) == []
    assert rig.relay().deliver_due() == 0
    assert rig.receiver.received == [] and rig.outbox.attempts(request_id) == []
    time.sleep(hold_s + 0.15)
    assert rig.relay().deliver_due() == 1
    assert [r.headers["webhook-id"] for r in rig.receiver.received] == [held[0].webhook_id]
    assert [(a.attempt, a.delivered) for a in rig.outbox.attempts(request_id)] == [(1, True)]
