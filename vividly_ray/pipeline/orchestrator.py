"""VideoPipeline: drives one request through every stage, persisting each step.

The same code runs under the CLI and under the service; only the adapters behind the ports
change. Errors become request states here and are re-raised for the edge to turn into an exit
code or an HTTP response.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from vividly_ray.domain.errors import (
    ClarificationNeeded,
    RefusedUnsafe,
    StageFailed,
    VividlyError,
)
from vividly_ray.domain.models import SceneAudio, SceneSegment, Script, VideoRequest, VideoResult
from vividly_ray.domain.status import RequestStatus, band_progress
from vividly_ray.pipeline.grounding import require_material, retrieval_limit
from vividly_ray.pipeline.manifest import build_manifest
from vividly_ray.pipeline.ports import (
    Assembler,
    PipelineListener,
    QuestionAssessor,
    Retriever,
    SceneExecutor,
    ScriptWriter,
    SilentListener,
    StatusTracker,
)
from vividly_ray.pipeline.serialize import script_to_dict
from vividly_ray.pipeline.timeline import StageTimeline
from vividly_ray.validation.assess import Assessment


@dataclass(frozen=True)
class PipelinePorts:
    assessor: QuestionAssessor
    retriever: Retriever
    writer: ScriptWriter
    executor: SceneExecutor
    assembler: Assembler
    tracker: StatusTracker


class VideoPipeline:
    """Runs validating -> ... -> completed for one recorded request."""

    def __init__(self, ports: PipelinePorts, listener: PipelineListener | None = None) -> None:
        self._ports = ports
        self._listener = listener or SilentListener()

    def run(self, request_id: str, request: VideoRequest, out_dir: Path) -> VideoResult:
        timeline = StageTimeline()
        timeline.enter(RequestStatus.PENDING)
        stage = RequestStatus.PENDING
        try:
            stage = self._enter(request_id, RequestStatus.VALIDATING, timeline)
            assessment = self._validate(request_id, request, timeline)

            stage = self._enter(request_id, RequestStatus.RETRIEVING, timeline)
            topic = assessment.grounding_topic
            retrieval = self._ports.retriever.retrieve(
                request.question, request.grade, retrieval_limit(request), topic=topic
            )
            require_material(retrieval, request, topic)

            stage = self._enter(request_id, RequestStatus.GENERATING_SCRIPT, timeline)
            script = self._ports.writer.write(request, retrieval)
            out_dir.mkdir(parents=True, exist_ok=True)
            script_path = out_dir / "script.json"
            script_path.write_text(json.dumps(script_to_dict(script), indent=2), "utf-8")

            stage = self._enter(request_id, RequestStatus.GENERATING_VIDEO, timeline)
            scenes = self._render_scenes(request_id, script)

            stage = self._enter(request_id, RequestStatus.PROCESSING_VIDEO, timeline)
            video = self._ports.assembler.assemble(script, scenes, out_dir)

            stage = self._enter(request_id, RequestStatus.NOTIFYING, timeline)
            stage = self._enter(request_id, RequestStatus.COMPLETED, timeline, "video delivered")
        except (ClarificationNeeded, RefusedUnsafe):
            raise
        except StageFailed as exc:
            self._fail(request_id, exc)
            raise
        except VividlyError as exc:
            failure = StageFailed(stage.value, exc.message, retryable=exc.retryable)
            self._fail(request_id, failure)
            raise failure from exc
        except Exception as exc:
            failure = StageFailed(stage.value, f"{type(exc).__name__}: {exc}", retryable=True)
            self._fail(request_id, failure)
            raise failure from exc

        manifest_path = out_dir / "manifest.json"
        manifest = build_manifest(request_id, request, script, scenes, video, timeline)
        manifest_path.write_text(json.dumps(manifest, indent=2), "utf-8")
        return VideoResult(
            video_path=str(video.video_path),
            captions_vtt=str(video.vtt_path),
            captions_srt=str(video.srt_path),
            thumbnail=str(video.thumbnail_path),
            script_json=str(script_path),
            manifest_json=str(manifest_path),
            duration=video.duration,
            scene_count=len(script.scenes),
            reused_scenes=sum(1 for _, seg in scenes if seg.reused),
        )

    def _enter(
        self,
        request_id: str,
        status: RequestStatus,
        timeline: StageTimeline,
        message: str = "",
    ) -> RequestStatus:
        timeline.enter(status)
        self._ports.tracker.transition(
            request_id, status, message=message, progress=band_progress(status, 0.0)
        )
        self._listener.stage(status)
        return status

    def _validate(
        self, request_id: str, request: VideoRequest, timeline: StageTimeline
    ) -> Assessment:
        assessment = self._ports.assessor.assess(request.question, request.grade)
        if assessment.decision == "refuse":
            refusal = RefusedUnsafe(assessment.reasons)
            self._ports.tracker.transition(
                request_id, RequestStatus.FAILED, message=f"refused: {refusal.message}"
            )
            timeline.enter(RequestStatus.FAILED)
            raise refusal
        if assessment.decision == "clarify":
            clarification = ClarificationNeeded(assessment.reasons, assessment.questions)
            self._ports.tracker.transition(
                request_id,
                RequestStatus.CLARIFICATION_NEEDED,
                message=" | ".join(assessment.questions),
            )
            timeline.enter(RequestStatus.CLARIFICATION_NEEDED)
            raise clarification
        return assessment

    def _render_scenes(
        self, request_id: str, script: Script
    ) -> list[tuple[SceneAudio, SceneSegment]]:
        total = len(script.scenes)
        done = 0
        self._listener.scenes(0, total)
        last_report = 0.0

        def on_scene_done(audio: SceneAudio, segment: SceneSegment) -> None:
            nonlocal done, last_report
            done += 1
            self._listener.scenes(done, total)
            now = time.monotonic()
            # Persist progress at most a few times a second; the last scene always reports.
            if done == total or now - last_report > 0.25:
                last_report = now
                self._ports.tracker.progress(
                    request_id,
                    band_progress(RequestStatus.GENERATING_VIDEO, done / total),
                    f"scene {done}/{total} encoded",
                )

        return self._ports.executor.run(script, on_scene_done)

    def _fail(self, request_id: str, failure: StageFailed) -> None:
        self._ports.tracker.transition(
            request_id, RequestStatus.FAILED, message=failure.message, error=failure.message
        )
