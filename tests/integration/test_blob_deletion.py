"""Deleting and listing blobs behave the same on every BlobStore: the local folder, a GCS
bucket (the real client against the GCS emulator) and the routed pair the service uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gcs_emulator import running_gcs_emulator, storage_client
from vividly_ray.domain.blobs import BlobStore
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache, evict
from vividly_ray.storage.gcs_blobs import GcsBlobStore
from vividly_ray.storage.routed import RoutedBlobStore

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def gcs_client() -> Iterator[Any]:
    with running_gcs_emulator() as host:
        yield storage_client(host)


def _bucket(client: Any) -> str:
    name = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(name)
    return name


@pytest.fixture(params=["local", "gcs", "routed"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "blobs")
    client = request.getfixturevalue("gcs_client")
    content = GcsBlobStore(client, _bucket(client), prefix="vividly")
    if request.param == "gcs":
        return content
    return RoutedBlobStore(content, {"cache/": GcsBlobStore(client, _bucket(client))})


def test_delete_removes_one_blob_and_says_whether_there_was_one(store: BlobStore) -> None:
    store.put_bytes("videos/r1/video.mp4", b"v", "video/mp4")
    store.put_bytes("videos/r1/captions.vtt", b"c", "text/vtt")

    assert store.delete("videos/r1/video.mp4") is True
    assert store.delete("videos/r1/video.mp4") is False
    assert store.stat("videos/r1/video.mp4") is None
    assert store.stat("videos/r1/captions.vtt") is not None
    assert store.delete("videos/never/there.mp4") is False


def test_list_keys_finds_every_key_under_a_prefix_and_nothing_else(store: BlobStore) -> None:
    wanted = ["videos/r2/video.mp4", "videos/r2/sub/thumb.jpg", "videos/r2/manifest.json"]
    for key in [*wanted, "videos/r20/video.mp4", "cache/audio/ab/abc.wav", "videos/r3/x.txt"]:
        store.put_bytes(key, key.encode(), "application/octet-stream")

    assert sorted(store.list_keys("videos/r2/")) == sorted(wanted)
    assert sorted(store.list_keys("videos/r2")) == sorted([*wanted, "videos/r20/video.mp4"])
    assert list(store.list_keys("cache/")) == ["cache/audio/ab/abc.wav"]
    assert list(store.list_keys("nothing/")) == []
    everything = sorted(store.list_keys(""))
    assert len(everything) == 6 and all(store.stat(k) is not None for k in everything)


def test_evicting_a_cache_entry_removes_its_metadata_first(
    store: BlobStore, tmp_path: Path
) -> None:
    cache = ContentCache(store, tmp_path / "scratch")
    key = "f" * 64
    wav = cache.put("audio", key, ".wav", lambda p: p.write_bytes(b"RIFF"), "audio/wav")
    cache.put_json("audio-timings", key, {"sentences": []})
    kept = cache.put("audio", "e" * 64, ".wav", lambda p: p.write_bytes(b"RIFF"), "audio/wav")

    assert evict(store, wav) == 2
    assert cache.get("audio", key, ".wav") is None
    assert cache.get_json("audio-timings", key) is None
    assert cache.get("audio", "e" * 64, ".wav") == kept
    assert evict(store, wav) == 0
    with pytest.raises(ValueError, match="not a cache entry"):
        evict(store, "videos/r1/video.mp4")


def test_the_local_store_leaves_no_empty_folders_or_type_records(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.put_bytes("videos/r4/deep/file.txt", b"x", "text/plain")
    store.put_bytes("videos/r5/file.txt", b"y", "text/plain")

    store.delete("videos/r4/deep/file.txt")

    assert not (tmp_path / "blobs" / "videos" / "r4").exists()
    assert (tmp_path / "blobs" / "videos" / "r5" / "file.txt").exists()
    types = [p for p in (tmp_path / "blobs" / ".types").rglob("*.json")]
    assert len(types) == 1 and "videos/r5/file.txt" in types[0].read_text()
