"""Is every source credited on screen and in the manifest, with its licence?

The manifest is the pipeline's own (``vividly_ray.pipeline.manifest.build_manifest``), built here
from estimated scene timings and placeholder segment and video values, since only its
``sources`` list is checked. One miss is counted for each of these:
- a source of ``script.sources`` with an empty or "unknown" licence, or no attribution;
- a source whose title, or whose licence, is not in the credits scene's text (or there is no
  credits scene);
- a source that is not in the manifest's ``sources`` with the same licence;
- a source id that a scene lists but ``script.sources`` does not.
"""

from __future__ import annotations

from pathlib import Path

from vividly_ray.domain.models import (
    AssembledVideo,
    SceneKind,
    SceneSegment,
    Script,
    VideoRequest,
)
from vividly_ray.library.records import UNKNOWN_LICENSE
from vividly_ray.pipeline.manifest import build_manifest
from vividly_ray.pipeline.timeline import StageTimeline

from .timing import estimated_timeline


def manifest_sources(request: VideoRequest, script: Script) -> list[dict[str, str]]:
    """The ``sources`` of the manifest the pipeline would write for this script."""
    timed = estimated_timeline(script)
    scenes = [
        (audio, SceneSegment(audio.scene_index, "estimate.mp4", audio.duration, "estimate"))
        for _, audio in timed
    ]
    total = sum(audio.duration for _, audio in timed)
    video = AssembledVideo(
        video_path=Path("video.mp4"),
        vtt_path=Path("captions.vtt"),
        srt_path=Path("captions.srt"),
        thumbnail_path=Path("thumbnail.jpg"),
        duration=total,
        chapters=(),
    )
    manifest = build_manifest("quality", request, script, scenes, video, StageTimeline())
    sources: list[dict[str, str]] = manifest["sources"]
    return sources


def attribution_misses(request: VideoRequest, script: Script) -> list[str]:
    """One line per miss (empty: every source is credited with its licence)."""
    misses: list[str] = []
    credits = next((s for s in script.scenes if s.kind is SceneKind.CREDITS), None)
    shown = "\n".join(credits.bullets).lower() if credits else ""
    listed = {entry["id"]: entry for entry in manifest_sources(request, script)}
    for source in script.sources:
        name = source.title
        licence = source.license.strip()
        if not licence or licence.lower() == UNKNOWN_LICENSE:
            misses.append(f"{name}: no licence")
        if not source.attribution.strip():
            misses.append(f"{name}: no attribution")
        if credits is None:
            misses.append(f"{name}: the script has no credits scene")
        else:
            if name.lower() not in shown:
                misses.append(f"{name}: title not on the credits slide")
            if licence and licence.lower() not in shown:
                misses.append(f"{name}: licence not on the credits slide")
        entry = listed.get(source.source_id)
        if entry is None or entry["license"] != source.license:
            misses.append(f"{name}: not in the manifest with its licence")
    credited = {source.source_id for source in script.sources}
    for scene in script.scenes:
        for source_id in scene.source_ids:
            if source_id not in credited:
                misses.append(f"scene {scene.index} cites {source_id}, which is not credited")
    return misses
