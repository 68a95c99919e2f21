"""VideoPipeline with fakes for every port: statuses, outputs and failure handling."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes import (
    FakeAssembler,
    FakeAssessor,
    FakeRetriever,
    FakeTracker,
    FakeWriter,
    SequentialExecutor,
)
from vividly_ray.domain.errors import ClarificationNeeded, RefusedUnsafe, StageFailed
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
from vividly_ray.validation.assess import Decision

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=1)


def _pipeline(tracker: FakeTracker, **overrides: object) -> VideoPipeline:
    ports = dict(
        assessor=FakeAssessor(),
        retriever=FakeRetriever(),
        writer=FakeWriter(),
        executor=SequentialExecutor(),
        assembler=FakeAssembler(),
        tracker=tracker,
    )
    ports.update(overrides)
    return VideoPipeline(PipelinePorts(**ports))  # type: ignore[arg-type]


def test_completed_request_passes_every_stage_in_order(tmp_path: Path) -> None:
    tracker = FakeTracker()
    result = _pipeline(tracker).run("r1", REQUEST, tmp_path)
    assert tracker.statuses == list(PIPELINE[1:])
    assert tracker.progress_values == sorted(tracker.progress_values)
    assert tracker.progress_values[-1] == 100
    manifest = json.loads(Path(result.manifest_json).read_text())
    assert manifest["request_id"] == "r1"
    assert [row["status"] for row in manifest["status_timeline"]] == [s.value for s in PIPELINE]
    assert set(manifest["stage_seconds"]) >= {"validating", "generating_video"}
    assert manifest["sources"][0]["license"] == "CC0-1.0"
    script = json.loads(Path(result.script_json).read_text())
    assert [s["kind"] for s in script["scenes"]] == ["title", "concept", "recap", "credits"]


def test_unclear_question_waits_for_clarification(tmp_path: Path) -> None:
    tracker = FakeTracker()
    assessor = FakeAssessor(Decision.CLARIFY, ("Which topic?",))
    with pytest.raises(ClarificationNeeded) as caught:
        _pipeline(tracker, assessor=assessor).run("r1", REQUEST, tmp_path)
    assert caught.value.questions == ("Which topic?",)
    assert tracker.status is RequestStatus.CLARIFICATION_NEEDED


def test_unsafe_question_is_refused_and_recorded_as_failed(tmp_path: Path) -> None:
    tracker = FakeTracker()
    with pytest.raises(RefusedUnsafe):
        _pipeline(tracker, assessor=FakeAssessor(Decision.REFUSE)).run("r1", REQUEST, tmp_path)
    assert tracker.status is RequestStatus.FAILED


def test_empty_retrieval_fails_in_the_retrieving_stage(tmp_path: Path) -> None:
    tracker = FakeTracker()
    with pytest.raises(StageFailed) as caught:
        _pipeline(tracker, retriever=FakeRetriever(empty=True)).run("r1", REQUEST, tmp_path)
    assert caught.value.stage == "retrieving"
    assert tracker.status is RequestStatus.FAILED and "retrieving" in (tracker.error or "")


def test_unexpected_error_becomes_a_failure_of_the_running_stage(tmp_path: Path) -> None:
    tracker = FakeTracker()
    executor = SequentialExecutor(fail_at=2, error=OSError("disk full"))
    with pytest.raises(StageFailed) as caught:
        _pipeline(tracker, executor=executor).run("r1", REQUEST, tmp_path)
    assert caught.value.stage == "generating_video"
    assert "disk full" in caught.value.reason
    assert tracker.status is RequestStatus.FAILED
