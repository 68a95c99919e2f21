"""The Pub/Sub bridge against the real emulator and a real database: intake exactly once,
rejections to the dead-letter topic, terminal events through the results outbox."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from google.cloud import pubsub_v1

from tests.pubsub_emulator import PROJECT, Topology, create_topology, pull
from vividly_ray.bootstrap import Stores, build_pubsub_bridge, build_stores
from vividly_ray.domain.models import ErrorInfo
from vividly_ray.domain.status import RequestStatus
from vividly_ray.messaging.bridge import PubSubBridge
from vividly_ray.persistence.results_outbox import SqlRejections, SqlResultOutbox
from vividly_ray.settings import Settings, load_settings

pytestmark = pytest.mark.integration

SMOKE = {
    "student_query": "Create a 3-minute video explaining the water cycle, including evaporation, "
    "condensation, and precipitation. Include simple diagrams and examples.",
    "grade_level": "5",
    "duration_minutes": 3,
}


@pytest.fixture
def topology(pubsub_host: str) -> Topology:
    return create_topology(uuid.uuid4().hex[:8])


def _settings(home: Path, database_url: str, topology: Topology, **extra: object) -> Settings:
    return load_settings(
        {},
        home=home,
        database_url=database_url,
        google_cloud_project=PROJECT,
        pubsub_subscription=topology.subscription,
        pubsub_results_topic=topology.results_topic,
        poll_seconds=0.1,
        **extra,
    )


@pytest.fixture
def running(
    tmp_path: Path, topology: Topology
) -> Iterator[Callable[[str], tuple[Stores, PubSubBridge]]]:
    bridges: list[PubSubBridge] = []

    def start(database_url: str) -> tuple[Stores, PubSubBridge]:
        settings = _settings(tmp_path / "home", database_url, topology)
        stores = build_stores(settings)
        bridge = build_pubsub_bridge(settings, stores)
        assert bridge is not None
        bridge.start()
        bridges.append(bridge)
        return stores, bridge

    yield start
    for bridge in bridges:
        bridge.stop()


def publish(topic: str, body: object, **attributes: str) -> str:
    data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return str(pubsub_v1.PublisherClient().publish(topic, data, **attributes).result(timeout=10))


def wait_for(condition: Callable[[], object], timeout: float = 20.0) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def _requests(stores: Stores, organization: str = "platform") -> list[str]:
    records, _ = stores.requests.list_requests(organization, limit=100)
    return [r.request_id for r in records]


def test_the_smoke_message_becomes_one_pending_request_even_when_published_twice(
    running: Callable[[str], tuple[Stores, PubSubBridge]], topology: Topology, database_url: str
) -> None:
    stores, bridge = running(database_url)
    publish(topology.requests_topic, SMOKE)
    publish(topology.requests_topic, SMOKE)
    wait_for(lambda: bridge.intake is not None and bridge.intake.handled >= 2)
    ids = _requests(stores)
    assert len(ids) == 1
    record = stores.requests.get(ids[0])
    assert record.status == RequestStatus.PENDING.value
    assert record.grade_level == "5" and record.duration_minutes == 3
    assert record.student_query == SMOKE["student_query"]


def test_a_message_naming_its_request_id_records_that_id_once(
    running: Callable[[str], tuple[Stores, PubSubBridge]], topology: Topology, tmp_path: Path
) -> None:
    stores, bridge = running(f"sqlite:///{tmp_path / 'v.db'}")
    request_id = str(uuid.uuid4())
    body = {
        **SMOKE,
        "request_id": request_id,
        "student_id": "student-7",
        "organization_id": "school-3",
        "correlation_id": "corr-42",
    }
    publish(topology.requests_topic, body)
    publish(topology.requests_topic, body)
    wait_for(lambda: bridge.intake is not None and bridge.intake.handled >= 2)
    assert _requests(stores, "school-3") == [request_id]
    record = stores.requests.get(request_id)
    assert (record.student_id, record.correlation_id) == ("student-7", "corr-42")


def test_a_malformed_message_is_recorded_and_dead_lettered_without_blocking_the_next(
    running: Callable[[str], tuple[Stores, PubSubBridge]], topology: Topology, tmp_path: Path
) -> None:
    stores, _ = running(f"sqlite:///{tmp_path / 'v.db'}")
    bad_id = publish(topology.requests_topic, b"{not json")
    invalid_id = publish(topology.requests_topic, {**SMOKE, "grade_level": "15"})
    publish(topology.requests_topic, {**SMOKE, "student_query": "How do volcanoes erupt?"})
    wait_for(lambda: len(_requests(stores)) == 1)
    dead = pull(topology.dead_letter_subscription, wait_s=30, want=2)
    assert sorted(m.message.data for m in dead) == sorted(
        [b"{not json", json.dumps({**SMOKE, "grade_level": "15"}).encode()]
    )
    rejections = SqlRejections(stores.db)
    bad = rejections.get(bad_id)
    invalid = rejections.get(invalid_id)
    assert bad is not None and "not JSON" in bad.reason
    assert invalid is not None and invalid.reason.startswith("grade_level:")
    assert bad.deliveries == 5  # the subscription's max_delivery_attempts


def test_terminal_events_reach_the_results_topic_with_their_attributes(
    running: Callable[[str], tuple[Stores, PubSubBridge]], topology: Topology, database_url: str
) -> None:
    stores, _ = running(database_url)
    request_id = str(uuid.uuid4())
    publish(
        topology.requests_topic,
        {**SMOKE, "request_id": request_id, "student_id": "s", "correlation_id": "c-1"},
    )
    wait_for(lambda: _requests(stores) == [request_id])
    stores.requests.transition(request_id, RequestStatus.VALIDATING)
    stores.requests.transition(
        request_id,
        RequestStatus.FAILED,
        error=ErrorInfo("validating", "test_failure", "failed on purpose"),
    )
    (message,) = pull(topology.results_subscription, wait_s=20)
    attributes = dict(message.message.attributes)
    assert attributes["request_id"] == request_id
    assert attributes["status"] == "failed"
    assert attributes["correlation_id"] == "c-1"
    payload = json.loads(message.message.data)
    assert payload["error"]["code"] == "test_failure"
    assert SqlResultOutbox(stores.db).states(request_id) == [("failed", "published")]


def test_an_event_committed_while_no_relay_runs_is_published_when_one_starts(
    tmp_path: Path, topology: Topology
) -> None:
    settings = _settings(tmp_path / "home", f"sqlite:///{tmp_path / 'v.db'}", topology)
    stores = build_stores(settings)
    from vividly_ray.domain.models import Grade, VideoRequest

    record, _ = stores.requests.create(
        VideoRequest("How do volcanoes erupt?", Grade(6), 1, organization_id="platform")
    )
    stores.requests.cancel(record.request_id)  # committed; the process "dies" before publishing
    outbox = SqlResultOutbox(stores.db)
    assert outbox.states(record.request_id) == [("cancelled", "pending")]
    bridge = build_pubsub_bridge(settings, build_stores(settings))
    assert bridge is not None
    bridge.start()
    try:
        (message,) = pull(topology.results_subscription, wait_s=20)
        assert message.message.attributes["status"] == "cancelled"
        assert outbox.states(record.request_id) == [("cancelled", "published")]
    finally:
        bridge.stop()


def test_the_health_verdict_reports_a_dead_intake_loop(
    running: Callable[[str], tuple[Stores, PubSubBridge]], tmp_path: Path
) -> None:
    _, bridge = running(f"sqlite:///{tmp_path / 'v.db'}")
    assert bridge.problem() == ""
    assert bridge.intake is not None
    bridge.intake.stop()
    assert "intake loop is not running" in bridge.problem()


def test_a_missing_subscription_stops_the_loop_with_the_reason(
    tmp_path: Path, pubsub_host: str
) -> None:
    settings = load_settings(
        {},
        home=tmp_path / "home",
        google_cloud_project=PROJECT,
        pubsub_subscription=f"no-such-subscription-{uuid.uuid4().hex[:6]}",
    )
    bridge = build_pubsub_bridge(settings, build_stores(settings))
    assert bridge is not None
    bridge.start()
    try:
        wait_for(lambda: bridge.problem(), timeout=20)
        assert "NotFound" in bridge.problem() or "not running" in bridge.problem()
    finally:
        bridge.stop()
