"""The OER library mirrored from a bucket, with the real client against the real GCS emulator."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.gcs_emulator import RequestLog, running_gcs_emulator, storage_client
from vividly_ray.library.documents import load_documents
from vividly_ray.library.gcs_source import (
    STATE_FILE,
    load_bucket_documents,
    sync_library_from_bucket,
)

pytestmark = pytest.mark.integration

MARKDOWN = """---
id: water-cycle
title: The Water Cycle
subject: science
grade_band: 3-5
license: CC0-1.0
---
# The Water Cycle

Water evaporates from oceans and lakes, rises as vapour and cools into clouds.

Rain and snow bring the water back down, and rivers carry it to the sea again.
"""
RECORD = {
    "id": "volcanoes",
    "title": "Volcanoes",
    "subject": "science",
    "grade_band": "6-8",
    "license": "CC-BY-4.0",
    "attribution": "Test record, CC BY 4.0",
    "paragraphs": ["Magma rises through the crust.", "Lava cools into new rock."],
}


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
def bucket(client: Any) -> Any:
    bucket = client.create_bucket(f"oer-{uuid.uuid4().hex[:10]}")
    upload = {
        "oer/science/water-cycle.md": MARKDOWN,
        "oer/science/sun.txt": "The Sun\n\nThe Sun is a star at the centre of our solar system.\n",
        "oer/records.jsonl": json.dumps(RECORD) + "\n",
        "oer/page.html": "<html><head><title>Tides</title></head>"
        "<body><p>The Moon pulls on the oceans and makes tides.</p></body></html>",
        "oer/diagram.png": "not a document",
        "oer/.cache/stale.md": MARKDOWN,
        "oer/dir\\evil.md": MARKDOWN,
        "oer//vividly-escape-check.md": MARKDOWN,
        "elsewhere/outside.md": MARKDOWN,
    }
    for name, text in upload.items():
        bucket.blob(name).upload_from_string(text, content_type="text/plain")
    return bucket


def test_first_sync_downloads_only_documents_under_the_prefix(
    client: Any, bucket: Any, tmp_path: Path
) -> None:
    dest = tmp_path / "library"
    paths = sync_library_from_bucket(client, bucket.name, "oer/", dest)

    assert paths == [
        dest / "page.html",
        dest / "records.jsonl",
        dest / "science/sun.txt",
        dest / "science/water-cycle.md",
    ]
    assert (dest / "science/water-cycle.md").read_text() == MARKDOWN
    assert not (dest / ".cache").exists() and not (dest / "diagram.png").exists()
    assert not Path("/vividly-escape-check.md").exists()
    titles = sorted(d.source.title for path in paths for d in load_documents(path))
    assert titles == ["The Sun", "The Water Cycle", "Tides", "Volcanoes"]
    assert sorted(p.name for p in dest.rglob("*") if p.is_file()) == [
        STATE_FILE,
        "page.html",
        "records.jsonl",
        "sun.txt",
        "water-cycle.md",
    ]


def test_an_unchanged_library_is_not_downloaded_again(
    client: Any, bucket: Any, log: RequestLog, tmp_path: Path
) -> None:
    dest = tmp_path / "library"
    first = sync_library_from_bucket(client, bucket.name, "oer", dest)
    inodes = {path: path.stat().st_ino for path in first}
    log.clear()

    again = sync_library_from_bucket(client, bucket.name, "oer", dest)

    assert again == first
    assert log.media_downloads() == []
    assert {path: path.stat().st_ino for path in again} == inodes


def test_a_changed_document_is_fetched_and_a_deleted_one_removed(
    client: Any, bucket: Any, log: RequestLog, tmp_path: Path
) -> None:
    dest = tmp_path / "library"
    sync_library_from_bucket(client, bucket.name, "oer/", dest)
    changed = MARKDOWN.replace("evaporates", "evaporates quickly")
    bucket.blob("oer/science/water-cycle.md").upload_from_string(changed)
    bucket.blob("oer/page.html").delete()
    log.clear()

    paths = sync_library_from_bucket(client, bucket.name, "oer/", dest)

    assert (dest / "science/water-cycle.md").read_text() == changed
    assert len(log.media_downloads()) == 1
    assert dest / "page.html" not in paths and not (dest / "page.html").exists()
    state = json.loads((dest / STATE_FILE).read_text())
    assert sorted(state["objects"]) == [
        "oer/records.jsonl",
        "oer/science/sun.txt",
        "oer/science/water-cycle.md",
    ]


def test_a_damaged_local_copy_is_fetched_again(
    client: Any, bucket: Any, log: RequestLog, tmp_path: Path
) -> None:
    dest = tmp_path / "library"
    sync_library_from_bucket(client, bucket.name, "oer/", dest)
    (dest / "science/sun.txt").write_text("truncated")
    (dest / "records.jsonl").unlink()
    log.clear()

    sync_library_from_bucket(client, bucket.name, "oer/", dest)

    assert len(log.media_downloads()) == 2
    assert (dest / "science/sun.txt").read_text().startswith("The Sun")
    assert (dest / "records.jsonl").exists()


def test_another_source_replaces_what_the_last_one_brought(
    client: Any, bucket: Any, tmp_path: Path
) -> None:
    dest = tmp_path / "library"
    dest.mkdir()
    (dest / "mine.md").write_text(MARKDOWN)  # not the sync's: never touched
    sync_library_from_bucket(client, bucket.name, "oer/", dest)

    paths = sync_library_from_bucket(client, bucket.name, "elsewhere/", dest)

    assert paths == [dest / "outside.md"]
    assert not (dest / "records.jsonl").exists()
    assert (dest / "mine.md").exists()


def test_load_bucket_documents_reads_what_it_synced(
    client: Any, bucket: Any, tmp_path: Path
) -> None:
    documents = load_bucket_documents(client, bucket.name, "oer/science/", tmp_path / "lib")

    assert [d.source_id for d in documents] == ["sun", "water-cycle"]
