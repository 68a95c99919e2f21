"""VideoAssembler: scene segments in, the delivered MP4 with captions, chapters and thumbnail out.

The video is joined by stream copy (no re-encode, so the cost does not grow with the picture
size), the narration is joined as PCM and encoded to AAC exactly once (here, or while the
scenes rendered by ``media.narration_track``, whose track is then copied), and every scene's place
on the timeline comes from its segment's measured duration, so captions, chapters and sound
all line up with the picture. A scene the pools cut into parts arrives as several pieces,
joined in order like scenes; its pieces make one chapter.

A repeat of the same assembly (the same script, the same scene audio and segments, the same
render spec and subtitle choice) is served from the content cache: the delivered files are
stored under a key of everything that determines them, with their values (duration, chapters)
written last, so an entry whose metadata exists is whole.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from vividly_ray.domain.blobs import BlobStore
from vividly_ray.domain.errors import BlobNotFound, StageFailed, VividlyError
from vividly_ray.domain.models import (
    AssembledVideo,
    Chapter,
    EncodedNarration,
    RenderSpec,
    SceneAudio,
    SceneSegment,
    Script,
    piece_label,
)
from vividly_ray.media.captions import build_cues, to_srt, to_webvtt
from vividly_ray.media.chapters import ffmetadata
from vividly_ray.media.ffmpeg import (
    MuxInputs,
    assemble_args,
    run_ffmpeg,
    segments_concat_script,
)
from vividly_ray.media.mp4 import video_track
from vividly_ray.media.narration import in_format, join_narration, wav_format
from vividly_ray.media.slides import SlideRenderer
from vividly_ray.observability.cpu import cpu_meter
from vividly_ray.pipeline.serialize import script_to_dict
from vividly_ray.storage.cache import (
    ContentCache,
    content_key,
    link_key,
    no_space_failure,
    out_of_space,
)

STAGE = "processing_video"
log = logging.getLogger("vividly.assemble")
# Part of every assembled entry's key: bump it whenever the files made from the same inputs
# change (ffmpeg arguments, caption or chapter format, thumbnail), so old entries are not used.
ASSEMBLY_FORMAT = 1
ENTRY_KIND = "assembled"
# Each delivered file of an entry and the suffix its blob is stored under.
ENTRY_FILES = {
    "video.mp4": (".mp4", "video/mp4"),
    "captions.vtt": (".vtt", "text/vtt; charset=utf-8"),
    "captions.srt": (".srt", "application/x-subrip; charset=utf-8"),
    "thumbnail.jpg": (".jpg", "image/jpeg"),
}


class VideoAssembler:
    """Implements the ``Assembler`` port with the bundled ffmpeg.

    Scene audio and segments are fetched from the BlobStore into a local scratch folder, so the
    assembler may run on any node. ``subtitles`` also muxes the captions as a soft (mov_text)
    subtitle track, for players that do not load side-car caption files.
    """

    def __init__(
        self, blobs: BlobStore, work_dir: Path, *, subtitles: bool = True, reuse: bool = True
    ) -> None:
        self.blobs = blobs
        self.work_dir = Path(work_dir)
        self.subtitles = subtitles
        self.reuse = reuse
        self._cache = ContentCache(blobs, self.work_dir / "cache-scratch")

    def assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
        *,
        narration: EncodedNarration | None = None,
    ) -> AssembledVideo:
        """``narration``: the track encoded as the pieces finished; used only when it holds
        exactly these pieces (its encode's CPU is counted here, as the assembly's work)."""
        if narration is not None and not _narrates(narration, scenes):
            log.warning("the narration encoded ahead is of other pieces; encoding it again")
            narration = None
        with cpu_meter() as measured:
            try:
                key = self.entry_key(script, scenes, spec)
                video = self._cached(key, out_dir) if self.reuse else None
                if video is None:
                    video = self._assemble(script, scenes, spec, out_dir, narration)
                    if self.reuse:
                        self._store_quietly(key, video, scenes)
            except OSError as exc:
                if not out_of_space(exc):
                    raise
                # The scratch copies, the narration track or the delivered files found the disk
                # full; the video is only moved into place once whole, so nothing half made
                # is left to deliver. Another attempt starts over.
                raise no_space_failure(STAGE, "assembling the video", exc) from exc
        ahead = narration.cpu_seconds if narration is not None else 0.0
        return dataclasses.replace(video, cpu_seconds=measured.seconds + ahead)

    def entry_key(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
    ) -> str:
        """The cache key of everything that determines the delivered files."""
        return content_key(
            ENTRY_KIND,
            ASSEMBLY_FORMAT,
            script_to_dict(script),
            [
                (a.scene_index, a.content_key, a.duration, s.content_key, s.duration)
                for a, s in scenes
            ],
            dataclasses.asdict(spec),
            self.subtitles,
        )

    def _cached(self, key: str, out_dir: Path) -> AssembledVideo | None:
        """The delivered files of an earlier identical assembly, copied to ``out_dir``."""
        meta = self._cache.get_json(f"{ENTRY_KIND}-meta", key)
        if meta is None:
            return None
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name, (suffix, _) in ENTRY_FILES.items():
            blob = ContentCache.blob_key(ENTRY_KIND, key, suffix)
            paths[name] = out_dir / name
            try:
                self.blobs.get_file(blob, paths[name])
            except BlobNotFound:
                return None  # evicted meanwhile: assemble again
        return AssembledVideo(
            video_path=paths["video.mp4"],
            vtt_path=paths["captions.vtt"],
            srt_path=paths["captions.srt"],
            thumbnail_path=paths["thumbnail.jpg"],
            duration=float(meta["duration"]),
            chapters=tuple((str(t), float(a), float(b)) for t, a, b in meta["chapters"]),
        )

    def _store_quietly(
        self, key: str, video: AssembledVideo, scenes: Sequence[tuple[SceneAudio, SceneSegment]]
    ) -> None:
        """Store the entry; the video is made either way, so a failed store (a full disk, an
        unreachable bucket) only costs the next identical request its reuse."""
        try:
            self._store(key, video, scenes)
        except (OSError, VividlyError) as exc:
            log.warning("the assembled video was not cached: %s", exc)

    def _store(
        self, key: str, video: AssembledVideo, scenes: Sequence[tuple[SceneAudio, SceneSegment]]
    ) -> None:
        """Store the files, then the links to the scene blobs, then the metadata."""
        local = {
            "video.mp4": video.video_path,
            "captions.vtt": video.vtt_path,
            "captions.srt": video.srt_path,
            "thumbnail.jpg": video.thumbnail_path,
        }
        for name, (suffix, content_type) in ENTRY_FILES.items():
            self.blobs.put_file(
                ContentCache.blob_key(ENTRY_KIND, key, suffix), local[name], content_type
            )
        # A segment's key covers its audio's, so its link alone ties the video to the scene.
        links = [link_key(segment.video_key, key) for _, segment in scenes]
        for link in links:
            self.blobs.put_bytes(link, b"", "application/octet-stream")
        meta = {
            "duration": video.duration,
            "chapters": [list(c) for c in video.chapters],
            "links": links,
        }
        self._cache.put_json(f"{ENTRY_KIND}-meta", key, meta)

    def _assemble(
        self,
        script: Script,
        scenes: Sequence[tuple[SceneAudio, SceneSegment]],
        spec: RenderSpec,
        out_dir: Path,
        encoded: EncodedNarration | None = None,
    ) -> AssembledVideo:
        if not scenes:
            raise StageFailed(STAGE, "there are no scene segments to assemble")
        for audio, segment in scenes:
            if (audio.scene_index, audio.part) != (segment.scene_index, segment.part):
                raise StageFailed(
                    STAGE,
                    f"narration of {piece_label(audio.scene_index, audio.part)} paired with the "
                    f"segment of {piece_label(segment.scene_index, segment.part)}",
                )
        out_dir.mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        offsets = _offsets([segment.duration for _, segment in scenes])
        chapters = _chapters(script, scenes, offsets)
        cues = build_cues(
            [(start, audio) for (audio, _), start in zip(scenes, offsets, strict=True)]
        )
        vtt_path, srt_path = out_dir / "captions.vtt", out_dir / "captions.srt"
        vtt_path.write_text(to_webvtt(cues), encoding="utf-8")
        srt_path.write_text(to_srt(cues), encoding="utf-8")

        scratch = Path(tempfile.mkdtemp(prefix="assemble-", dir=self.work_dir))
        video_path = out_dir / "video.mp4"
        try:
            videos = []
            for number, (_, segment) in enumerate(scenes):
                # Local names keep the blob's own name, so an ffmpeg error still names it.
                video_name = f"{number:03d}-{Path(segment.video_key).name}"
                videos.append(self.blobs.get_file(segment.video_key, scratch / video_name))
            narration = (
                encoded.path if encoded is not None else self._join_narration(scenes, scratch)
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
                narration_encoded=encoded is not None,
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

    def _join_narration(
        self, scenes: Sequence[tuple[SceneAudio, SceneSegment]], scratch: Path
    ) -> Path:
        """Every piece's WAV, fitted to its segment, as one PCM track in ``scratch``."""
        wavs = []
        for number, (audio, _) in enumerate(scenes):
            wav_name = f"{number:03d}-{Path(audio.wav_key).name}"
            wavs.append(self.blobs.get_file(audio.wav_key, scratch / wav_name))
        wavs = _one_format(wavs)
        narration = scratch / "narration.wav"
        join_narration(
            [(wav, s.duration) for wav, (_, s) in zip(wavs, scenes, strict=True)], narration
        )
        return narration


def _narrates(
    narration: EncodedNarration, scenes: Sequence[tuple[SceneAudio, SceneSegment]]
) -> bool:
    """Whether the encoded track holds exactly these pieces, in this order and these slots."""
    pieces = tuple((a.wav_key, a.content_key, s.duration) for a, s in scenes)
    return narration.pieces == pieces and narration.path.is_file()


def _one_format(wavs: list[Path]) -> list[Path]:
    """The pieces' WAVs, each in the first one's format: the narration is one PCM track."""
    target = wav_format(wavs[0])
    return [in_format(wav, target) for wav in wavs]


def _chapters(
    script: Script, scenes: Sequence[tuple[SceneAudio, SceneSegment]], offsets: Sequence[float]
) -> tuple[Chapter, ...]:
    """One chapter per scene; the pieces of a scene cut into parts make one chapter."""
    chapters: list[Chapter] = []
    previous = None
    for (audio, segment), start in zip(scenes, offsets, strict=True):
        end = start + segment.duration
        if audio.scene_index == previous:
            title, opened, _ = chapters[-1]
            chapters[-1] = (title, opened, end)
        else:
            chapters.append((_scene_title(script, audio.scene_index), start, end))
        previous = audio.scene_index
    return tuple(chapters)


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
