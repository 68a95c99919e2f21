"""GcsBlobStore with the real google-cloud-storage client against the real GCS emulator."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from google.cloud.storage.retry import DEFAULT_RETRY

from tests.gcs_emulator import RequestLog, free_port, running_gcs_emulator, storage_client
from vividly_ray.domain.errors import BlobNotFound, InvalidRequest, StageFailed
from vividly_ray.domain.models import DELIVERED_FILES, delivered_key
from vividly_ray.storage.cache import ContentCache, content_key
from vividly_ray.storage.gcs_blobs import GcsBlobStore

pytestmark = pytest.mark.integration

KIB = 1024


@pytest.fixture(scope="module")
def gcs_host() -> Iterator[str]:
    with running_gcs_emulator() as host:
        yield host


@pytest.fixture
def log() -> RequestLog:
    return RequestLog()


@pytest.fixture
def client(gcs_host: str, log: RequestLog) -> Any:
    return storage_client(gcs_host, log=log)


@pytest.fixture
def bucket(client: Any, log: RequestLog) -> str:
    name = f"blobs-{uuid.uuid4().hex[:10]}"
    client.create_bucket(name)
    log.clear()
    return name


@pytest.fixture
def store(client: Any, bucket: str) -> GcsBlobStore:
    return GcsBlobStore(client, bucket, prefix="env/test", chunk_size=256 * KIB)


def test_bytes_round_trip_under_the_prefix(store: GcsBlobStore, client: Any, bucket: str) -> None:
    info = store.put_bytes("videos/r1/script.json", b'{"scenes": []}', "application/json")

    assert (info.key, info.size) == ("videos/r1/script.json", 14)
    assert info.content_type == "application/json"
    assert store.get_bytes("videos/r1/script.json") == b'{"scenes": []}'
    stored = client.bucket(bucket).get_blob("env/test/videos/r1/script.json")
    assert stored is not None and stored.download_as_bytes() == b'{"scenes": []}'


def test_file_round_trip_leaves_no_partial_files(store: GcsBlobStore, tmp_path: Path) -> None:
    source = tmp_path / "segment.mp4"
    source.write_bytes(os.urandom(100 * KIB))
    store.put_file("cache/segment/ab/abc.mp4", source, "video/mp4")

    dest = tmp_path / "fetched" / "deep" / "segment.mp4"
    assert store.get_file("cache/segment/ab/abc.mp4", dest) == dest
    assert dest.read_bytes() == source.read_bytes()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["segment.mp4"]


@pytest.mark.parametrize(("name", "content_type"), sorted(DELIVERED_FILES.items()))
def test_content_types_are_stored(
    store: GcsBlobStore, client: Any, bucket: str, name: str, content_type: str
) -> None:
    key = delivered_key("req-1", name)
    assert store.put_bytes(key, b"x" * 10, content_type).content_type == content_type

    info = store.stat(key)
    assert info is not None and info.content_type == content_type
    assert client.bucket(bucket).get_blob(f"env/test/{key}").content_type == content_type


def test_a_file_above_one_chunk_goes_up_resumably(
    store: GcsBlobStore, log: RequestLog, tmp_path: Path
) -> None:
    data = os.urandom(1024 * KIB)
    source = tmp_path / "video.mp4"
    source.write_bytes(data)

    info = store.put_file("videos/r2/video.mp4", source, "video/mp4")

    starts = [seen for seen in log.uploads("resumable") if seen.method == "POST"]
    chunks = [seen for seen in log.uploads("resumable") if seen.method == "PUT"]
    assert len(starts) == 1 and len(chunks) >= 4  # 1 MiB in 256 KiB chunks
    assert log.uploads("multipart") == []
    assert (info.size, info.content_type) == (len(data), "video/mp4")
    assert store.get_bytes("videos/r2/video.mp4") == data


def test_a_small_blob_goes_up_in_one_request(store: GcsBlobStore, log: RequestLog) -> None:
    store.put_bytes("videos/r3/captions.vtt", b"WEBVTT\n", "text/vtt; charset=utf-8")

    assert len(log.uploads("multipart")) == 1
    assert log.uploads("resumable") == []


def test_a_missing_key_is_none_or_blob_not_found(store: GcsBlobStore, tmp_path: Path) -> None:
    assert store.stat("videos/none/video.mp4") is None
    with pytest.raises(BlobNotFound):
        store.get_bytes("videos/none/video.mp4")
    with pytest.raises(BlobNotFound):
        store.get_file("videos/none/video.mp4", tmp_path / "out.mp4")
    with pytest.raises(BlobNotFound):
        list(store.read_range("videos/none/video.mp4", 0, 10))
    assert list(tmp_path.iterdir()) == []


def test_read_range_edges(store: GcsBlobStore, log: RequestLog) -> None:
    data = os.urandom(1024 * KIB + 17)
    store.put_bytes("videos/r4/video.mp4", data, "video/mp4")
    last = len(data) - 1

    def read(start: int, end: int) -> bytes:
        return b"".join(store.read_range("videos/r4/video.mp4", start, end))

    assert read(0, 0) == data[:1]
    assert read(last, last) == data[-1:]
    assert read(last - 9, last + 1000) == data[-10:]  # clipped to the blob, as files are
    assert read(len(data), len(data) + 5) == b""
    assert read(10, 5) == b""
    log.clear()
    assert read(0, last) == data
    assert len(log.media_downloads()) == 5  # one ranged GET per 256 KiB window
    chunks = list(store.read_range("videos/r4/video.mp4", 200_000, 600_000))
    assert b"".join(chunks) == data[200_000:600_001]
    assert max(len(chunk) for chunk in chunks) <= 256 * KIB


def test_overwriting_changes_the_etag(store: GcsBlobStore) -> None:
    first = store.put_bytes("videos/r5/thumbnail.jpg", b"one", "image/jpeg")
    second = store.put_bytes("videos/r5/thumbnail.jpg", b"two", "image/jpeg")

    assert first.etag != second.etag
    assert store.stat("videos/r5/thumbnail.jpg") == second
    assert store.get_bytes("videos/r5/thumbnail.jpg") == b"two"


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/videos/a",
        "videos/../secret",
        "..",
        "videos/./a",
        "a\\b",
        "a\nb",
        "a b",
        "a//b",
        "a/",
        ".types/x",
        "vidéo",
        "a?b",
        "a#b",
        "a%2e%2e",
        "a\x00b",
        "x" * 1100,
    ],
)
def test_keys_outside_the_server_charset_are_refused_before_any_request(
    store: GcsBlobStore, log: RequestLog, key: str, tmp_path: Path
) -> None:
    for call in (
        lambda: store.put_bytes(key, b"x", "text/plain"),
        lambda: store.stat(key),
        lambda: store.get_bytes(key),
        lambda: store.get_file(key, tmp_path / "out"),
        lambda: list(store.read_range(key, 0, 1)),
    ):
        with pytest.raises(InvalidRequest):
            call()
    assert log.seen == []


def test_bad_prefix_and_chunk_size_are_refused(client: Any, bucket: str) -> None:
    with pytest.raises(InvalidRequest):
        GcsBlobStore(client, bucket, prefix="../elsewhere")
    with pytest.raises(ValueError, match="256 KiB"):
        GcsBlobStore(client, bucket, chunk_size=1000 * KIB)


def test_the_store_never_lists_the_bucket(
    store: GcsBlobStore, log: RequestLog, bucket: str, tmp_path: Path
) -> None:
    store.put_bytes("videos/r6/manifest.json", b"{}", "application/json")
    store.stat("videos/r6/manifest.json")
    store.stat("videos/r6/missing.json")
    store.get_bytes("videos/r6/manifest.json")
    store.get_file("videos/r6/manifest.json", tmp_path / "m.json")
    list(store.read_range("videos/r6/manifest.json", 0, 1))

    assert log.seen and log.listings(bucket) == []


def test_a_missing_bucket_is_a_permanent_storage_failure(client: Any) -> None:
    store = GcsBlobStore(client, f"absent-{uuid.uuid4().hex[:8]}")
    with pytest.raises(StageFailed) as caught:
        store.put_bytes("videos/r7/video.mp4", b"x", "video/mp4")
    assert caught.value.stage == "storage" and not caught.value.retryable


def test_content_cache_on_gcs(store: GcsBlobStore, tmp_path: Path) -> None:
    cache = ContentCache(store, tmp_path / "scratch")
    key = content_key("narration text", "joe")
    assert cache.get("audio", key, ".wav") is None

    def write(path: Path) -> None:
        path.write_bytes(b"RIFF....")

    blob_key = cache.put("audio", key, ".wav", write, "audio/wav")

    assert cache.get("audio", key, ".wav") == blob_key
    assert store.get_bytes(blob_key) == b"RIFF...."
    assert cache.get_json("plan", key) is None
    cache.put_json("plan", key, {"scenes": 3})
    assert cache.get_json("plan", key) == {"scenes": 3}
    assert list((tmp_path / "scratch").iterdir()) == []


class _AlwaysUnavailable(BaseHTTPRequestHandler):
    """A storage endpoint that answers every call with 503, counting them."""

    calls = 0

    def _unavailable(self) -> None:
        type(self).calls += 1
        body = json.dumps({"error": {"code": 503, "message": "backend unavailable"}}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _unavailable

    def log_message(self, format: str, *args: Any) -> None:
        pass


QUICK_RETRY = DEFAULT_RETRY.with_delay(initial=0.05, maximum=0.1).with_timeout(1.0)


def test_an_endpoint_that_stays_unavailable_is_a_retryable_failure() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysUnavailable)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host = f"http://127.0.0.1:{server.server_address[1]}"
        store = GcsBlobStore(storage_client(host), "videos", retry=QUICK_RETRY)
        for call in (
            lambda: store.put_bytes("videos/r8/video.mp4", b"x", "video/mp4"),
            lambda: store.stat("videos/r8/video.mp4"),
            lambda: store.get_bytes("videos/r8/video.mp4"),
        ):
            _AlwaysUnavailable.calls = 0
            with pytest.raises(StageFailed) as caught:
                call()
            assert caught.value.retryable and caught.value.stage == "storage"
            assert _AlwaysUnavailable.calls > 1  # the library retried before giving up
    finally:
        server.shutdown()
        server.server_close()


def test_an_unreachable_endpoint_is_a_retryable_failure() -> None:
    host = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    store = GcsBlobStore(storage_client(host), "videos", retry=QUICK_RETRY)
    with pytest.raises(StageFailed) as caught:
        store.stat("videos/r9/video.mp4")
    assert caught.value.retryable
