"""vividly-ray on Google Cloud's interfaces, with the emulators on loopback: the platform's smoke
message published to the subscription ends as a playable video in the bucket and a completed
event on the results topic; the same message twice makes one request; a malformed message ends
on the dead-letter topic; `vividly doctor` checks every backend of that configuration."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from google.cloud import pubsub_v1

from tests.conftest import fresh_schema
from tests.e2e.serve_process import ServeProcess, service_env, vividly
from tests.gcs_emulator import running_gcs_emulator, storage_client
from tests.pubsub_emulator import PROJECT, create_topology, pull
from vividly_ray.bootstrap import build_stores
from vividly_ray.library.starter import starter_documents
from vividly_ray.settings import load_settings

pytestmark = pytest.mark.e2e

SMOKE = {
    "student_query": "Create a 3-minute video explaining the water cycle, including evaporation, "
    "condensation, and precipitation. Include simple diagrams and examples.",
    "grade_level": "5",
    "duration_minutes": 3,
}
BUCKETS = {"content": "vividly-videos", "temp": "vividly-temp", "oer": "vividly-oer"}
OER_DOCUMENT = """---
id: bucket-lighthouses
title: Lighthouses
subject: social studies
grade_band: 3-5
keywords: lighthouse, lighthouse keeper, beacon, lens, ships, coast
license: CC0-1.0
attribution: "Lighthouses, a document from the OER bucket, CC0"
---
# Lighthouses

A lighthouse is a tower with a bright light that warns ships away from rocks near the coast.
"""


@pytest.fixture
def gcs_host() -> Iterator[str]:
    with running_gcs_emulator() as host:
        client = storage_client(host)
        for name in BUCKETS.values():
            client.create_bucket(name)
        client.bucket(BUCKETS["oer"]).blob("library/lighthouses.md").upload_from_string(
            OER_DOCUMENT, content_type="text/markdown"
        )
        yield host


@pytest.fixture
def cloud_env(tmp_path: Path, pubsub_host: str, gcs_host: str) -> Iterator[dict[str, str]]:
    topology = create_topology(uuid.uuid4().hex[:8])
    with fresh_schema("postgresql://postgres@127.0.0.1:5432/test") as url:
        env = service_env(
            tmp_path / "home",
            DATABASE_URL=url,
            PUBSUB_EMULATOR_HOST=pubsub_host,
            STORAGE_EMULATOR_HOST=gcs_host,
            GOOGLE_CLOUD_PROJECT=PROJECT,
            GCS_GENERATED_CONTENT_BUCKET=BUCKETS["content"],
            GCS_TEMP_FILES_BUCKET=BUCKETS["temp"],
            GCS_OER_CONTENT_BUCKET=BUCKETS["oer"],
            VIVIDLY_GCS_OER_PREFIX="library/",
            PUBSUB_SUBSCRIPTION=topology.subscription,
            PUBSUB_RESULTS_TOPIC=topology.results_topic,
            ENVIRONMENT="staging",
            VIVIDLY_LOG_LEVEL="INFO",
        )
        env["TEST_REQUESTS_TOPIC"] = topology.requests_topic
        env["TEST_RESULTS_SUBSCRIPTION"] = topology.results_subscription
        env["TEST_DEAD_LETTERS"] = topology.dead_letter_subscription
        yield env


def publish(topic: str, data: bytes) -> None:
    pubsub_v1.PublisherClient().publish(topic, data).result(timeout=10)


def test_the_smoke_message_becomes_one_video_in_the_bucket_and_one_completed_event(
    cloud_env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    smoke = json.dumps(SMOKE).encode()
    with ServeProcess(cloud_env, tmp_path / "serve.log"):
        publish(cloud_env["TEST_REQUESTS_TOPIC"], smoke)
        publish(cloud_env["TEST_REQUESTS_TOPIC"], smoke)  # the platform retried its publish
        publish(cloud_env["TEST_REQUESTS_TOPIC"], b'{"student_query": "water", "grade_level":')
        results = pull(cloud_env["TEST_RESULTS_SUBSCRIPTION"], wait_s=240)
        dead = pull(cloud_env["TEST_DEAD_LETTERS"], wait_s=30)
        late = pull(cloud_env["TEST_RESULTS_SUBSCRIPTION"], wait_s=5)
    assert len(results) == 1, (tmp_path / "serve.log").read_text()[-4000:]
    attributes = dict(results[0].message.attributes)
    assert attributes["status"] == "completed", results[0].message.data
    request_id = attributes["request_id"]
    assert late == []  # one request, so one completed event
    assert [m.message.data for m in dead] == [b'{"student_query": "water", "grade_level":']

    for name, value in cloud_env.items():
        monkeypatch.setenv(name, value)
    stores = build_stores(load_settings())
    records, _ = stores.requests.list_requests("platform", limit=10)
    assert [r.request_id for r in records] == [request_id]
    files = records[0].request_metadata["files"]
    assert files["video.mp4"] == f"videos/{request_id}/video.mp4"

    client = storage_client(cloud_env["STORAGE_EMULATOR_HOST"])
    video = tmp_path / "video.mp4"
    client.bucket(BUCKETS["content"]).blob(files["video.mp4"]).download_to_filename(video)
    with av.open(str(video)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        seconds = float(container.duration or 0) / 1_000_000
    assert {"audio", "video"} <= set(kinds)
    assert 60 < seconds < 240
    cached = list(client.list_blobs(BUCKETS["temp"], prefix="cache/"))
    assert any(blob.name.endswith(".wav") for blob in cached)  # scene artifacts in the temp bucket
    manifest = json.loads(
        client.bucket(BUCKETS["content"]).blob(files["manifest.json"]).download_as_bytes()
    )
    assert manifest["providers"]["script"] == "offline"
    assert manifest["cost"]["cpu_seconds"] > 0


def test_doctor_checks_every_backend_of_the_cloud_configuration(
    cloud_env: dict[str, str], tmp_path: Path
) -> None:
    checked = vividly("doctor", "--json", env=cloud_env)
    rows = json.loads(checked.stdout)
    by_name = {(row["name"], row["target"]): row for row in rows}
    assert checked.returncode == 0, rows
    for bucket in BUCKETS.values():
        assert any(target == bucket for _, target in by_name), bucket
    assert any(name == "subscription" for name, _ in by_name)
    assert any(name == "results topic" for name, _ in by_name)
    assert all(row["ok"] for row in rows)
    # The library has the starter articles and the OER bucket's document.
    writer = next(row for row in rows if row["name"] == "script writer")
    assert f"holds {len(starter_documents()) + 1} documents" in writer["detail"]


def test_doctor_names_every_missing_cloud_variable_in_one_run(tmp_path: Path) -> None:
    env = service_env(tmp_path / "home", ENVIRONMENT="production")
    for name in ("GOOGLE_CLOUD_PROJECT", "PUBSUB_SUBSCRIPTION", "GCS_GENERATED_CONTENT_BUCKET"):
        env.pop(name, None)
    checked = vividly("doctor", "--json", env=env)
    assert checked.returncode == 1
    missing = {row["target"] for row in json.loads(checked.stdout) if row["name"] == "setting"}
    assert missing == {
        "DATABASE_URL",
        "GOOGLE_CLOUD_PROJECT",
        "GCS_GENERATED_CONTENT_BUCKET",
        "GCS_OER_CONTENT_BUCKET",
        "GCS_TEMP_FILES_BUCKET",
        "PUBSUB_SUBSCRIPTION",
        "PUBSUB_RESULTS_TOPIC",
    }
