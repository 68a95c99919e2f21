"""Webhooks over a real socket: a local HTTP receiver checks every signature it gets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vividly_ray.domain.errors import InvalidRequest
from vividly_ray.notify.webhooks import (
    HttpWebhookSender,
    WebhookMessage,
    WebhookVerificationError,
    check_callback_url,
    new_secret,
    new_webhook_id,
    verify,
)

pytestmark = pytest.mark.integration

SECRET = new_secret()


@dataclass(frozen=True)
class Received:
    """One request as the receiver saw it, with the result of verifying its signature."""

    path: str
    headers: dict[str, str]
    body: bytes
    verification_error: str | None


@dataclass
class Receiver:
    """A local webhook endpoint that answers ``status`` and records what it got."""

    url: str
    status: int = 204
    received: list[Received] = field(default_factory=list)


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                verify(SECRET, headers, body)
                problem = None
            except WebhookVerificationError as exc:
                problem = exc.message
            receiver.received.append(Received(self.path, headers, body, problem))
            self.send_response(receiver.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}/hooks/vividly"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _message(url: str) -> WebhookMessage:
    return WebhookMessage(
        webhook_id=new_webhook_id(),
        url=url,
        event_type="video.completed",
        payload={"request_id": "req-42", "video_url": "https://cdn.example/req-42.mp4"},
    )


def test_a_signed_webhook_arrives_and_verifies(receiver: Receiver) -> None:
    message = _message(receiver.url)
    with HttpWebhookSender(allow_private=True, timeout_s=5) as sender:
        outcome = sender.send(message, SECRET)
    assert outcome.delivered and outcome.status_code == 204 and outcome.error == ""
    (got,) = receiver.received
    assert got.verification_error is None
    assert got.path == "/hooks/vividly"
    assert got.body == message.body()
    assert got.headers["webhook-id"] == message.webhook_id
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == "vividly-ray-webhooks"


def test_a_receiver_with_another_secret_rejects_the_signature(receiver: Receiver) -> None:
    with HttpWebhookSender(allow_private=True, timeout_s=5) as sender:
        sender.send(_message(receiver.url), new_secret())
    (got,) = receiver.received
    assert got.verification_error is not None and "signature" in got.verification_error


def test_a_503_is_a_retryable_outcome_and_retries_keep_the_id(receiver: Receiver) -> None:
    receiver.status = 503
    message = _message(receiver.url)
    with HttpWebhookSender(allow_private=True, timeout_s=5) as sender:
        first = sender.send(message, SECRET)
        second = sender.send(message, SECRET)
    for outcome in (first, second):
        assert not outcome.delivered and outcome.retryable and outcome.status_code == 503
    assert [r.headers["webhook-id"] for r in receiver.received] == [message.webhook_id] * 2
    assert all(r.verification_error is None for r in receiver.received)


def test_a_404_is_not_retryable(receiver: Receiver) -> None:
    receiver.status = 404
    with HttpWebhookSender(allow_private=True, timeout_s=5) as sender:
        outcome = sender.send(_message(receiver.url), SECRET)
    assert not outcome.delivered and not outcome.retryable and outcome.status_code == 404


def test_loopback_is_refused_without_sending_when_private_is_not_allowed(
    receiver: Receiver,
) -> None:
    with pytest.raises(InvalidRequest, match="loopback"):
        check_callback_url(receiver.url, allow_private=False)
    with HttpWebhookSender(timeout_s=5) as sender:
        outcome = sender.send(_message(receiver.url), SECRET)
    assert not outcome.delivered and not outcome.retryable and outcome.status_code is None
    assert "loopback" in outcome.error
    assert receiver.received == []


def test_a_closed_port_is_a_retryable_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with HttpWebhookSender(allow_private=True, timeout_s=5) as sender:
        outcome = sender.send(_message(f"http://127.0.0.1:{closed_port}/x"), SECRET)
    assert not outcome.delivered and outcome.retryable and outcome.status_code is None
    assert outcome.error.startswith("network error")
