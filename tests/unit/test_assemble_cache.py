"""A repeated assembly is served from the content cache, and erasure removes what it stored.

Real ffmpeg, a real local BlobStore and a real SQLite repository; the scenes are tone-narrated
slides encoded by the real segment encoder.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.test_media_ffmpeg import SCENES, SCRIPT, SECONDS, WIDE, make_audio
from vividly_ray.domain.models import SceneAudio, SceneSegment
from vividly_ray.domain.status import RequestStatus
from vividly_ray.media.assemble import ASSEMBLY_FORMAT, VideoAssembler
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.service.erasure import Eraser
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache, evict
from vividly_ray.validation.limits import parse_request

Pairs = list[tuple[SceneAudio, SceneSegment]]


@dataclass
class Scenes:
    store: LocalBlobStore
    pairs: Pairs
    root: Path

    def assembler(self) -> VideoAssembler:
        return VideoAssembler(self.store, self.root / "work")

    def cache_keys(self) -> list[str]:
        return sorted(k for k in self.store.list_keys("cache/") if "/assembled" in k)


@pytest.fixture
def scenes(tmp_path: Path) -> Scenes:
    store = LocalBlobStore(tmp_path / "blobs")
    pairs = []
    encoder = FfmpegSegmentEncoder(WIDE, ContentCache(store, tmp_path / "tmp"), tmp_path / "enc")
    for scene, seconds in zip(SCENES[:2], SECONDS[:2], strict=True):
        local = make_audio(tmp_path, scene.index, seconds, scene.narration)
        key = f"cache/audio/{local.content_key[:2]}/{local.content_key}.wav"
        store.put_file(key, tmp_path / local.wav_key, "audio/wav")
        audio = dataclasses.replace(local, wav_key=key)
        pairs.append((audio, encoder.encode(scene, audio)))
    return Scenes(store, pairs, tmp_path)


def test_a_repeat_is_served_from_the_cache_without_its_scenes(scenes: Scenes) -> None:
    first = scenes.assembler().assemble(SCRIPT, scenes.pairs, WIDE, scenes.root / "one")
    stored = scenes.cache_keys()
    assert sum(k.startswith("cache/assembled/") for k in stored) == 4  # mp4, vtt, srt, jpg
    assert sum(k.startswith("cache/assembled-meta/") for k in stored) == 1
    # Without its scene blobs, only the stored entry can answer.
    for audio, segment in scenes.pairs:
        scenes.store.delete(audio.wav_key)
        scenes.store.delete(segment.video_key)
    again = scenes.assembler().assemble(SCRIPT, scenes.pairs, WIDE, scenes.root / "two")
    assert again.video_path == scenes.root / "two" / "video.mp4"
    for made, reused in (
        (first.video_path, again.video_path),
        (first.vtt_path, again.vtt_path),
        (first.srt_path, again.srt_path),
        (first.thumbnail_path, again.thumbnail_path),
    ):
        assert reused.read_bytes() == made.read_bytes()
    # The values come back exactly (JSON keeps a float's shortest repr).
    assert (again.duration, again.chapters) == (first.duration, first.chapters)


def test_anything_that_changes_the_files_changes_the_key(scenes: Scenes) -> None:
    assembler = scenes.assembler()
    key = assembler.entry_key(SCRIPT, scenes.pairs, WIDE)
    retitled = dataclasses.replace(SCRIPT, title="Clouds and rain")
    audio, segment = scenes.pairs[0]
    revoiced = [(dataclasses.replace(audio, content_key="other"), segment), scenes.pairs[1]]
    others = {
        assembler.entry_key(retitled, scenes.pairs, WIDE),
        assembler.entry_key(SCRIPT, revoiced, WIDE),
        assembler.entry_key(SCRIPT, scenes.pairs, dataclasses.replace(WIDE, crf=30)),
        VideoAssembler(scenes.store, scenes.root, subtitles=False).entry_key(
            SCRIPT, scenes.pairs, WIDE
        ),
    }
    assert key not in others and len(others) == 4
    # The script's cost figures are not part of what is delivered.
    spent = dataclasses.replace(SCRIPT, usage=dataclasses.replace(SCRIPT.usage, cpu_seconds=9.0))
    assert assembler.entry_key(spent, scenes.pairs, WIDE) == key
    assert ASSEMBLY_FORMAT >= 1


def test_an_entry_without_its_metadata_is_not_used(scenes: Scenes) -> None:
    scenes.assembler().assemble(SCRIPT, scenes.pairs, WIDE, scenes.root / "one")
    (meta,) = [k for k in scenes.cache_keys() if k.startswith("cache/assembled-meta/")]
    scenes.store.delete(meta)
    video = scenes.store.path_of(
        meta.replace("assembled-meta", "assembled").replace(".json", ".mp4")
    )
    video.write_bytes(b"not a video")  # a half-written entry's leftovers
    again = scenes.assembler().assemble(SCRIPT, scenes.pairs, WIDE, scenes.root / "two")
    assert again.video_path.read_bytes()[4:8] == b"ftyp"


def test_evicting_a_scene_evicts_every_video_made_from_it(scenes: Scenes) -> None:
    scenes.assembler().assemble(SCRIPT, scenes.pairs, WIDE, scenes.root / "one")
    assert scenes.cache_keys()
    removed = evict(scenes.store, scenes.pairs[1][1].video_key)
    assert scenes.cache_keys() == []
    # The segment and its metadata, the entry's metadata, files and both links.
    assert removed == 2 + 1 + 4 + 2
    # The other scene's links went with the entry they pointed at.
    assert not [k for k in scenes.store.list_keys("cache/assembled-by/")]


def test_erasing_a_request_leaves_its_video_nowhere_in_the_cache(scenes: Scenes) -> None:
    repo = SqlRequestRepository.from_url(f"sqlite:///{scenes.root / 'v.db'}")
    request_id = repo.create(parse_request("Explain the water cycle", "5", "1"))[0].request_id
    repo.transition(request_id, RequestStatus.VALIDATING)
    scene_blobs = [key for a, s in scenes.pairs for key in (a.wav_key, s.video_key)]
    repo.progress(request_id, 50, "scenes done", details={"blobs": scene_blobs})
    scenes.assembler().assemble(SCRIPT, scenes.pairs, WIDE, scenes.root / "one")
    eraser = Eraser(repo, scenes.store, None, retention_days=0, grace=timedelta(seconds=1))
    eraser.erase(request_id)
    assert scenes.cache_keys() == []
    assert list(scenes.store.list_keys("cache/")) == []  # scenes, video, links: all gone
