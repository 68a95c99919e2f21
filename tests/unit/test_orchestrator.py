"""VideoPipeline with fakes for every port: statuses, deliveries, resume and failure handling."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from tests.fakes import (
    DELIVERED,
    FakeAssembler,
    FakeAssessor,
    FakeRetriever,
    FakeTracker,
    FakeWriter,
    MemoryBlobStore,
    SequentialExecutor,
)
from vividly_ray.domain.assessment import Decision
from vividly_ray.domain.errors import (
    ClarificationNeeded,
    InternalError,
    RefusedUnsafe,
    StageFailed,
)
from vividly_ray.domain.models import Aspect, Grade, Resolution, VideoRequest, delivered_key
from vividly_ray.domain.status import PIPELINE, RequestStatus
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
from vividly_ray.script.pacing import EstimatedPacing

REQUEST = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=1)


def _pipeline(
    tracker: FakeTracker, tmp_path: Path, blobs: MemoryBlobStore | None = None, **overrides: object
) -> VideoPipeline:
    ports: dict[str, object] = dict(
        assessor=FakeAssessor(),
        retriever=FakeRetriever(),
        writer=FakeWriter(),
        executor=SequentialExecutor(),
        assembler=FakeAssembler(),
        tracker=tracker,
        blobs=blobs or MemoryBlobStore(),
        scratch=tmp_path / "scratch",
        pacing=EstimatedPacing(),
    )
    ports.update(overrides)
    return VideoPipeline(PipelinePorts(**ports))  # type: ignore[arg-type]


def test_completed_request_passes_every_stage_and_delivers_every_file(tmp_path: Path) -> None:
    tracker, blobs = FakeTracker(), MemoryBlobStore()
    result = _pipeline(tracker, tmp_path, blobs).run("r1", REQUEST)
    assert tracker.statuses == list(PIPELINE[1:])
    assert tracker.progress_values == sorted(tracker.progress_values)
    assert tracker.progress_values[-1] == 100
    assert set(result.files) == set(DELIVERED)
    assert all(blobs.stat(delivered_key("r1", name)) for name in DELIVERED)
    manifest = json.loads(blobs.get_bytes(result.files["manifest.json"]))
    assert manifest["request_id"] == "r1"
    assert [row["status"] for row in manifest["status_timeline"]] == [s.value for s in PIPELINE]
    assert manifest["sources"][0]["license"] == "CC0-1.0"
    script = json.loads(blobs.get_bytes(result.files["script.json"]))
    assert [s["kind"] for s in script["scenes"]] == ["title", "concept", "recap", "credits"]
    assert tracker.metadata["files"] == result.files
    assert tracker.metadata["scenes_total"] == 4
    # Nothing is left in the scratch folder: only the BlobStore holds the delivery.
    assert list((tmp_path / "scratch").iterdir()) == []


def test_the_render_spec_comes_from_the_request(tmp_path: Path) -> None:
    blobs = MemoryBlobStore()
    tall = dataclasses.replace(REQUEST, aspect=Aspect.TALL, resolution=Resolution.P480)
    result = _pipeline(FakeTracker(), tmp_path, blobs).run("r1", tall)
    assert blobs.get_bytes(result.files["video.mp4"]) == b"video.mp4 480x854"


def test_scene_progress_carries_scene_counts(tmp_path: Path) -> None:
    tracker = FakeTracker()
    _pipeline(tracker, tmp_path).run("r1", REQUEST)
    assert tracker.details[-1]["scenes_done"] == 4 and tracker.details[-1]["scenes_total"] == 4


def test_scene_progress_records_every_scene_blob_once_for_erasure(tmp_path: Path) -> None:
    tracker = FakeTracker()
    _pipeline(tracker, tmp_path).run("r1", REQUEST)
    recorded = [key for details in tracker.details for key in details["blobs"]]
    expected = [
        f"cache/{kind}/{i}.{ext}"
        for i in range(4)
        for kind, ext in (("audio", "wav"), ("seg", "mp4"))
    ]
    assert sorted(recorded) == sorted(expected)


def test_a_resumed_request_does_not_record_its_earlier_stages_again(tmp_path: Path) -> None:
    tracker = FakeTracker(status=RequestStatus.GENERATING_VIDEO)
    _pipeline(tracker, tmp_path).run("r1", REQUEST, resume_from=RequestStatus.GENERATING_VIDEO)
    assert tracker.statuses == [
        RequestStatus.PROCESSING_VIDEO,
        RequestStatus.NOTIFYING,
        RequestStatus.COMPLETED,
    ]


def test_unclear_question_waits_for_clarification_with_its_questions(tmp_path: Path) -> None:
    tracker = FakeTracker()
    assessor = FakeAssessor(Decision.CLARIFY, ("Which topic?",))
    with pytest.raises(ClarificationNeeded) as caught:
        _pipeline(tracker, tmp_path, assessor=assessor).run("r1", REQUEST)
    assert caught.value.questions == ("Which topic?",)
    assert tracker.status is RequestStatus.CLARIFICATION_NEEDED
    assert tracker.details[-1]["questions"] == ["Which topic?"]


def test_still_unclear_after_three_answers_fails_with_the_reason(tmp_path: Path) -> None:
    tracker = FakeTracker()
    answered = dataclasses.replace(REQUEST, clarifications=("it", "that", "the thing"))
    assessor = FakeAssessor(Decision.CLARIFY, ("Which topic?",))
    with pytest.raises(StageFailed) as caught:
        _pipeline(tracker, tmp_path, assessor=assessor).run("r1", answered)
    assert caught.value.stage == "validating" and "3 answers" in caught.value.reason
    assert tracker.status is RequestStatus.FAILED


def test_unsafe_question_is_refused_and_recorded_as_failed(tmp_path: Path) -> None:
    tracker = FakeTracker()
    with pytest.raises(RefusedUnsafe):
        _pipeline(tracker, tmp_path, assessor=FakeAssessor(Decision.REFUSE)).run("r1", REQUEST)
    assert tracker.status is RequestStatus.FAILED
    assert tracker.error is not None and tracker.error.code == "refused"


def test_empty_retrieval_fails_in_the_retrieving_stage(tmp_path: Path) -> None:
    tracker = FakeTracker()
    with pytest.raises(StageFailed) as caught:
        _pipeline(tracker, tmp_path, retriever=FakeRetriever(empty=True)).run("r1", REQUEST)
    assert caught.value.stage == "retrieving"
    assert tracker.status is RequestStatus.FAILED
    assert tracker.error is not None and tracker.error.stage == "retrieving"


def test_a_retryable_failure_is_left_for_the_dispatcher(tmp_path: Path) -> None:
    tracker = FakeTracker()
    error = StageFailed("generating_video", "narrator busy", retryable=True)
    executor = SequentialExecutor(fail_at=1, error=error)
    with pytest.raises(StageFailed) as caught:
        _pipeline(tracker, tmp_path, executor=executor).run("r1", REQUEST)
    assert caught.value.retryable
    assert tracker.status is RequestStatus.GENERATING_VIDEO  # not failed: it will be retried


def test_an_unexpected_error_is_an_internal_error_with_an_id_and_no_details(
    tmp_path: Path,
) -> None:
    tracker = FakeTracker()
    executor = SequentialExecutor(fail_at=2, error=ZeroDivisionError("secret detail"))
    with pytest.raises(InternalError) as caught:
        _pipeline(tracker, tmp_path, executor=executor).run("r1", REQUEST)
    assert caught.value.stage == "generating_video" and not caught.value.retryable
    assert tracker.status is RequestStatus.FAILED
    assert tracker.error is not None
    assert tracker.error.code == "internal" and len(tracker.error.error_id) == 12
    assert "secret detail" not in tracker.error.message
    assert tracker.error.error_id in tracker.error.message


class _DecidingWriter:
    """A model-backed writer that refuses or finds the question unclear."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def write(self, request: VideoRequest, retrieval: object, topic: str = "") -> object:
        raise self.error


def test_a_writer_refusal_fails_the_request_at_generating_script_with_the_reason(
    tmp_path: Path,
) -> None:
    tracker = FakeTracker()
    writer = _DecidingWriter(RefusedUnsafe(["the model declined: not suitable for K-12"]))
    with pytest.raises(RefusedUnsafe):
        _pipeline(tracker, tmp_path, writer=writer).run("r1", REQUEST)
    assert tracker.status is RequestStatus.FAILED
    assert tracker.error is not None
    assert (tracker.error.stage, tracker.error.code) == ("generating_script", "refused")
    assert "declined" in tracker.error.message


def test_a_writer_that_finds_the_question_unclear_asks_the_student(tmp_path: Path) -> None:
    tracker = FakeTracker()
    unclear = ClarificationNeeded(["two topics"], ["Do you mean rivers or oceans?"])
    with pytest.raises(ClarificationNeeded):
        _pipeline(tracker, tmp_path, writer=_DecidingWriter(unclear)).run("r1", REQUEST)
    assert tracker.status is RequestStatus.CLARIFICATION_NEEDED
    assert tracker.details[-1]["questions"] == ["Do you mean rivers or oceans?"]


def test_the_transcript_is_delivered_with_every_scene_s_narration(tmp_path: Path) -> None:
    tracker, blobs = FakeTracker(), MemoryBlobStore()
    result = _pipeline(tracker, tmp_path, blobs).run("r1", REQUEST)
    text = blobs.get_bytes(result.files["transcript.txt"]).decode("utf-8")
    assert text.startswith("The Water Cycle\n")
    for number in range(4):
        assert f"Scene {number}\nSentence {number}." in text
