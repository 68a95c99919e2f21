"""VideoAssembler: scene segments in, the delivered MP4 with captions, chapters and thumbnail out.

The video is joined by stream copy (no re-encode, so the cost does not grow with the picture
size), the narration is joined as PCM and encoded to AAC exactly once, and every scene's place
on the timeline comes from its segment's measured duration, so captions, chapters and sound
all line up with the picture.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.errors import StageFailed
from vividly_ray.domain.models import AssembledVideo, RenderSpec, SceneAudio, SceneSegment, Script
from vividly_ray.media.captions import build_cues, to_srt, to_webvtt
from vividly_ray.media.chapters import ffmetadata
from vividly_ray.media.ffmpeg import (
    MuxInputs,
    assemble_args,
    resample_args,
    run_ffmpeg,
    segments_concat_script,
)
from vividly_ray.media.mp4 import video_track
from vividly_ray.media.narration import join_narration, wav_format
from vividly_ray.media.slides import SlideRenderer
from vividly_ray.observability.cpu import cpu_meter
from vividly_ray.storage.cache import no_space_failure, out_of_space

STAGE = "processing_video"


class VideoAssembler:
    """Implements the ``Assembler`` port with the bundled ffmpeg.

    Scene audio and segments are fetched from the BlobStore into a local scratch folder, so the
    assembler may run on any node. ``subtitles`` also muxes the captions as a soft (mov_text)
    subtitle track, for players that do not load side-car caption files.
    """

    def __init__(self, blobs: BlobStore, work_dir: Path, *, subtitles: bool = True) -> None:
        self.blobs = blobs
        self.work_dir = Path(work_dir)
        self.subtitles = subtitles

    def assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
    ) -> AssembledVideo:
        with cpu_meter() as measured:
            try:
                video = self._assemble(script, scenes, spec, out_dir)
            except OSError as exc:
                if not out_of_space(exc):
                    raise
                # The scratch copies, the narration track or the delivered files found the disk
                # full; the video is only moved into place once whole, so nothing half made
                # is left to deliver. Another attempt starts over.
                raise no_space_failure(STAGE, "assembling the video", exc) from exc
        return dataclasses.replace(video, cpu_seconds=measured.seconds)

    def _assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
    ) -> AssembledVideo:
        if not scenes:
            raise StageFailed(STAGE, "there are no scene segments to assemble")
        for audio, segment in scenes:
            if audio.scene_index != segment.scene_index:
                raise StageFailed(
                    STAGE,
                    f"narration of scene {audio.scene_index} paired with the segment of scene "
                    f"{segment.scene_index}",
                )
        out_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        offsets = _offsets([segment.duration for _, segment in scenes])
        chapters = tuple(
            (_scene_title(script, audio.scene_index), start, start + segment.duration)
            for (audio, segment), start in zip(scenes, offsets, strict=True)
        )
        cues = build_cues(
            [(start, audio) for (audio, _), start in zip(scenes, offsets, strict=True)]
        )
        vtt_path, srt_path = out_dir / "captions.vtt", out_dir / "captions.srt"
        vtt_path.write_text(to_webvtt(cues), encoding="utf-8")
        srt_path.write_text(to_srt(cues), encoding="utf-8")

        scratch = Path(tempfile.mkdtemp(prefix="assemble-", dir=self.work_dir))
        video_path = out_dir / "video.mp4"
        try:
            wavs, videos = [], []
            for number, (audio, segment) in enumerate(scenes):
                # Local names keep the blob's own name, so an ffmpeg error still names it.
                wav_name = f"{number:03d}-{Path(audio.wav_key).name}"
                video_name = f"{number:03d}-{Path(segment.video_key).name}"
                wavs.append(self.blobs.get_file(audio.wav_key, scratch / wav_name))
                videos.append(self.blobs.get_file(segment.video_key, scratch / video_name))
            wavs = _one_format(wavs, scratch)
            narration = scratch / "narration.wav"
            join_narration(
                [(wav, s.duration) for wav, (_, s) in zip(wavs, scenes, strict=True)], narration
            )
            segments_script = scratch / "segments.ffconcat"
            segments_script.write_text(
                segments_concat_script(
                    [(video, s.duration) for video, (_, s) in zip(videos, scenes, strict=True)]
                ),
                "utf-8",
            )
            metadata = scratch / "chapters.ffmeta"
            metadata.write_text(ffmetadata(chapters), encoding="utf-8")
            inputs = MuxInputs(
                segments_script=segments_script,
                narration_wav=narration,
                chapters_metadata=metadata,
                subtitles_srt=srt_path if self.subtitles and cues else None,
                title=script.title,
            )
            # Write beside the destination and rename, so a failed run leaves no half file.
            partial = out_dir / ".video.partial.mp4"
            try:
                run_ffmpeg(assemble_args(inputs, partial), STAGE)
                os.replace(partial, video_path)
            finally:
                partial.unlink(missing_ok=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

        picture = video_track(video_path, STAGE)
        thumbnail = SlideRenderer(spec).render_thumbnail(script, out_dir / "thumbnail.jpg")
        return AssembledVideo(
            video_path=video_path,
            vtt_path=vtt_path,
            srt_path=srt_path,
            thumbnail_path=thumbnail,
            duration=picture.duration,
            chapters=chapters,
        )


def _one_format(wavs: list[Path], scratch: Path) -> list[Path]:
    """The scenes' WAVs, each in the first one's format.

    The narration is one PCM track, but a video's scenes need not share a voice: when the
    speech provider fails part way, the fallback voice speaks the rest, at its own sample rate
    (Piper's 22.05 kHz beside Cloud TTS's 24 kHz). Those scenes are converted; sentence timings
    are in seconds, so they still hold.
    """
    target = wav_format(wavs[0])
    converted = []
    for wav in wavs:
        if wav_format(wav) == target:
            converted.append(wav)
            continue
        out = wav.with_name(f"{wav.stem}-{target.rate}hz.wav")
        args = resample_args(wav, out, target.rate, target.channels, target.width)
        run_ffmpeg(args, STAGE)
        converted.append(out)
    return converted


def _offsets(durations: Sequence[float]) -> list[float]:
    starts, elapsed = [], 0.0
    for duration in durations:
        starts.append(elapsed)
        elapsed += duration
    return starts


def _scene_title(script: Script, index: int) -> str:
    for scene in script.scenes:
        if scene.index == index:
            return scene.title
    return f"Scene {index + 1}"
