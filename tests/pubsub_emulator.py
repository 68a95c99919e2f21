"""The real Google Pub/Sub emulator for tests: started on a free loopback port, stopped after.

``PUBSUB_EMULATOR_HOST`` is what the client libraries read; the fixture sets it for the test
session and every client created afterwards talks to the emulator.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from google.cloud import pubsub_v1

PROJECT = "vividly-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def emulator_available() -> bool:
    return shutil.which("gcloud") is not None and shutil.which("java") is not None


@contextmanager
def pubsub_emulator(timeout_s: float = 60.0) -> Iterator[str]:
    """Run the emulator; yields its ``host:port``."""
    port = free_port()
    host = f"127.0.0.1:{port}"
    process = subprocess.Popen(
        ["gcloud", "beta", "emulators", "pubsub", "start", f"--host-port={host}", "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the java server is a grandchild: stop the whole group
    )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"http://{host}/", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Pub/Sub emulator did not start on {host}")
            time.sleep(0.25)
        yield host
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@dataclass(frozen=True)
class Topology:
    """One set of topic/subscription names, fresh for each test."""

    requests_topic: str
    subscription: str
    dead_letter_topic: str
    dead_letter_subscription: str
    results_topic: str
    results_subscription: str


def create_topology(suffix: str, max_delivery_attempts: int = 5) -> Topology:
    """Request topic + subscription with a dead-letter policy, and a results topic, each with
    a subscription the test reads from. Needs ``PUBSUB_EMULATOR_HOST`` set."""
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()

    def topic(name: str) -> str:
        path = publisher.topic_path(PROJECT, f"{name}-{suffix}")
        publisher.create_topic(name=path)
        return str(path)

    def subscription(name: str, topic_path: str, **extra: object) -> str:
        path = subscriber.subscription_path(PROJECT, f"{name}-{suffix}")
        subscriber.create_subscription(
            request={"name": path, "topic": topic_path, "ack_deadline_seconds": 10, **extra}
        )
        return str(path)

    requests, dead, results = topic("requests"), topic("dead-letter"), topic("results")
    return Topology(
        requests_topic=requests,
        subscription=subscription(
            "intake",
            requests,
            dead_letter_policy={
                "dead_letter_topic": dead,
                "max_delivery_attempts": max_delivery_attempts,
            },
        ),
        dead_letter_topic=dead,
        dead_letter_subscription=subscription("dead-letter-reader", dead),
        results_topic=results,
        results_subscription=subscription("results-reader", results),
    )


def pull(subscription: str, wait_s: float, want: int = 1) -> list[pubsub_v1.types.ReceivedMessage]:
    """Synchronously pull (and acknowledge) up to ``want`` messages within ``wait_s``."""
    subscriber = pubsub_v1.SubscriberClient()
    got: list[pubsub_v1.types.ReceivedMessage] = []
    deadline = time.monotonic() + wait_s
    while len(got) < want and time.monotonic() < deadline:
        response = subscriber.pull(
            request={"subscription": subscription, "max_messages": want - len(got)},
            timeout=5,
        )
        if response.received_messages:
            got.extend(response.received_messages)
            subscriber.acknowledge(
                request={
                    "subscription": subscription,
                    "ack_ids": [m.ack_id for m in response.received_messages],
                }
            )
        else:
            time.sleep(0.2)
    return got
