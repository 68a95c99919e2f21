"""Stream parts come from the content cache when the same scene is published at the same place,
and leave it with the scene: the real bundled ffmpeg, real blobs on disk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from tests.integration.test_media_ffmpeg import SCENES, SECONDS, WIDE, make_audio
from vividly_ray.domain.models import Grade, SceneAudio, SceneSegment, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.media.hls import BlobHlsPublisher
from vividly_ray.media.stream_cache import part_cache_key
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.service.erasure import Eraser
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache, evict

pytestmark = pytest.mark.integration


class ReadRecordingStore(LocalBlobStore):
    """A local store that remembers which blobs were copied out to files (ffmpeg's inputs)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.files_read: list[str] = []

    def get_file(self, key: str, dest: Path) -> Path:
        self.files_read.append(key)
        return super().get_file(key, dest)


@dataclass
class Scenes:
    store: ReadRecordingStore
    root: Path
    pairs: list[tuple[SceneAudio, SceneSegment]]

    def publisher(self, reuse: bool = True) -> BlobHlsPublisher:
        return BlobHlsPublisher(self.store, self.root / "stream-work", reuse=reuse)

    def cache_keys(self) -> list[str]:
        return sorted(
            key
            for prefix in ("cache/stream/", "cache/stream-meta/")
            for key in self.store.list_keys(prefix)
        )


@pytest.fixture
def scenes(tmp_path: Path) -> Iterator[Scenes]:
    store = ReadRecordingStore(tmp_path)
    audios = [
        make_audio(tmp_path, scene.index, seconds, scene.narration)
        for scene, seconds in zip(SCENES[:2], SECONDS[:2], strict=True)
    ]
    encoder = FfmpegSegmentEncoder(WIDE, ContentCache(store, tmp_path / "tmp"), tmp_path / "work")
    pairs = [(a, encoder.encode(s, a)) for s, a in zip(SCENES[:2], audios, strict=True)]
    store.files_read.clear()
    yield Scenes(store, tmp_path, pairs)


def publish_all(publisher: BlobHlsPublisher, request_id: str, scenes: Scenes) -> list[bytes]:
    start, media = 0.0, []
    for audio, segment in scenes.pairs:
        part = publisher.publish_scene(request_id, start, audio, segment)
        media.append(publisher.blobs.get_bytes(part.media_key))
        start += segment.duration
    return media


def test_a_repeated_scene_is_published_from_the_cache_without_ffmpeg(scenes: Scenes) -> None:
    first = publish_all(scenes.publisher(), "req-a", scenes)
    assert scenes.store.files_read  # the first time, each scene was muxed from its blobs
    assert len(scenes.cache_keys()) == 2 * 3  # init, media and metadata per scene
    scenes.store.files_read.clear()
    again = publish_all(scenes.publisher(), "req-b", scenes)
    assert scenes.store.files_read == []  # nothing copied out for ffmpeg
    assert again == first
    inits = [k for k in scenes.store.list_keys("videos/req-b/stream/") if "/init-" in k]
    assert inits and all(
        scenes.store.get_bytes(k) == scenes.store.get_bytes(k.replace("req-b", "req-a"))
        for k in inits
    )


def test_the_same_scene_elsewhere_on_the_timeline_is_muxed_again(scenes: Scenes) -> None:
    audio, segment = scenes.pairs[0]
    assert part_cache_key(0.0, audio, segment) != part_cache_key(4.0, audio, segment)
    publisher = scenes.publisher()
    at_zero = publisher.publish_scene("req-a", 0.0, audio, segment)
    scenes.store.files_read.clear()
    later = publisher.publish_scene("req-b", 4.0, audio, segment)
    assert segment.video_key in scenes.store.files_read
    assert scenes.store.get_bytes(at_zero.media_key) != scenes.store.get_bytes(later.media_key)


def test_without_reuse_every_scene_is_muxed(scenes: Scenes) -> None:
    publish_all(scenes.publisher(), "req-a", scenes)
    scenes.store.files_read.clear()
    publish_all(scenes.publisher(reuse=False), "req-b", scenes)
    assert {segment.video_key for _, segment in scenes.pairs} <= set(scenes.store.files_read)


def test_evicting_a_scenes_segment_evicts_its_stream_parts(scenes: Scenes) -> None:
    publish_all(scenes.publisher(), "req-a", scenes)
    (_, gone), (kept_audio, kept) = scenes.pairs
    removed = evict(scenes.store, gone.video_key)
    left = scenes.cache_keys()
    assert len(left) == 3 and all(
        part_cache_key(gone.duration, kept_audio, kept) in k for k in left
    )
    assert removed >= 1 + 3 + 1  # the segment, the part's three blobs, its link
    assert list(scenes.store.list_keys(f"cache/streamed-by/{Path(gone.video_key).stem}/")) == []
    # The delivered stream of the request is the request's, and erasure removes it with it.
    assert list(scenes.store.list_keys("videos/req-a/stream/"))


def test_erasing_a_request_removes_the_cached_parts_of_its_scenes(scenes: Scenes) -> None:
    repo = SqlRequestRepository.from_url(f"sqlite:///{scenes.root / 'requests.db'}")
    request = VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=1)
    request_id = repo.create(request)[0].request_id
    repo.transition(request_id, RequestStatus.VALIDATING)
    # The pipeline records each finished scene's blobs with the request, as here.
    recorded = [
        key for audio, segment in scenes.pairs for key in (audio.wav_key, segment.video_key)
    ]
    repo.progress(request_id, 50, "scenes encoded", details={"blobs": recorded})
    publish_all(scenes.publisher(), request_id, scenes)
    assert scenes.cache_keys()
    eraser = Eraser(repo, scenes.store, None, retention_days=0, grace=timedelta(0))
    eraser.erase(request_id)
    assert scenes.cache_keys() == []
    assert list(scenes.store.list_keys("cache/streamed-by/")) == []
    assert list(scenes.store.list_keys(f"videos/{request_id}/")) == []
