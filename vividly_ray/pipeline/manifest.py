"""manifest.json: what was made, from what, by which provider, how long each stage took and
what it cost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vividly_ray import __version__
from vividly_ray.domain.costs import PriceTable, estimate
from vividly_ray.domain.models import (
    AssembledVideo,
    SceneAudio,
    SceneSegment,
    Script,
    VideoRequest,
)
from vividly_ray.pipeline.serialize import source_to_dict
from vividly_ray.pipeline.timeline import StageTimeline


def build_manifest(
    request_id: str,
    request: VideoRequest,
    script: Script,
    scenes: Sequence[tuple[SceneAudio, SceneSegment]],
    video: AssembledVideo,
    timeline: StageTimeline,
    cpu_seconds: dict[str, float] | None = None,
    prices: PriceTable | None = None,
    *,
    waits: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The request's manifest.json. ``waits``: seconds processing_video spent waiting for work
    that ran beside the pieces (``narration_track``, ``stream``), recorded as
    ``processing_waits_s``."""
    cpu = {stage: round(seconds, 3) for stage, seconds in (cpu_seconds or {}).items()}
    speech: dict[str, int] = {}
    for audio, _ in scenes:
        speech[audio.voiced_by] = speech.get(audio.voiced_by, 0) + audio.tts_characters
    cost = estimate(
        prices or PriceTable(),
        tokens_in=script.usage.llm_tokens_in,
        tokens_out=script.usage.llm_tokens_out,
        tts_characters=speech,
        cpu_seconds=sum(cpu.values()),
    )
    cost["cpu_seconds_by_stage"] = cpu
    by_scene: dict[int, list[tuple[SceneAudio, SceneSegment]]] = {}
    for audio, segment in scenes:
        by_scene.setdefault(audio.scene_index, []).append((audio, segment))
    cost["llm_calls"] = script.usage.llm_calls
    return {
        "request_id": request_id,
        "generator": f"vividly-ray {__version__}",
        "request": {
            "question": request.question,
            "grade": request.grade.label,
            "minutes": request.minutes,
            "aspect": request.aspect.value,
            "resolution": request.resolution.value,
        },
        "title": script.title,
        "status_timeline": timeline.to_list(),
        "stage_seconds": timeline.stage_seconds(),
        "processing_waits_s": {name: round(s, 3) for name, s in (waits or {}).items()},
        "scene_count": len(script.scenes),
        "durations": {
            "target_seconds": round(request.minutes * 60, 2),
            "video_seconds": round(video.duration, 3),
            "scenes": [
                {
                    "index": index,
                    "title": script.scenes[index].title,
                    "seconds": round(sum(segment.duration for _, segment in pieces), 3),
                    "segment_reused": all(segment.reused for _, segment in pieces),
                    # How many pieces the pools cut the scene into (1: it was not cut).
                    "parts": len(pieces),
                }
                for index, pieces in by_scene.items()
            ],
        },
        "chapters": [
            {"title": title, "start": round(start, 3), "end": round(end, 3)}
            for title, start, end in video.chapters
        ],
        "sources": [source_to_dict(s) for s in script.sources],
        "providers": {
            "script": script.planned_by,
            "scenes": [
                {
                    "index": index,
                    "written_by": script.scenes[index].written_by,
                    # A scene cut into parts may have parts in two voices (a provider that
                    # failed part way): each is named once, in order, joined by ", ".
                    "voiced_by": ", ".join(_distinct(audio.voiced_by for audio, _ in pieces)),
                    # Which cluster nodes narrated and which encoded the scene (its parts may
                    # run on several; empty off a cluster): a slow or faulty node shows up here.
                    "narrated_on": _distinct(audio.node_id for audio, _ in pieces),
                    "encoded_on": _distinct(segment.node_id for _, segment in pieces),
                }
                for index, pieces in by_scene.items()
            ],
        },
        "cost": cost,
        # Each scene task's worker, wall-clock start and end (epoch seconds) and CPU seconds, where
        # the pools stamped them: the benchmark's timeline is drawn from these.
        "tasks": [
            {
                "task": task,
                "scene": audio.scene_index,
                # The scene's first sentence in this piece (0 also for a scene not cut).
                "part": 0 if audio.part is None else audio.part.first,
                "worker": span.worker,
                "start": round(span.started_at, 3),
                "end": round(span.finished_at, 3),
                "cpu_s": round(cpu, 3),
            }
            for audio, segment in scenes
            for task, span, cpu in (
                ("narrate", audio.span, audio.cpu_seconds),
                ("encode", segment.span, segment.cpu_seconds),
            )
            if span is not None
        ],
        "files": {
            "video": "video.mp4",
            "captions_vtt": "captions.vtt",
            "captions_srt": "captions.srt",
            "transcript": "transcript.txt",
            "thumbnail": "thumbnail.jpg",
            "script": "script.json",
        },
    }


def _distinct(values: Iterable[str]) -> list[str]:
    """The non-empty values, each once, in order."""
    return [value for value in dict.fromkeys(values) if value]
