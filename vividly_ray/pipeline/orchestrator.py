"""VideoPipeline: drives one request through every stage, persisting each step.

The same code runs for the CLI and for the service (both reach it through the dispatcher); only
the adapters behind the ports change. A resumed request starts again from the stage it had
reached: earlier stages are recomputed (they are cheap and deterministic) but not re-recorded,
and finished scenes come back from the content-addressed cache.

Errors: a decision (clarify, refuse) and a permanent failure are recorded here; a retryable
failure is raised for the dispatcher to retry; an unexpected exception is a bug, recorded as
an ``InternalError`` with an error id.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from vividly_ray.domain.assessment import Assessment, Decision
from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.costs import PriceTable
from vividly_ray.domain.errors import (
    ClarificationNeeded,
    Conflict,
    InternalError,
    LeaseLost,
    RefusedUnsafe,
    StageFailed,
    VividlyError,
)
from vividly_ray.domain.models import (
    DELIVERED_FILES,
    ErrorInfo,
    RenderSpec,
    Retrieval,
    SceneAudio,
    SceneSegment,
    Script,
    VideoRequest,
    VideoResult,
    delivered_key,
    render_spec,
)
from vividly_ray.domain.status import PIPELINE, RequestStatus, band_progress
from vividly_ray.pipeline.grounding import require_material, retrieval_limit
from vividly_ray.pipeline.manifest import build_manifest
from vividly_ray.pipeline.ports import (
    Assembler,
    NarrationEncoder,
    NarrationTrack,
    PipelineListener,
    QuestionAssessor,
    Retriever,
    SceneExecutor,
    ScriptWriter,
    SilentListener,
    SpeechPacing,
    StatusTracker,
    StreamPart,
    StreamPublisher,
)
from vividly_ray.pipeline.serialize import script_to_dict, transcript_text
from vividly_ray.pipeline.timeline import StageTimeline

log = logging.getLogger("vividly.pipeline")

MAX_CLARIFICATION_ROUNDS = 3
# How long a finished render waits for the stream to catch up before it delivers the MP4.
STREAM_CATCH_UP_S = 60.0
# How long assembly waits for the narration encoded ahead before it encodes it itself.
NARRATION_CATCH_UP_S = 120.0
# Stream parts made at once, per request: one per two usable cores, at least 2, at most 8.
STREAM_MUXERS_MAX = 8


def stream_muxers() -> int:
    """How many of a request's stream parts are made side by side. Each part is a short ffmpeg
    run (about 60 ms for a 4 s piece); one at a time, a request cut into many pieces on many
    cores left the stream, and the request's end that waits for it, behind the pools."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity on this platform
        cores = os.cpu_count() or 1
    return max(2, min(STREAM_MUXERS_MAX, cores // 2))


@dataclass(frozen=True)
class PipelinePorts:
    assessor: QuestionAssessor
    retriever: Retriever
    writer: ScriptWriter
    executor: SceneExecutor
    assembler: Assembler
    tracker: StatusTracker
    blobs: BlobStore
    scratch: Path
    pacing: SpeechPacing
    prices: PriceTable = PriceTable()
    # Publishes finished scenes as a growing HLS stream; None delivers the MP4 only.
    stream: StreamPublisher | None = None
    # Encodes the narration as the pieces finish; None: the assembler encodes it at the end.
    narration: NarrationEncoder | None = None


class VideoPipeline:
    """Runs validating -> ... -> completed for one recorded request."""

    def __init__(self, ports: PipelinePorts, listener: PipelineListener | None = None) -> None:
        self._ports = ports
        self._listener = listener or SilentListener()

    def run(
        self,
        request_id: str,
        request: VideoRequest,
        *,
        resume_from: RequestStatus = RequestStatus.PENDING,
    ) -> VideoResult:
        timeline = StageTimeline()
        timeline.enter(RequestStatus.PENDING)
        reached = PIPELINE.index(resume_from) if resume_from in PIPELINE else 0
        stage = RequestStatus.PENDING
        feed: _StreamFeed | None = None
        track: NarrationTrack | None = None
        self._ports.scratch.mkdir(parents=True, exist_ok=True)
        out_dir = Path(
            tempfile.mkdtemp(prefix=f"request-{request_id[:8]}-", dir=self._ports.scratch)
        )
        try:
            cpu: dict[str, float] = {}
            started = time.thread_time()
            stage = self._enter(request_id, RequestStatus.VALIDATING, timeline, reached)
            assessment = self._validate(request_id, request, timeline)

            stage = self._enter(request_id, RequestStatus.RETRIEVING, timeline, reached)
            topic = assessment.grounding_topic
            retrieval = self._ports.retriever.retrieve(
                request.effective_question, request.grade, retrieval_limit(request), topic=topic
            )
            require_material(retrieval, request, topic, self._ports.pacing)
            cpu["validating+retrieving"] = time.thread_time() - started

            stage = self._enter(request_id, RequestStatus.GENERATING_SCRIPT, timeline, reached)
            started = time.thread_time()
            script = self._write_script(request_id, request, retrieval, assessment.topic, timeline)
            # A writer on a pool reports its own CPU; one in this thread is measured here.
            cpu["generating_script"] = script.usage.cpu_seconds or time.thread_time() - started
            (out_dir / "script.json").write_text(
                json.dumps(script_to_dict(script), indent=2), "utf-8"
            )
            (out_dir / "transcript.txt").write_text(transcript_text(script), "utf-8")
            self._ports.tracker.annotate(
                request_id, {"title": script.title, "scenes_total": len(script.scenes)}
            )

            stage = self._enter(request_id, RequestStatus.GENERATING_VIDEO, timeline, reached)
            spec = render_spec(request)
            if self._ports.stream is not None:
                feed = _StreamFeed(self._ports.stream, self._ports.tracker, request_id, script)
            if self._ports.narration is not None:
                track = self._ports.narration.start()
            in_order = _InOrder(script, _fan_out(feed, track))
            scenes = self._render_scenes(request_id, script, spec, in_order)

            stage = self._enter(request_id, RequestStatus.PROCESSING_VIDEO, timeline, reached)
            # How long processing_video waited for the work that ran beside the pieces.
            waits: dict[str, float] = {}
            narration = None
            if track is not None:
                waited = time.monotonic()
                narration = track.finish(NARRATION_CATCH_UP_S)
                waits["narration_track"] = time.monotonic() - waited
            video = self._ports.assembler.assemble(
                script, scenes, spec, out_dir, narration=narration
            )
            if feed is not None:
                # The stream's last scenes are published while the video is assembled.
                waited = time.monotonic()
                feed.finish(STREAM_CATCH_UP_S)
                waits["stream"] = time.monotonic() - waited

            stage = self._enter(request_id, RequestStatus.NOTIFYING, timeline, reached)
            # The manifest records the whole timeline, so it is written as the request completes:
            # its files are stored first and the completed transition is the last write.
            timeline.enter(RequestStatus.COMPLETED)
            # The stream's parts (their ffmpeg runs) are the video's work too.
            stream_cpu = feed.cpu_seconds if feed is not None else 0.0
            cpu["generating_video"] = (
                sum(a.cpu_seconds + g.cpu_seconds for a, g in scenes) + stream_cpu
            )
            cpu["processing_video"] = video.cpu_seconds
            manifest = build_manifest(
                request_id,
                request,
                script,
                scenes,
                video,
                timeline,
                cpu,
                self._ports.prices,
                waits=waits,
            )
            (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
            files = self._deliver(request_id, out_dir)
            self._ports.tracker.annotate(
                request_id,
                {
                    "files": files,
                    "video_seconds": round(video.duration, 3),
                    "stage_seconds": timeline.stage_seconds(),
                    "scenes_reused": _reused_scenes(scenes),
                },
            )
            self._ports.tracker.transition(
                request_id, RequestStatus.COMPLETED, message="video delivered", progress=100
            )
            self._listener.stage(RequestStatus.COMPLETED)
        except (ClarificationNeeded, RefusedUnsafe, LeaseLost, Conflict):
            raise
        except StageFailed as exc:
            if not exc.retryable:
                self._fail(request_id, ErrorInfo(exc.stage, "stage_failed", exc.reason))
            raise
        except VividlyError as exc:
            failure = StageFailed(stage.value, exc.message, retryable=exc.retryable)
            if not exc.retryable:
                self._fail(request_id, ErrorInfo(stage.value, "stage_failed", exc.message))
            raise failure from exc
        except Exception as exc:
            error_id = uuid.uuid4().hex[:12]
            log.exception(
                "internal error %s in %s", error_id, stage.value, extra={"error_id": error_id}
            )
            internal = InternalError(stage.value, error_id, f"{type(exc).__name__}: {exc}")
            self._fail(
                request_id,
                ErrorInfo(stage.value, "internal", f"internal error {error_id}", error_id),
            )
            raise internal from exc
        finally:
            if feed is not None:
                feed.abandon()
            if track is not None:
                track.abandon()
            shutil.rmtree(out_dir, ignore_errors=True)

        return VideoResult(
            request_id=request_id,
            files=files,
            duration=video.duration,
            scene_count=len(script.scenes),
            title=script.title,
            reused_scenes=_reused_scenes(scenes),
        )

    def _enter(
        self,
        request_id: str,
        status: RequestStatus,
        timeline: StageTimeline,
        reached: int,
        message: str = "",
    ) -> RequestStatus:
        timeline.enter(status)
        # A resumed request already recorded the stages up to the one it reached.
        if PIPELINE.index(status) > reached:
            self._ports.tracker.transition(
                request_id, status, message=message, progress=band_progress(status, 0.0)
            )
        self._listener.stage(status)
        return status

    def _validate(
        self, request_id: str, request: VideoRequest, timeline: StageTimeline
    ) -> Assessment:
        assessment = self._ports.assessor.assess(request.effective_question, request.grade)
        if assessment.decision is Decision.REFUSE:
            self._refuse(request_id, RefusedUnsafe(assessment.reasons), "validating", timeline)
        if assessment.decision is Decision.CLARIFY:
            if len(request.clarifications) >= MAX_CLARIFICATION_ROUNDS:
                raise StageFailed(
                    "validating",
                    f"the question is still unclear after {MAX_CLARIFICATION_ROUNDS} answers: "
                    + "; ".join(assessment.reasons),
                )
            self._ask(
                request_id, ClarificationNeeded(assessment.reasons, assessment.questions), timeline
            )
        return assessment

    def _write_script(
        self,
        request_id: str,
        request: VideoRequest,
        retrieval: Retrieval,
        topic: str,
        timeline: StageTimeline,
    ) -> Script:
        """The writer's script; a model-backed writer may also refuse or ask, as validation does."""
        try:
            return self._ports.writer.write(request, retrieval, topic)
        except RefusedUnsafe as refusal:
            self._refuse(request_id, refusal, "generating_script", timeline)
        except ClarificationNeeded as clarification:
            if len(request.clarifications) >= MAX_CLARIFICATION_ROUNDS:
                raise StageFailed(
                    "generating_script",
                    f"the question is still unclear after {MAX_CLARIFICATION_ROUNDS} answers: "
                    + clarification.message,
                ) from clarification
            self._ask(request_id, clarification, timeline)

    def _refuse(
        self, request_id: str, refusal: RefusedUnsafe, stage: str, timeline: StageTimeline
    ) -> NoReturn:
        self._ports.tracker.transition(
            request_id,
            RequestStatus.FAILED,
            message=f"refused: {refusal.message}",
            error=ErrorInfo(stage, "refused", refusal.message),
        )
        timeline.enter(RequestStatus.FAILED)
        raise refusal

    def _ask(
        self, request_id: str, clarification: ClarificationNeeded, timeline: StageTimeline
    ) -> NoReturn:
        self._ports.tracker.transition(
            request_id,
            RequestStatus.CLARIFICATION_NEEDED,
            message=" | ".join(clarification.questions),
            details={
                "questions": list(clarification.questions),
                "reasons": list(clarification.reasons),
            },
        )
        timeline.enter(RequestStatus.CLARIFICATION_NEEDED)
        raise clarification

    def _render_scenes(
        self, request_id: str, script: Script, spec: RenderSpec, in_order: _InOrder
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        total = len(script.scenes)
        done = 0
        self._listener.scenes(0, total)
        last_report = 0.0
        unreported: list[str] = []
        narrated: dict[int, int] = {}  # sentences finished so far, per scene cut into parts

        def on_scene_done(audio: SceneAudio, segment: SceneSegment) -> None:
            nonlocal done, last_report
            in_order.add(audio, segment)
            # The piece's blobs are recorded with the request, so erasing it can find them.
            unreported.extend((audio.wav_key, segment.video_key))
            part = segment.part
            if part is not None:
                index = segment.scene_index
                narrated[index] = narrated.get(index, 0) + part.count
                if narrated[index] < part.total:
                    return  # the scene's other parts are still running
            done += 1
            self._listener.scenes(done, total)
            now = time.monotonic()
            # Persist at most a few times a second; the last scene always reports.
            if done == total or now - last_report > 0.25:
                last_report = now
                self._ports.tracker.progress(
                    request_id,
                    band_progress(RequestStatus.GENERATING_VIDEO, done / total),
                    f"scene {done}/{total} encoded",
                    details={"scenes_done": done, "scenes_total": total, "blobs": unreported[:]},
                )
                unreported.clear()

        return self._ports.executor.run(script, spec, on_scene_done)

    def _deliver(self, request_id: str, out_dir: Path) -> dict[str, str]:
        """Upload every delivered file to the BlobStore; returns file name -> blob key."""
        files: dict[str, str] = {}
        for name, content_type in DELIVERED_FILES.items():
            key = delivered_key(request_id, name)
            self._ports.blobs.put_file(key, out_dir / name, content_type)
            files[name] = key
        return files

    def _fail(self, request_id: str, error: ErrorInfo) -> None:
        self._ports.tracker.transition(
            request_id, RequestStatus.FAILED, message=error.message, error=error
        )


def _reused_scenes(scenes: list[tuple[SceneAudio, SceneSegment]]) -> int:
    """Scenes whose every piece (the whole scene, or each of its parts) came from the cache."""
    reused: dict[int, bool] = {}
    for _, segment in scenes:
        reused[segment.scene_index] = reused.get(segment.scene_index, True) and segment.reused
    return sum(reused.values())


Ordered = Callable[[float, SceneAudio, SceneSegment], None]


def _fan_out(feed: _StreamFeed | None, track: NarrationTrack | None) -> Ordered:
    """Each piece, in timeline order, to the stream and to the narration track."""

    def deliver(start: float, audio: SceneAudio, segment: SceneSegment) -> None:
        if feed is not None:
            feed.put(start, audio, segment)
        if track is not None:
            track.add(audio, segment)

    return deliver


class _InOrder:
    """Finished pieces, arriving in completion order, handed on in timeline order.

    A piece (a whole scene, or one part of a scene cut into parts) goes on once every piece
    before it on the timeline is done, with its start on the timeline (where the delivered MP4
    puts it), so what follows the pieces (the stream, the narration) only ever grows at its end.
    """

    def __init__(self, script: Script, deliver: Ordered) -> None:
        self._deliver = deliver
        self._order = [scene.index for scene in script.scenes]
        # Finished pieces not yet handed on, by (scene index, first sentence).
        self._waiting: dict[tuple[int, int], tuple[SceneAudio, SceneSegment]] = {}
        self._next = 0  # the position in ``_order`` of the scene to hand on next
        self._next_sentence = 0  # and the sentence its next piece starts with
        self._start = 0.0

    def add(self, audio: SceneAudio, segment: SceneSegment) -> None:
        """A finished piece; it and any pieces it was holding back go on in order."""
        first = 0 if segment.part is None else segment.part.first
        self._waiting[(segment.scene_index, first)] = (audio, segment)
        while self._next < len(self._order):
            found = self._waiting.pop((self._order[self._next], self._next_sentence), None)
            if found is None:
                break
            audio, segment = found
            self._deliver(self._start, audio, segment)
            self._start += segment.duration
            part = segment.part
            if part is None or part.closes:
                self._next += 1
                self._next_sentence = 0
            else:
                self._next_sentence = part.first + part.count


class _StreamFeed:
    """Publishes finished pieces to the progressive stream: their parts are made side by side
    (``stream_muxers``), and published in timeline order on the feed's own thread.

    Each publication is recorded as a scene event (``stream_parts``, ``stream_scenes``: the
    scenes whose every piece is playable, and its blob keys, so erasure finds them). Publishing
    never fails the request: an error is logged and the stream stops growing, while the MP4 is
    still delivered.
    """

    def __init__(
        self,
        publisher: StreamPublisher,
        tracker: StatusTracker,
        request_id: str,
        script: Script,
        *,
        muxers: int | None = None,
    ) -> None:
        self._publisher = publisher
        self._tracker = tracker
        self._request_id = request_id
        self._total = len(script.scenes)
        self._scenes = 0  # scenes published whole
        self._parts: list[StreamPart] = []
        self._stopped = threading.Event()
        # CPU seconds the publisher reported for the parts so far (their ffmpeg runs).
        self.cpu_seconds = 0.0
        # Parts are made side by side (each is an ffmpeg run of its own); the playlist and the
        # events still grow in timeline order, on the publishing thread.
        self._muxers = ThreadPoolExecutor(
            max_workers=muxers or stream_muxers(), thread_name_prefix="stream-part"
        )
        self._work: queue.Queue[tuple[Future[StreamPart | None], SceneSegment] | None] = (
            queue.Queue()
        )
        self._thread = threading.Thread(target=self._publish_all, name="stream", daemon=True)
        self._thread.start()

    def put(self, start: float, audio: SceneAudio, segment: SceneSegment) -> None:
        """The next piece on the timeline, starting at ``start`` seconds: its part is made at
        once, beside the parts before it that are still being made."""
        if self._stopped.is_set():
            return
        try:
            made = self._muxers.submit(self._make, start, audio, segment)
        except RuntimeError:  # shut down: the stream has stopped
            return
        self._work.put((made, segment))

    def finish(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) for every queued scene to be published."""
        self._work.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the stream did not catch up within %.0f s; it stops here", timeout)
            self._stopped.set()

    def abandon(self) -> None:
        """Stop publishing (the request ended another way, or the stream already finished)."""
        self._stopped.set()
        self._work.put(None)
        self._muxers.shutdown(wait=False, cancel_futures=True)

    def _make(self, start: float, audio: SceneAudio, segment: SceneSegment) -> StreamPart | None:
        if self._stopped.is_set():
            return None
        return self._publisher.publish_scene(self._request_id, start, audio, segment)

    def _publish_all(self) -> None:
        try:
            while (item := self._work.get()) is not None:
                made, segment = item
                if self._stopped.is_set():
                    made.cancel()
                    continue
                try:
                    part = made.result()
                    if part is not None:
                        self._publish(part, segment)
                except LeaseLost:
                    self._stopped.set()  # another holder runs the request (and its stream) now
                except Exception:
                    log.warning("stream publishing failed; the stream stops growing", exc_info=True)
                    self._stopped.set()
        finally:
            self._muxers.shutdown(wait=False, cancel_futures=True)

    def _publish(self, part: StreamPart, segment: SceneSegment) -> None:
        self.cpu_seconds += part.cpu_seconds
        self._parts.append(part)
        if segment.part is None or segment.part.closes:
            self._scenes += 1
        total, published = self._total, self._scenes
        key = self._publisher.publish_playlist(
            self._request_id, self._parts, complete=published == total
        )
        new_init = all(p.init_key != part.init_key for p in self._parts[:-1])
        self._tracker.progress(
            self._request_id,
            band_progress(RequestStatus.GENERATING_VIDEO, published / total),
            f"stream: {published}/{total} scenes playable ({len(self._parts)} parts)",
            details={
                "stream_parts": len(self._parts),
                "stream_scenes": published,
                "stream_total": total,
                "blobs": [part.media_key, *([part.init_key] if new_init else []), key],
            },
        )
