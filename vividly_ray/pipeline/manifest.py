"""manifest.json: what was made, from what, and how long each stage took."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vividly_ray import __version__
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
) -> dict[str, Any]:
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
        "scene_count": len(script.scenes),
        "durations": {
            "target_seconds": round(request.minutes * 60, 2),
            "video_seconds": round(video.duration, 3),
            "scenes": [
                {
                    "index": audio.scene_index,
                    "title": script.scenes[audio.scene_index].title,
                    "seconds": round(segment.duration, 3),
                    "segment_reused": segment.reused,
                }
                for audio, segment in scenes
            ],
        },
        "chapters": [
            {"title": title, "start": round(start, 3), "end": round(end, 3)}
            for title, start, end in video.chapters
        ],
        "sources": [source_to_dict(s) for s in script.sources],
        "files": {
            "video": "video.mp4",
            "captions_vtt": "captions.vtt",
            "captions_srt": "captions.srt",
            "thumbnail": "thumbnail.jpg",
            "script": "script.json",
        },
    }
