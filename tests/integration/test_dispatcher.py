"""The dispatcher over a real queue and repository, driving a real VideoPipeline on fake ports."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from vividly_ray.domain.assessment import Assessment, Decision
from vividly_ray.domain.errors import Conflict, LeaseLost, StageFailed
from vividly_ray.domain.models import (
    DELIVERED_FILES,
    AssembledVideo,
    EncodedNarration,
    Grade,
    Passage,
    RenderSpec,
    Retrieval,
    RetrievedPassage,
    Scene,
    SceneAudio,
    SceneKind,
    SceneSegment,
    Script,
    SentenceTiming,
    SourceDocument,
    VideoRequest,
    delivered_key,
)
from vividly_ray.domain.status import PIPELINE, RequestStatus, band_progress
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import Claim, SqlDispatchQueue
from vividly_ray.persistence.records import EventRecord
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
from vividly_ray.pipeline.ports import SceneDone, StatusTracker
from vividly_ray.service.dispatch import Dispatcher, DispatchPolicy, Outcome, dispatch_forever
from vividly_ray.storage.blobs import LocalBlobStore

pytestmark = pytest.mark.integration

REQUEST = VideoRequest(
    question="Explain the water cycle", grade=Grade(5), minutes=1, organization_id="org"
)
SOURCE = SourceDocument(
    source_id="doc-1",
    title="The Water Cycle",
    subject="science",
    grade_band="3-5",
    license="CC0-1.0",
    attribution="The Water Cycle, test library, CC0",
)
MEDIA_FILES = ("video.mp4", "captions.vtt", "captions.srt", "thumbnail.jpg")
SCENE_SECONDS = 2.0

# Called before each scene is rendered: (pipeline run number from 1, scene index, stop event).
SceneHook = Callable[[int, int, threading.Event], None]
WriteHook = Callable[[int], None]


class FakeAssessor:
    def assess(self, question: str, grade: Grade) -> Assessment:
        return Assessment(Decision.PROCEED, ("a clear question",), topic="water cycle")


@dataclass
class ClarifyingAssessor:
    questions: tuple[str, ...] = ("Which part of the water cycle?",)

    def assess(self, question: str, grade: Grade) -> Assessment:
        return Assessment(Decision.CLARIFY, ("no topic",), questions=self.questions)


class FakeRetriever:
    def retrieve(self, query: str, grade: Grade, limit: int = 12, topic: str = "") -> Retrieval:
        text = " ".join(
            f"Step {n} of the water cycle moves water between the oceans, the air and the land."
            for n in range(40)
        )
        passage = Passage("doc-1#0", "doc-1", SOURCE.title, text)
        return Retrieval(query, (RetrievedPassage(passage, 3.0),), (SOURCE,))


class FakePacing:
    """About 150 words a minute, whatever the grade."""

    def seconds(self, text: str, grade: Grade) -> float:
        return len(text.split()) / 2.5


@dataclass
class FakeWriter:
    run_number: Callable[[], int]
    hook: WriteHook | None = None

    def write(self, request: VideoRequest, retrieval: Retrieval, topic: str) -> Script:
        if self.hook is not None:
            self.hook(self.run_number())
        kinds = (SceneKind.TITLE, SceneKind.CONCEPT, SceneKind.RECAP, SceneKind.CREDITS)
        scenes = tuple(
            Scene(i, kind, f"Scene {i}", ("a point",), (f"Sentence {i}.",), ("doc-1",))
            for i, kind in enumerate(kinds)
        )
        return Script("The Water Cycle", request.grade, request.minutes * 60, scenes, (SOURCE,))


@dataclass
class FakeExecutor:
    run_number: int
    stop: threading.Event
    hook: SceneHook | None = None

    def run(
        self, script: Script, spec: RenderSpec, on_scene_done: SceneDone
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        results: list[tuple[SceneAudio, SceneSegment]] = []
        for scene in script.scenes:
            if self.hook is not None:
                self.hook(self.run_number, scene.index, self.stop)
            timing = SentenceTiming(scene.narration[0], 0.0, SCENE_SECONDS)
            audio = SceneAudio(
                scene.index, f"audio/{scene.index}.wav", SCENE_SECONDS, (timing,), f"a{scene.index}"
            )
            segment = SceneSegment(
                scene.index, f"segments/{scene.index}.mp4", SCENE_SECONDS, f"s{scene.index}"
            )
            on_scene_done(audio, segment)
            results.append((audio, segment))
        return results


class FakeAssembler:
    def assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
        *,
        narration: EncodedNarration | None = None,
    ) -> AssembledVideo:
        for name in MEDIA_FILES:
            (out_dir / name).write_bytes(f"{name} of {script.title}".encode())
        chapters = tuple(
            (script.scenes[audio.scene_index].title, i * SCENE_SECONDS, (i + 1) * SCENE_SECONDS)
            for i, (audio, _) in enumerate(scenes)
        )
        return AssembledVideo(
            video_path=out_dir / "video.mp4",
            vtt_path=out_dir / "captions.vtt",
            srt_path=out_dir / "captions.srt",
            thumbnail_path=out_dir / "thumbnail.jpg",
            duration=SCENE_SECONDS * len(scenes),
            chapters=chapters,
        )


@dataclass
class Rig:
    """A real database, queue and blob store; fakes for the pipeline's compute ports."""

    db: Database
    repo: SqlRequestRepository
    queue: SqlDispatchQueue
    blobs: LocalBlobStore
    scratch: Path
    scene_hook: SceneHook | None = None
    write_hook: WriteHook | None = None
    clarify: bool = False
    runs: int = 0
    stops: list[threading.Event] = field(default_factory=list)

    def pipeline(self, tracker: StatusTracker, stop: threading.Event) -> VideoPipeline:
        self.runs += 1
        self.stops.append(stop)
        ports = PipelinePorts(
            assessor=ClarifyingAssessor() if self.clarify else FakeAssessor(),
            retriever=FakeRetriever(),
            writer=FakeWriter(lambda: self.runs, self.write_hook),
            executor=FakeExecutor(self.runs, stop, self.scene_hook),
            assembler=FakeAssembler(),
            tracker=tracker,
            blobs=self.blobs,
            scratch=self.scratch,
            pacing=FakePacing(),
        )
        return VideoPipeline(ports)

    def dispatcher(self, max_attempts: int = 3, lease_s: float = 0.6) -> Dispatcher:
        policy = DispatchPolicy(lease_s=lease_s, max_attempts=max_attempts, retry_base_s=0.1)
        return Dispatcher(self.queue, self.repo, self.pipeline, policy, owner="dispatcher-1")

    def new_request(self) -> str:
        record, created = self.repo.create(REQUEST)
        assert created
        return record.request_id

    def status_events(self, request_id: str, after: int = 0) -> list[EventRecord]:
        return [e for e in self.repo.events(request_id, after) if e.event_type == "status"]


@pytest.fixture
def rig(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    db = Database.from_url(database_url)
    db.create_schema()
    repo = SqlRequestRepository(db)
    try:
        yield Rig(
            db, repo, SqlDispatchQueue(db, repo), LocalBlobStore(tmp_path / "blobs"), tmp_path / "s"
        )
    finally:
        db.dispose()


def _run(dispatcher: Dispatcher) -> Outcome:
    outcome = dispatcher.run_next()
    assert outcome is not None, "the dispatcher found nothing to run"
    return outcome


def _after_backoff(dispatcher: Dispatcher, seconds: float = 0.1) -> Outcome:
    time.sleep(seconds + 0.15)
    return _run(dispatcher)


def _statuses(events: Sequence[EventRecord]) -> list[RequestStatus]:
    return [e.status for e in events]


def _stage_failure(*, retryable: bool, on_run: int | None = None) -> SceneHook:
    def hook(run: int, scene: int, stop: threading.Event) -> None:
        if scene == 1 and (on_run is None or run == on_run):
            raise StageFailed("generating_video", "the narrator is busy", retryable=retryable)

    return hook


def test_a_pending_request_runs_to_completed_once(rig: Rig) -> None:
    request_id = rig.new_request()
    dispatcher = rig.dispatcher()

    outcome = _run(dispatcher)

    assert outcome.status == "completed" and outcome.request_id == request_id
    assert dispatcher.run_next() is None
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.COMPLETED and record.progress_percentage == 100
    assert record.attempts == 1 and record.lease_owner is None and record.error is None
    events = rig.status_events(request_id)
    assert _statuses(events) == list(PIPELINE)
    assert _statuses(events).count(RequestStatus.COMPLETED) == 1
    sequences = [e.sequence for e in rig.repo.events(request_id)]
    assert sequences == list(range(1, len(sequences) + 1))
    assert outcome.result is not None
    expected = {name: delivered_key(request_id, name) for name in DELIVERED_FILES}
    assert outcome.result.files == expected
    assert record.request_metadata["files"] == expected
    for name, key in expected.items():
        info = rig.blobs.stat(key)
        assert info is not None and info.size > 0, name
    script = json.loads(rig.blobs.get_bytes(expected["script.json"]))
    assert script["title"] == "The Water Cycle" and len(script["scenes"]) == 4
    manifest = json.loads(rig.blobs.get_bytes(expected["manifest.json"]))
    assert manifest["request_id"] == request_id
    assert rig.blobs.get_bytes(expected["video.mp4"]) == b"video.mp4 of The Water Cycle"


def test_a_retryable_failure_is_retried_after_the_backoff(rig: Rig) -> None:
    request_id = rig.new_request()
    rig.scene_hook = _stage_failure(retryable=True, on_run=1)
    dispatcher = rig.dispatcher()

    first = _run(dispatcher)

    assert first.status == "retry" and "narrator is busy" in first.detail
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.GENERATING_VIDEO and record.lease_owner is None
    retries = [e for e in rig.repo.events(request_id) if e.event_type == "retry"]
    assert len(retries) == 1 and "narrator is busy" in retries[0].details["reason"]
    assert retries[0].details["delay_s"] == pytest.approx(0.1)
    seen = len(rig.repo.events(request_id))

    second = _after_backoff(dispatcher)

    assert second.status == "completed"
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.COMPLETED and record.attempts == 2
    assert _statuses(rig.status_events(request_id, seen)) == [
        RequestStatus.PROCESSING_VIDEO,
        RequestStatus.NOTIFYING,
        RequestStatus.COMPLETED,
    ]
    assert _statuses(rig.status_events(request_id)).count(RequestStatus.COMPLETED) == 1


def test_a_permanent_failure_fails_at_once_with_its_reason(rig: Rig) -> None:
    request_id = rig.new_request()
    rig.scene_hook = _stage_failure(retryable=False)
    dispatcher = rig.dispatcher()

    outcome = _run(dispatcher)

    assert outcome.status == "failed" and "narrator is busy" in outcome.detail
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.FAILED and record.attempts == 1
    assert record.error is not None
    assert record.error.stage == "generating_video"
    assert record.error.code == "stage_failed"
    assert record.error.message == "the narrator is busy"
    assert record.lease_owner is None
    assert not [e for e in rig.repo.events(request_id) if e.event_type == "retry"]
    time.sleep(0.25)
    assert dispatcher.run_next() is None


def test_retryable_failures_end_failed_once_the_attempts_are_spent(rig: Rig) -> None:
    request_id = rig.new_request()
    rig.scene_hook = _stage_failure(retryable=True)
    dispatcher = rig.dispatcher(max_attempts=2)

    outcomes = [_run(dispatcher), _after_backoff(dispatcher)]

    assert [o.status for o in outcomes] == ["retry", "failed"]
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.FAILED and record.attempts == 2
    assert record.error is not None and record.error.code == "retries_exhausted"
    assert record.error.stage == "generating_video"
    assert "narrator is busy" in record.error.message
    assert record.lease_owner is None
    assert _statuses(rig.status_events(request_id)).count(RequestStatus.FAILED) == 1
    assert len([e for e in rig.repo.events(request_id) if e.event_type == "retry"]) == 1
    time.sleep(0.5)
    assert dispatcher.run_next() is None
    assert rig.runs == 2


def test_an_unexpected_exception_fails_as_internal_without_leaking_its_text(rig: Rig) -> None:
    request_id = rig.new_request()

    def divide(run: int) -> None:
        _ = run / 0

    rig.write_hook = divide
    dispatcher = rig.dispatcher()

    outcome = _run(dispatcher)

    assert outcome.status == "failed"
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.FAILED and record.attempts == 1
    error = record.error
    assert error is not None and error.code == "internal"
    assert error.stage == "generating_script"
    assert re.fullmatch(r"[0-9a-f]{12}", error.error_id), error.error_id
    assert error.error_id in error.message
    leaked = ("division by zero", "ZeroDivisionError")
    assert not any(text in error.message for text in leaked)
    assert not any(text in outcome.detail for text in leaked)
    for event in rig.repo.events(request_id):
        assert not any(text in event.message for text in leaked)
        assert not any(text in json.dumps(event.details) for text in leaked)
    time.sleep(0.25)
    assert dispatcher.run_next() is None


def test_a_cancellation_while_running_stops_the_pipeline(rig: Rig) -> None:
    request_id = rig.new_request()
    seen: dict[str, float | bool] = {}

    def cancel_then_wait_for_stop(run: int, scene: int, stop: threading.Event) -> None:
        if scene != 1:
            return
        rig.repo.cancel(request_id, "org", "the student left")
        started = time.monotonic()
        seen["stopped"] = stop.wait(2.0)
        seen["waited_s"] = time.monotonic() - started
        raise StageFailed("generating_video", "stopped before finishing", retryable=True)

    rig.scene_hook = cancel_then_wait_for_stop
    dispatcher = rig.dispatcher(lease_s=0.6)

    outcome = _run(dispatcher)

    assert seen["stopped"] is True and float(seen["waited_s"]) < 2.0
    assert outcome.status == "cancelled"
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.CANCELLED and record.lease_owner is None
    statuses = _statuses(rig.status_events(request_id))
    assert RequestStatus.COMPLETED not in statuses and RequestStatus.FAILED not in statuses
    assert statuses[-1] is RequestStatus.CANCELLED
    assert not [e for e in rig.repo.events(request_id) if e.event_type == "retry"]
    assert rig.blobs.stat(delivered_key(request_id, "video.mp4")) is None
    assert dispatcher.run_next() is None


def test_a_crashed_holders_request_is_resumed_from_its_stage(rig: Rig) -> None:
    request_id = rig.new_request()
    dead = rig.queue.claim("dead", 0.1, 5)
    assert dead is not None and dead.request_id == request_id
    for status in PIPELINE[1 : PIPELINE.index(RequestStatus.GENERATING_VIDEO) + 1]:
        rig.repo.transition(
            request_id, status, progress=band_progress(status, 0.0), token=dead.token
        )
    time.sleep(0.25)
    seen = len(rig.repo.events(request_id))
    late: list[BaseException] = []

    def late_write_from_the_dead_holder(run: int, scene: int, stop: threading.Event) -> None:
        if scene != 0:
            return
        try:
            rig.repo.progress(request_id, 99, "the dead holder wakes up", token=dead.token)
        except (LeaseLost, Conflict) as exc:
            late.append(exc)
        try:
            rig.repo.transition(
                request_id, RequestStatus.FAILED, message="dead holder", token=dead.token
            )
        except (LeaseLost, Conflict) as exc:
            late.append(exc)

    rig.scene_hook = late_write_from_the_dead_holder
    dispatcher = rig.dispatcher()

    outcome = _run(dispatcher)

    assert outcome.status == "completed"
    assert [type(exc) for exc in late] == [LeaseLost, LeaseLost]
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.COMPLETED and record.attempts == 2
    assert record.lease_token == dead.token + 1
    assert _statuses(rig.status_events(request_id, seen)) == [
        RequestStatus.PROCESSING_VIDEO,
        RequestStatus.NOTIFYING,
        RequestStatus.COMPLETED,
    ]
    assert _statuses(rig.status_events(request_id)) == list(PIPELINE)
    resumed = rig.repo.events(request_id, seen)
    assert all(e.progress_percentage != 99 for e in resumed)
    assert all(e.message != "the dead holder wakes up" for e in resumed)
    with pytest.raises((LeaseLost, Conflict)):
        rig.repo.progress(request_id, 100, "still late", token=dead.token)
    assert rig.repo.get(request_id).status is RequestStatus.COMPLETED
    assert dispatcher.run_next() is None


def test_a_question_needing_clarification_waits_without_a_lease(rig: Rig) -> None:
    request_id = rig.new_request()
    rig.clarify = True
    dispatcher = rig.dispatcher()

    outcome = _run(dispatcher)

    assert outcome.status == "clarification_needed"
    record = rig.repo.get(request_id)
    assert record.status is RequestStatus.CLARIFICATION_NEEDED and record.lease_owner is None
    assert record.request_metadata["clarifying_questions"] == ["Which part of the water cycle?"]
    assert dispatcher.run_next() is None

    rig.clarify = False
    rig.repo.answer(request_id, "how rain forms")
    assert _run(dispatcher).status == "completed"
    assert rig.repo.get(request_id).to_request().clarifications == ("how rain forms",)


def test_a_shutdown_hands_running_requests_back_at_once(rig: Rig) -> None:
    request_id = rig.new_request()
    dispatcher = rig.dispatcher(lease_s=30)  # a long lease: only the hand-back frees it early

    def shut_down_mid_scene(run: int, scene: int, stop: threading.Event) -> None:
        if run == 1 and scene == 1:
            dispatcher.shutdown()
            assert stop.wait(2.0)
            raise StageFailed("generating_video", "stopped", retryable=True)

    rig.scene_hook = shut_down_mid_scene
    outcome = _run(dispatcher)
    assert outcome.status == "released"
    record = rig.repo.get(request_id)
    assert record.lease_owner is None and record.status is RequestStatus.GENERATING_VIDEO
    assert not [e for e in rig.repo.events(request_id) if e.event_type == "retry"]

    # Another dispatcher takes it over straight away and finishes it once.
    policy = DispatchPolicy(lease_s=30, max_attempts=3, retry_base_s=0.1)
    successor = Dispatcher(rig.queue, rig.repo, rig.pipeline, policy, owner="dispatcher-2")
    assert _run(successor).status == "completed"
    completed = [e for e in rig.status_events(request_id) if e.status is RequestStatus.COMPLETED]
    assert len(completed) == 1


NEVER_S = 3600.0  # a poll interval no test waits out


class _Looking(Dispatcher):
    """A dispatcher that says when the loop has looked for work and found none."""

    def __init__(self, rig: Rig) -> None:
        policy = DispatchPolicy(lease_s=30, max_attempts=3, retry_base_s=0.1)
        super().__init__(rig.queue, rig.repo, rig.pipeline, policy, owner="dispatcher-1")
        self.empty = threading.Event()

    def claim(self) -> Claim | None:
        claim = super().claim()
        if claim is None:
            self.empty.set()
        return claim


@dataclass
class _Loop:
    """``dispatch_forever`` on its own thread with a poll no test waits out: only a ring, or a
    pipeline ending, makes it claim again."""

    dispatcher: _Looking
    slots: int = 1
    stopping: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)
    outcomes: list[Outcome] = field(default_factory=list)
    seen: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name="dispatch-loop", daemon=True)

    def _run(self) -> None:
        dispatch_forever(
            self.dispatcher, self.slots, self.stopping, NEVER_S, self._outcome, self.wake
        )

    def _outcome(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.seen.set()

    def statuses(self, count: int) -> list[str]:
        """The outcomes once ``count`` are in (or whatever came within 30 s)."""
        deadline = time.monotonic() + 30
        while len(self.outcomes) < count and time.monotonic() < deadline:
            self.seen.wait(0.5)
            self.seen.clear()
        return [o.status for o in self.outcomes]

    def __enter__(self) -> _Loop:
        self.thread.start()
        assert self.dispatcher.empty.wait(30), "the loop never looked for work"
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self.wake.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


def test_a_ring_makes_the_loop_claim_a_new_request_before_its_poll(rig: Rig) -> None:
    with _Loop(_Looking(rig)) as loop:
        request_id = rig.new_request()
        loop.wake.set()  # what an intake's doorbell does once the row is committed

        assert loop.statuses(1) == ["completed"]

    assert loop.outcomes[0].request_id == request_id
    assert rig.repo.get(request_id).status is RequestStatus.COMPLETED


def test_a_pipeline_that_ends_frees_its_slot_for_the_next_request_at_once(rig: Rig) -> None:
    with _Loop(_Looking(rig), slots=1) as loop:
        first, second = rig.new_request(), rig.new_request()
        loop.wake.set()  # one ring for both: the second waits for the slot, not for the poll

        assert loop.statuses(2) == ["completed", "completed"]

    assert [o.request_id for o in loop.outcomes] == [first, second]
