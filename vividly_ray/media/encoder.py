"""FfmpegSegmentEncoder: one scene's slides, timed to its narration, as a video-only H.264 MP4.

Given the audio of one part of a scene (``SceneAudio.part``), it encodes that part only: the
slide as it stands when the part starts and the reveals within it, so the parts' segments,
joined by stream copy, show the whole scene.

Segments are content-addressed: the key covers everything that shows on screen and when
(render spec, scene text, its visual, reveal plan, and the audio whose timings pace the
reveals), so a resumed or repeated request gets a finished segment back without drawing or encoding.
The scene's index is deliberately not part of the key: nothing on the slide shows it, so two
scenes with the same content share one segment.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import (
    RenderSpec,
    Scene,
    SceneAudio,
    SceneSegment,
    piece_label,
    piece_name,
)
from vividly_ray.media.ffmpeg import run_ffmpeg, segment_encode_args, stills_concat_script
from vividly_ray.media.mp4 import video_track
from vividly_ray.media.slides import SlideRenderer
from vividly_ray.observability.cpu import cpu_meter
from vividly_ray.storage.cache import ContentCache, content_key, no_space_failure, out_of_space

STAGE = "generating_video"
# Bump when drawing or encoding changes, so cached segments made the old way are not reused.
SEGMENT_FORMAT_VERSION = 3
# A segment may differ from its audio by rounding only (the closing tick is 1/90000 s).
DURATION_TOLERANCE_S = 0.02

FfmpegRun = Callable[[Sequence[str], str], None]


def segment_key(spec: RenderSpec, scene: Scene, audio: SceneAudio) -> str:
    """The cache key of a scene's segment."""
    return content_key(
        "segment",
        SEGMENT_FORMAT_VERSION,
        dataclasses.asdict(spec),
        scene.title,
        scene.kind.value,
        list(scene.bullets),
        list(scene.reveal_at),
        dataclasses.asdict(scene.visual) if scene.visual is not None else None,
        audio.content_key,
        # Which sentences of the scene the audio holds decides which reveals fall within it.
        dataclasses.asdict(audio.part) if audio.part is not None else None,
    )


class FfmpegSegmentEncoder:
    """Implements ``SegmentEncoder`` with Pillow slides and the bundled ffmpeg."""

    def __init__(
        self,
        spec: RenderSpec,
        cache: ContentCache,
        work_dir: Path,
        threads: int = 1,
        *,
        run: FfmpegRun = run_ffmpeg,
    ) -> None:
        self.spec = spec
        self.cache = cache
        self.work_dir = Path(work_dir)
        self.threads = max(1, threads)
        self._run = run
        self._renderer = SlideRenderer(spec)

    def encode(self, scene: Scene, audio: SceneAudio) -> SceneSegment:
        key = segment_key(self.spec, scene, audio)
        # The metadata is stored after the segment, so its presence means the segment is whole.
        meta = self.cache.get_json("segment-meta", key)
        if meta is not None:
            video_key = self.cache.blob_key("segments", key, ".mp4")
            return SceneSegment(
                scene.index,
                video_key,
                float(meta["duration"]),
                key,
                reused=True,
                part=audio.part,
            )
        try:
            self.work_dir.mkdir(parents=True, exist_ok=True)
            prefix = f"{piece_name(scene.index, audio.part)}-"
            scratch = Path(tempfile.mkdtemp(prefix=prefix, dir=self.work_dir))
            with cpu_meter() as measured:
                try:
                    video_key, duration = self._draw_and_encode(scene, audio, scratch, key)
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
            self.cache.put_json("segment-meta", key, {"duration": duration})
        except OSError as exc:
            if not out_of_space(exc):
                raise
            # The slides, the encoder's output or the stored copy found the disk full. Nothing
            # is kept (no metadata, so no entry), and another attempt, maybe on another node
            # or once space is freed, starts over.
            raise no_space_failure(STAGE, piece_label(scene.index, audio.part), exc) from exc
        return SceneSegment(
            scene.index,
            video_key,
            duration,
            key,
            reused=False,
            cpu_seconds=measured.seconds,
            part=audio.part,
        )

    def _draw_and_encode(
        self, scene: Scene, audio: SceneAudio, scratch: Path, key: str
    ) -> tuple[str, float]:
        frames = self._renderer.render_scene(scene, audio, scratch)
        script = scratch / "stills.ffconcat"
        script.write_text(
            stills_concat_script([(f.path, f.duration) for f in frames]), encoding="utf-8"
        )
        duration = 0.0

        def write(tmp: Path) -> None:
            nonlocal duration
            self._run(segment_encode_args(script, tmp, self.spec, self.threads), STAGE)
            duration = video_track(tmp, STAGE).duration
            if abs(duration - audio.duration) > DURATION_TOLERANCE_S:
                raise StageFailed(
                    STAGE,
                    f"{piece_label(scene.index, audio.part)}: segment lasts {duration:.3f} s "
                    f"but its narration {audio.duration:.3f} s",
                )

        video_key = self.cache.put("segments", key, ".mp4", write, "video/mp4")
        return video_key, duration
