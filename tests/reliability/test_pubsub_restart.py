"""6. Pub/Sub emulator restart: terminal events committed while the message service is away are
published once it is back.

The test runs an emulator of its own on a fixed port (the session's emulator is left alone),
with the real results relay and publisher client on the real PostgreSQL. It stops the emulator,
ends requests (each terminal transition queues a row in the ``result_messages`` outbox in the
same transaction), starts the emulator again on the same port and, since the emulator keeps its
state in memory only, creates the results topic again a little later.

What it shows: the outbox keeps the events through the outage; the relay keeps trying through
both the unreachable service and the missing topic and gives none up; once the topic exists every
event is published and arrives exactly once per ``event_id``, so a publish the relay stopped
waiting for is not sent again behind its back.
What it does not show: exactly-once delivery in general. A publish whose answer is lost on the
way back is sent again (at least once; receivers deduplicate on ``event_id``); and messages the
emulator held when it stopped are gone with it, where the real service would keep them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from google.api_core import exceptions as api_errors
from google.cloud import pubsub_v1
from sqlalchemy import select

from tests.pubsub_emulator import PROJECT, emulator_available, free_port, pull
from tests.reliability.ledger import Ledger
from vividly_ray.bootstrap import build_stores
from vividly_ray.domain.models import ErrorInfo, Grade, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.messaging.bridge import PubSubBridge
from vividly_ray.messaging.pubsub import PubSubResultsPublisher
from vividly_ray.persistence.orm import ResultMessage
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.persistence.results_outbox import SqlResultOutbox
from vividly_ray.service.results_relay import ResultsRelay
from vividly_ray.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.reliability_slow]

QUEUED_WHILE_DOWN = 8  # terminal events committed in each outage


class OwnEmulator:
    """The Pub/Sub emulator on a port chosen once, so it can be started again on the same one."""

    def __init__(self, port: int, data_dir: Path) -> None:
        self.host = f"127.0.0.1:{port}"
        self._data_dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout_s: float = 90.0) -> None:
        self._data_dir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                "gcloud",
                "beta",
                "emulators",
                "pubsub",
                "start",
                f"--host-port={self.host}",
                f"--data-dir={self._data_dir}",
                "--quiet",
            ],  # fmt: skip
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the java server is a grandchild: stop the whole group
        )
        deadline = time.monotonic() + timeout_s
        while not self.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Pub/Sub emulator did not start on {self.host}")
            time.sleep(0.25)
        self.starts += 1

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.host}/", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)
        deadline = time.monotonic() + 15
        while self.answers() and time.monotonic() < deadline:
            time.sleep(0.2)


class GatedPublisher:
    """The real publisher, counting its attempts by outcome. ``gate`` only orders the test's
    topic creation before the relay's next attempt (a message published to a topic before its
    subscription exists reaches no one)."""

    def __init__(self, real: PubSubResultsPublisher) -> None:
        self._real = real
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter()

    def publish(self, data: bytes, attributes: Mapping[str, str]) -> str:
        self.gate.wait(30)
        try:
            published = self._real.publish(data, attributes)
        except api_errors.NotFound:
            self._count("topic_missing")
            raise
        except Exception:
            self._count("unreachable")
            raise
        self._count("published")
        return published

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1


def _create_topology(topic: str, subscription: str) -> None:
    pubsub_v1.PublisherClient().create_topic(name=topic)
    pubsub_v1.SubscriberClient().create_subscription(
        request={"name": subscription, "topic": topic, "ack_deadline_seconds": 10}
    )


@pytest.fixture
def emulator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OwnEmulator]:
    if not emulator_available():
        pytest.skip("the Pub/Sub emulator needs gcloud and Java (`gcloud beta emulators pubsub`)")
    own = OwnEmulator(free_port(), tmp_path / "pubsub-data")
    own.start()
    # Every client made from here on talks to this emulator, not the session's.
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", own.host)
    try:
        yield own
    finally:
        own.stop()


def _end(repo: SqlRequestRepository, request_id: str, n: int) -> None:
    """Cancel odd ones, fail even ones: either way a terminal event enters the outbox."""
    if n % 2:
        repo.cancel(request_id)
        return
    repo.transition(request_id, RequestStatus.VALIDATING)
    failure = ErrorInfo("validating", "test_failure", "on purpose")
    repo.transition(request_id, RequestStatus.FAILED, error=failure)


@dataclass(frozen=True)
class Outage:
    name: str
    down_s: float  # the emulator is away at least this long
    topic_missing_s: float  # then back, but without the topic, for this long


OUTAGES = (
    # The relay meets the unreachable service, then a topic that does not exist yet.
    Outage("topic missing after the restart", down_s=2.0, topic_missing_s=3.0),
    # Away for longer than one attempt waits (the publisher's 3 s timeout plus its margin),
    # and the topic is back at once: an attempt given up on must not be sent later anyway.
    Outage("topic back at once", down_s=10.0, topic_missing_s=0.0),
)


def test_results_queued_while_the_emulator_is_down_are_published_once_it_is_back(
    emulator: OwnEmulator, postgres_url: str, tmp_path: Path, ledger: Ledger
) -> None:
    started = time.monotonic()
    suffix = uuid.uuid4().hex[:8]
    topic = f"projects/{PROJECT}/topics/results-{suffix}"
    subscription = f"projects/{PROJECT}/subscriptions/results-reader-{suffix}"
    _create_topology(topic, subscription)
    settings = load_settings(
        {},
        home=tmp_path / "home",
        database_url=postgres_url,
        google_cloud_project=PROJECT,
        pubsub_results_topic=topic,
        poll_seconds=0.1,
    )
    stores = build_stores(settings)
    outbox = SqlResultOutbox(stores.db)
    publisher = GatedPublisher(PubSubResultsPublisher(pubsub_v1.PublisherClient(), topic, 3.0))
    # The composition of build_pubsub_bridge, with a backoff short enough for a test, and few
    # attempts: an outage must not use them up, however many it takes.
    relay = ResultsRelay(outbox, publisher, max_attempts=3, backoff_base_s=0.25, backoff_cap_s=1.0)
    bridge = PubSubBridge(None, relay, poll_seconds=0.1)
    violations: list[str] = []
    request = VideoRequest("How do volcanoes erupt?", Grade(6), 1, organization_id="platform")
    queued: list[str] = []
    statuses: dict[str, str] = {}
    got: list[pubsub_v1.types.ReceivedMessage] = []
    figures: dict[str, float] = {}

    def attempts(ids: list[str]) -> dict[str, tuple[str, int]]:
        with stores.db.sessions() as session:
            rows = session.scalars(select(ResultMessage).where(ResultMessage.request_id.in_(ids)))
            return {row.message_id: (row.state, row.attempts) for row in rows}

    def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(0.1)
        return False

    bridge.start()
    try:
        # Before the outage: the path works.
        before = stores.requests.create(request)[0].request_id
        _end(stores.requests, before, 1)
        if len(pull(subscription, wait_s=20, want=1)) != 1:
            violations.append("a result published before the outage did not arrive")

        for number, outage in enumerate(OUTAGES, 1):
            emulator.stop()
            down_at = time.monotonic()
            batch = []
            for n in range(QUEUED_WHILE_DOWN):
                request_id = stores.requests.create(request)[0].request_id
                _end(stores.requests, request_id, n)
                batch.append(request_id)
                statuses[request_id] = "cancelled" if n % 2 else "failed"
            queued += batch
            if not wait_until(lambda b=batch: all(a >= 1 for _, a in attempts(b).values()), 30):
                violations.append(f"{outage.name}: the results were not tried while it was down")
            time.sleep(max(0.0, outage.down_s - (time.monotonic() - down_at)))
            emulator.start()
            back_at = time.monotonic()
            if outage.topic_missing_s:
                # Back, but the topic is gone with the emulator's state: attempts are refused
                # (once the client has reconnected) until it exists again.
                missing = publisher.outcomes["topic_missing"]
                if not wait_until(lambda m=missing: publisher.outcomes["topic_missing"] > m, 30):
                    violations.append(f"{outage.name}: no attempt met the missing topic")
                time.sleep(outage.topic_missing_s)
            rows = attempts(batch)
            if any(state != "pending" for state, _ in rows.values()):
                violations.append(f"{outage.name}: results were given up: {rows}")
            publisher.gate.clear()
            time.sleep(0.5)  # an attempt already past the gate finishes first
            _create_topology(topic, subscription)
            topic_at = time.monotonic()
            publisher.gate.set()

            got += pull(subscription, wait_s=60, want=QUEUED_WHILE_DOWN)
            figures[f"published_in_s_{number}"] = round(time.monotonic() - topic_at, 1)
            got += pull(subscription, wait_s=3, want=1)  # anything more is a second copy
            figures[f"down_s_{number}"] = round(back_at - down_at, 1)
            figures[f"topic_missing_s_{number}"] = round(topic_at - back_at, 1)
        # Late copies (a publish that went on behind the relay's back) would arrive by now.
        got += pull(subscription, wait_s=5, want=1)
    finally:
        bridge.stop()
    event_ids = Counter(m.message.attributes.get("event_id", "") for m in got)
    expected = attempts(queued)
    for event_id in expected:
        if event_ids[event_id] != 1:
            violations.append(f"event {event_id} arrived {event_ids[event_id]} times")
    for event_id in set(event_ids) - set(expected):
        violations.append(f"an unexpected event {event_id} arrived")
    by_request = {m.message.attributes.get("request_id"): m.message.attributes for m in got}
    for request_id, status in statuses.items():
        attributes = by_request.get(request_id)
        if attributes is None or attributes.get("status") != status:
            violations.append(f"{request_id}: {status} arrived as {attributes}")
        if outbox.states(request_id) != [(status, "published")]:
            violations.append(f"{request_id}: outbox {outbox.states(request_id)}")
    most_attempts = max((a for _, a in expected.values()), default=0)
    stores.db.dispose()

    ledger.record(
        "6. Pub/Sub emulator restart: results queued while it is down",
        runs=len(queued),
        faults=len(OUTAGES),
        violations=len(violations),
        seconds=time.monotonic() - started,
        attempts_unreachable=publisher.outcomes["unreachable"],
        attempts_topic_missing=publisher.outcomes["topic_missing"],
        most_attempts_per_event=most_attempts,
        received=sum(event_ids.values()),
        **figures,
    )
    assert violations == []
