"""Google Cloud Pub/Sub adapters: the streaming-pull intake loop and the results publisher.

Both take real ``google-cloud-pubsub`` clients; ``PUBSUB_EMULATOR_HOST`` points those at the
emulator in tests. Nothing here decides what a message means: ``MessageIntake`` does.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import google.cloud.pubsub_v1 as pubsub_v1
from google.api_core import exceptions as api_errors
from google.cloud.pubsub_v1.publisher.exceptions import MessageTooLargeError
from google.cloud.pubsub_v1.subscriber.message import Message

from vividly_ray.service.message_intake import IntakeMessage, MessageIntake, Verdict
from vividly_ray.service.results_relay import PublishRefused

log = logging.getLogger("vividly.pubsub")


def subscription_path(project: str, subscription: str) -> str:
    """A full ``projects/P/subscriptions/S`` path from a short name or a full path."""
    if subscription.startswith("projects/"):
        return subscription
    return f"projects/{project}/subscriptions/{subscription}"


def topic_path(project: str, topic: str) -> str:
    if topic.startswith("projects/"):
        return topic
    return f"projects/{project}/topics/{topic}"


@dataclass(frozen=True)
class FlowSettings:
    """How many messages the loop holds at once, and how long it may hold one.

    Intake only records a row, so a few dozen messages in hand keep the database busy without
    queueing work the dispatchers cannot start. Lease extensions are capped so that a message
    held by a process that crashed is redelivered within ``max_extension_s``, not after an hour.
    """

    max_messages: int = 20
    max_extension_s: int = 30
    max_lease_s: int = 300

    def flow_control(self) -> pubsub_v1.types.FlowControl:
        return pubsub_v1.types.FlowControl(
            max_messages=self.max_messages,
            max_lease_duration=self.max_lease_s,
            min_duration_per_lease_extension=10,
            max_duration_per_lease_extension=self.max_extension_s,
        )


class PubSubIntakeLoop:
    """Streaming pull on one subscription; each message goes through ``MessageIntake``.

    A message is acknowledged only after its request (or its rejection) is committed. Any
    exception while handling one gives that message back and leaves the loop running.
    """

    def __init__(
        self,
        subscriber: pubsub_v1.SubscriberClient,
        subscription: str,
        intake: MessageIntake,
        flow: FlowSettings | None = None,
    ) -> None:
        self._subscriber = subscriber
        self._subscription = subscription
        self._intake = intake
        self._flow = flow or FlowSettings()
        self._future: Future[Any] | None = None
        self._lock = threading.Lock()
        self.handled = 0
        self.failures = 0

    def start(self) -> None:
        with self._lock:
            if self._future is not None and not self._future.done():
                return
            self._future = self._subscriber.subscribe(
                self._subscription,
                callback=self._on_message,
                flow_control=self._flow.flow_control(),
            )
        log.info("pubsub intake started", extra={"fields": {"subscription": self._subscription}})

    def alive(self) -> bool:
        return self._future is not None and not self._future.done()

    def failure(self) -> str:
        """Why the loop stopped ("" while it runs or when it was stopped on purpose)."""
        future = self._future
        if future is None or not future.done() or future.cancelled():
            return ""
        error = future.exception()
        return f"{type(error).__name__}: {error}" if error else "the streaming pull ended"

    def stop(self, timeout: float = 10.0) -> None:
        with self._lock:
            future, self._future = self._future, None
        if future is None:
            return
        future.cancel()
        # The cancelled pull raises on the way out; there is nothing left to do with it.
        with contextlib.suppress(Exception):
            future.result(timeout=timeout)

    def _on_message(self, message: Message) -> None:
        try:
            outcome = self._intake.handle(_as_intake_message(message))
        except Exception:
            # A database outage or a bug: keep the message for another try, keep the loop.
            self.failures += 1
            log.exception(
                "message handling failed", extra={"fields": {"message_id": message.message_id}}
            )
            message.nack()
            return
        self.handled += 1
        if outcome.verdict is Verdict.ACK:
            message.ack()
        else:
            message.nack()


def _as_intake_message(message: Message) -> IntakeMessage:
    published: datetime | None = message.publish_time
    return IntakeMessage(
        message_id=str(message.message_id),
        data=bytes(message.data),
        attributes=dict(message.attributes),
        publish_time=published,
        delivery_attempt=message.delivery_attempt,
    )


class PubSubResultsPublisher:
    """Publishes one results message and waits for the server's message id.

    Each call is one attempt, bounded by ``timeout_s``: retries are the relay's, from the outbox.
    With the client library's own retry on, a publish this call stopped waiting for would go on
    in the background and could reach the topic after the relay had already sent it again.
    """

    def __init__(
        self, publisher: pubsub_v1.PublisherClient, topic: str, timeout_s: float = 30.0
    ) -> None:
        self._publisher = publisher
        self._topic = topic
        self._timeout = timeout_s

    @property
    def topic(self) -> str:
        return self._topic

    def publish(self, data: bytes, attributes: Mapping[str, str]) -> str:
        try:
            future = self._publisher.publish(
                self._topic, data, retry=None, timeout=self._timeout, **dict(attributes)
            )
            # The RPC's own deadline ends the attempt; the margin covers the batching delay.
            return str(future.result(timeout=self._timeout + 5))
        except (api_errors.InvalidArgument, MessageTooLargeError) as exc:
            raise PublishRefused(f"{type(exc).__name__}: {exc}") from exc
