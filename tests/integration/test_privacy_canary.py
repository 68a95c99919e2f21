"""A canary student id and question never reach the logs at INFO or the metrics.

The request goes the whole way with the real parts in one process: the HTTP API (access log),
intake, the Dispatcher, the validator, retrieval, the offline writer, Piper, ffmpeg and the
assembler, then the webhook-free completion and /metrics. Every log line of every logger at
INFO and above is captured and searched for the canaries; so is the metrics page.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.api_fixtures import bearer, make_client, open_stores
from vividly_ray.bootstrap import Stores, build_encoder, build_narrator, build_pipeline
from vividly_ray.observability.logs import JsonFormatter, configure_logging
from vividly_ray.pipeline.sequential import InProcessSceneExecutor
from vividly_ray.service.dispatch import Dispatcher, DispatchPolicy, StatusTracker
from vividly_ray.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

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
        configure_logging("WARNING")


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    built = open_stores(tmp_path / "home", f"sqlite:///{tmp_path / 'v.db'}")
    try:
        yield built
    finally:
        built.db.dispose()


def test_the_canaries_appear_in_no_log_line_and_no_metric(
    stores: Stores, tmp_path: Path, capture: tuple[Capture, io.StringIO]
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
    for canary in (CANARY_STUDENT, CANARY_QUESTION, "canaryquill"):
        leaks = [line for line in lines if canary in line]
        assert leaks == [], f"{canary!r} logged at INFO: {leaks[:3]}"
        assert canary not in metrics
