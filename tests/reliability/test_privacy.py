"""Scenario 15, privacy: what a student sends is never logged or exported, and erasing a
request leaves nothing of it.

The canary: a request goes the whole way with the real parts in one process (the HTTP API and
its access log, intake, the Dispatcher, the validator, retrieval, the offline writer, Piper,
ffmpeg and the assembler) and every log line of every logger at INFO and above, and the
metrics page, are searched for its student id and question.

Erasure at volume: twenty requests on PostgreSQL with their files and scene blobs in two GCS
buckets (the real client against the GCS emulator): some deleted when finished, some deleted
while running (erased by the sweep after the grace), some aged past the retention period, the
rest kept. Every row and object of an erased request is a violation; so is anything missing
from a kept one.
"""

from __future__ import annotations

import hashlib
import io
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update

from tests.gcs_emulator import running_gcs_emulator, storage_client
from tests.integration.api_fixtures import bearer, default_eraser, make_client, open_stores
from tests.integration.test_erasure import Clock
from tests.reliability.ledger import Ledger
from vividly_ray.bootstrap import Stores, build_encoder, build_narrator, build_pipeline
from vividly_ray.domain.models import DELIVERED_FILES, Grade, VideoRequest, delivered_key
from vividly_ray.domain.status import PIPELINE, RequestStatus
from vividly_ray.observability.logs import JsonFormatter, configure_logging
from vividly_ray.persistence.orm import ContentRequest
from vividly_ray.pipeline.sequential import InProcessSceneExecutor
from vividly_ray.service.dispatch import Dispatcher, DispatchPolicy, StatusTracker
from vividly_ray.settings import load_settings
from vividly_ray.storage.cache import ContentCache
from vividly_ray.storage.gcs_blobs import GcsBlobStore
from vividly_ray.storage.routed import RoutedBlobStore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

SCENARIO = "15. privacy"

CANARY_STUDENT = "student-canary-4b1d9e"
CANARY_QUESTION = "Why does the Moon have phases, canaryquill?"


class Capture(logging.Handler):
    """Every record of every logger, formatted the way production formats it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []
        self._json = JsonFormatter()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self._json.format(record))


@pytest.fixture
def capture() -> Iterator[tuple[Capture, io.StringIO]]:
    namespace = logging.getLogger("vividly")
    saved_namespace = (list(namespace.handlers), namespace.level, namespace.propagate)
    stream = io.StringIO()
    configure_logging("INFO", stream)
    handler = Capture()
    root = logging.getLogger()
    saved = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
        # Leave the loggers exactly as they were, for whatever test runs next.
        added = [h for h in namespace.handlers if h not in saved_namespace[0]]
        namespace.handlers[:] = saved_namespace[0]
        for extra in added:
            extra.close()
        namespace.setLevel(saved_namespace[1])
        namespace.propagate = saved_namespace[2]


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    built = open_stores(tmp_path / "home", f"sqlite:///{tmp_path / 'v.db'}")
    try:
        yield built
    finally:
        built.db.dispose()


def test_the_canaries_appear_in_no_log_line_and_no_metric(
    stores: Stores, tmp_path: Path, capture: tuple[Capture, io.StringIO], ledger: Ledger
) -> None:
    handler, vividly_stream = capture
    settings = load_settings({}, home=tmp_path / "home")
    key = bearer(stores.accounts.create_key("org-canary").key)
    with make_client(stores) as client:
        answer = client.post(
            "/v1/videos",
            json={
                "student_query": CANARY_QUESTION,
                "student_id": CANARY_STUDENT,
                "grade_level": 7,
                "duration_minutes": 1,
                "resolution": "480p",
            },
            headers=key,
        )
        assert answer.status_code == 202, answer.text
        request_id = answer.json()["id"]

        narrator = build_narrator(settings, threads=2)
        executor = InProcessSceneExecutor(narrator, lambda spec: build_encoder(settings, spec, 2))

        def pipelines(tracker: StatusTracker, stop: threading.Event):  # type: ignore[no-untyped-def]
            return build_pipeline(settings, executor=executor, tracker=tracker, blobs=stores.blobs)

        dispatcher = Dispatcher(
            stores.queue,
            stores.requests,
            pipelines,
            DispatchPolicy(lease_s=30, max_attempts=1, retry_base_s=0.1),
            owner="canary-dispatcher",
        )
        outcome = dispatcher.run_next()
        assert outcome is not None and outcome.status == "completed", outcome

        # The canaries really are in the system...
        record = stores.requests.get(request_id)
        assert (record.student_id, record.student_query) == (CANARY_STUDENT, CANARY_QUESTION)
        assert client.get(f"/v1/videos/{request_id}", headers=key).status_code == 200
        metrics = client.get("/metrics").text

    lines = handler.lines + vividly_stream.getvalue().splitlines()
    # ...and the logs really were captured: the access log and the pipeline's own lines.
    assert any('"path": "/v1/videos"' in line for line in lines)
    assert any(request_id in line for line in lines)
    canaries = (CANARY_STUDENT, CANARY_QUESTION, "canaryquill")
    leaks = [line for line in lines if any(c in line for c in canaries)]
    exported = [c for c in canaries if c in metrics]
    ledger.record(
        f"{SCENARIO}: canary id and question in logs and metrics",
        runs=1,
        faults=0,
        violations=len(leaks) + len(exported),
        log_lines=len(lines),
    )
    assert leaks == [], f"canaries logged at INFO: {leaks[:3]}"
    assert exported == [], f"canaries in /metrics: {exported}"


@dataclass
class Made:
    request_id: str
    keys: list[str]  # every blob key it stored (files, scene blobs and their metadata)
    fate: str  # deleted-done, deleted-running, expired, kept, kept-recent


def _gcs_stores(stores: Stores, client: Any) -> Stores:
    content, temp = (f"b-{uuid.uuid4().hex[:12]}" for _ in range(2))
    client.create_bucket(content)
    client.create_bucket(temp)
    blobs = RoutedBlobStore(GcsBlobStore(client, content), {"cache/": GcsBlobStore(client, temp)})
    return replace(stores, blobs=blobs)


def _make(stores: Stores, org: str, n: int, scratch: Path, *, finish: bool) -> Made:
    record, _ = stores.requests.create(
        VideoRequest(
            question=f"Explain the water cycle, lesson {n}",
            grade=Grade(5),
            minutes=1,
            student_id=f"student-{n}",
            organization_id=org,
            callback_url="https://1.1.1.1/hooks",
        )
    )
    request_id = record.request_id
    cache = ContentCache(stores.blobs, scratch)
    stem = hashlib.sha256(f"{request_id}".encode()).hexdigest()
    wav = cache.put("audio", stem, ".wav", lambda p: p.write_bytes(b"RIFF"), "audio/wav")
    timings = cache.put_json("audio-timings", stem, {"sentences": []})
    mp4 = cache.put("segments", stem, ".mp4", lambda p: p.write_bytes(b"mp4"), "video/mp4")
    meta = cache.put_json("segment-meta", stem, {"duration": 1.0})
    keys = [wav, timings, mp4, meta]
    last = PIPELINE[-1] if finish else RequestStatus.GENERATING_VIDEO
    for status in PIPELINE[1 : PIPELINE.index(last) + 1]:
        if status is RequestStatus.COMPLETED:
            for name, content_type in DELIVERED_FILES.items():
                key = delivered_key(request_id, name)
                stores.blobs.put_bytes(key, name.encode(), content_type)
                keys.append(key)
            stores.requests.merge_metadata(
                request_id,
                {"files": {name: delivered_key(request_id, name) for name in DELIVERED_FILES}},
            )
        stores.requests.transition(request_id, status)
        if status is RequestStatus.GENERATING_VIDEO:
            stores.requests.progress(
                request_id, 50, "scene", details={"blobs": [wav, mp4]}, event_type="scene"
            )
    return Made(request_id, keys, "")


def _rows(stores: Stores, request_id: str) -> int:
    with stores.db.engine.connect() as connection:
        return sum(
            int(
                connection.execute(
                    text(f"SELECT count(*) FROM {table} WHERE request_id = :id"), {"id": request_id}
                ).scalar_one()
            )
            for table in (
                "content_requests",
                "request_events",
                "webhook_deliveries",
                "result_messages",
            )
        )


def test_erasure_at_volume_leaves_no_row_and_no_object(
    tmp_path: Path, postgres_url: str, ledger: Ledger
) -> None:
    started = time.monotonic()
    base = open_stores(tmp_path / "home", postgres_url)
    with running_gcs_emulator() as host:
        stores = _gcs_stores(base, storage_client(host))
        clock = Clock()
        eraser = default_eraser(
            stores, retention_days=30.0, grace=timedelta(seconds=30), clock=clock
        )
        key = bearer(stores.accounts.create_key("org-p").key)
        fates = ["deleted-done"] * 6 + ["deleted-running"] * 4 + ["expired"] * 5 + ["kept"] * 5
        made: list[Made] = []
        for n, fate in enumerate(fates):
            item = _make(stores, "org-p", n, tmp_path / "scratch", finish=fate != "deleted-running")
            item.fate = fate
            made.append(item)
        long_ago = clock.now - timedelta(days=40)
        with stores.db.sessions.begin() as session:
            session.execute(
                update(ContentRequest)
                .where(
                    ContentRequest.request_id.in_(
                        [m.request_id for m in made if m.fate == "expired"]
                    )
                )
                .values(updated_at=long_ago)
            )
        with make_client(stores, eraser=eraser) as client:
            answers = [
                client.delete(f"/v1/videos/{m.request_id}", headers=key).status_code
                for m in made
                if m.fate.startswith("deleted")
            ]
        clock.now += timedelta(seconds=31)  # past the grace of the running ones
        report = eraser.sweep()

        left_objects = set(stores.blobs.list_keys(""))
        violations: list[str] = []
        for m in made:
            rows = _rows(stores, m.request_id)
            objects = [k for k in m.keys if k in left_objects]
            if m.fate == "kept":
                if rows == 0 or len(objects) != len(m.keys):
                    violations.append(f"{m.fate} {m.request_id}: lost rows or objects")
            elif rows or objects:
                violations.append(f"{m.fate} {m.request_id}: {rows} rows, objects {objects}")
        expected_answers = [204] * 6 + [202] * 4
        if answers != expected_answers:
            violations.append(f"DELETE answered {answers}")
        ledger.record(
            f"{SCENARIO}: erasure by DELETE and retention (PostgreSQL + GCS)",
            runs=len(made),
            faults=0,
            violations=len(violations),
            seconds=time.monotonic() - started,
            erased=sum(m.fate != "kept" for m in made),
            swept=report.requests_erased,
            objects_left=len(left_objects),
        )
        base.db.dispose()
    assert violations == []
    # Only the five kept requests' objects remain, nothing else.
    assert len(left_objects) == sum(len(m.keys) for m in made if m.fate == "kept")
