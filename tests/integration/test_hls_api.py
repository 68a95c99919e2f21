"""The progressive stream's routes over the real API and database: playlist, parts, tenancy,
signed links, the OpenAPI document and erasure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.api_fixtures import (
    PROBLEM_JSON,
    VALID_BODY,
    bearer,
    make_client,
    open_stores,
)
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.status import PIPELINE, STAGE_START_PROGRESS, RequestStatus
from vividly_ray.media.hls import part_key, playlist_key, playlist_text
from vividly_ray.pipeline.ports import StreamPart

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

INIT = "init-0123456789abcdef.mp4"


@pytest.fixture
def stores(tmp_path: Path, database_url: str) -> Iterator[Stores]:
    built = open_stores(tmp_path / "home", database_url)
    try:
        yield built
    finally:
        built.db.dispose()


@pytest.fixture
def client(stores: Stores) -> Iterator[TestClient]:
    with make_client(stores) as client:
        yield client


@pytest.fixture
def keys(stores: Stores) -> dict[str, dict[str, str]]:
    return {org: bearer(stores.accounts.create_key(org).key) for org in ("org-a", "org-b")}


def _rendering(client: TestClient, stores: Stores, headers: dict[str, str]) -> str:
    """A request of ``headers``' organization, moved on to generating_video."""
    response = client.post("/v1/videos", json=VALID_BODY, headers=headers)
    assert response.status_code == 202, response.text
    request_id: str = response.json()["id"]
    for status in PIPELINE[1 : PIPELINE.index(RequestStatus.GENERATING_VIDEO) + 1]:
        stores.requests.transition(request_id, status, progress=STAGE_START_PROGRESS[status])
    return request_id


def _publish(stores: Stores, request_id: str, scenes: int, *, complete: bool) -> list[str]:
    """Store an init section, ``scenes`` media parts and the playlist, as the publisher does."""
    stores.blobs.put_bytes(part_key(request_id, INIT), b"init section", "video/mp4")
    parts = []
    for index in range(scenes):
        key = part_key(request_id, f"scene-{index:03d}.m4s")
        stores.blobs.put_bytes(key, f"media {index}".encode(), "video/mp4")
        parts.append(StreamPart(index, key, part_key(request_id, INIT), 2.0 * index, 2.0))
    text = playlist_text(parts, complete=complete)
    stores.blobs.put_bytes(playlist_key(request_id), text.encode(), "application/vnd.apple.mpegurl")
    keys = [p.media_key for p in parts] + [part_key(request_id, INIT), playlist_key(request_id)]
    stores.requests.progress(
        request_id,
        60,
        "stream",
        details={"stream_scenes": scenes, "blobs": keys},
        event_type="scene",
    )
    return keys


def _uris(playlist: str) -> list[str]:
    uris = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    maps = [
        line.split('URI="', 1)[1].rstrip('"')
        for line in playlist.splitlines()
        if line.startswith("#EXT-X-MAP:")
    ]
    return maps + uris


def test_before_any_scene_is_published_the_playlist_is_404_with_a_reason(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    request_id = _rendering(client, stores, keys["org-a"])
    response = client.get(f"/v1/videos/{request_id}/stream.m3u8", headers=keys["org-a"])
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "no playable scene yet" in response.json()["detail"]


def test_a_growing_playlist_is_served_uncached_with_signed_part_links(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    request_id = _rendering(client, stores, keys["org-a"])
    _publish(stores, request_id, 2, complete=False)
    response = client.get(f"/v1/videos/{request_id}/stream.m3u8", headers=keys["org-a"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert response.headers["cache-control"] == "no-cache"
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in response.text
    assert "#EXT-X-ENDLIST" not in response.text
    uris = _uris(response.text)
    assert [uri.split("?")[0] for uri in uris] == [
        f"stream/{INIT}",
        "stream/scene-000.m4s",
        "stream/scene-001.m4s",
    ]
    # Relative to the playlist, each signed part link works with no Authorization header.
    for uri, body in zip(uris, [b"init section", b"media 0", b"media 1"], strict=True):
        part = client.get(f"/v1/videos/{request_id}/{uri}")
        assert part.status_code == 200, part.text
        assert part.headers["content-type"] == "video/mp4"
        assert part.content == body
        again = client.get(
            f"/v1/videos/{request_id}/{uri}", headers={"If-None-Match": part.headers["etag"]}
        )
        assert again.status_code == 304


def test_a_complete_playlist_ends_and_may_be_cached(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    request_id = _rendering(client, stores, keys["org-a"])
    _publish(stores, request_id, 3, complete=True)
    response = client.get(f"/v1/videos/{request_id}/stream.m3u8", headers=keys["org-a"])
    assert response.text.rstrip().endswith("#EXT-X-ENDLIST")
    assert response.headers["cache-control"].startswith("private, max-age=")


def test_another_organization_or_no_key_sees_no_stream(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    request_id = _rendering(client, stores, keys["org-a"])
    _publish(stores, request_id, 1, complete=False)
    for path in ("stream.m3u8", "stream/scene-000.m4s", f"stream/{INIT}"):
        for headers in (keys["org-b"], {}):
            response = client.get(f"/v1/videos/{request_id}/{path}", headers=headers)
            assert response.status_code == 404, (path, headers)
            assert response.json()["detail"] == f"no request with id {request_id}"


def test_a_link_signed_for_one_part_does_not_open_another(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    request_id = _rendering(client, stores, keys["org-a"])
    _publish(stores, request_id, 2, complete=False)
    playlist = client.get(f"/v1/videos/{request_id}/stream.m3u8", headers=keys["org-a"]).text
    first = next(uri for uri in _uris(playlist) if "scene-000" in uri)
    query = first.split("?", 1)[1]
    response = client.get(f"/v1/videos/{request_id}/stream/scene-001.m4s?{query}")
    assert response.status_code == 404


def test_an_unknown_part_name_is_404_naming_the_parts_there_are(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    request_id = _rendering(client, stores, keys["org-a"])
    _publish(stores, request_id, 1, complete=False)
    response = client.get(f"/v1/videos/{request_id}/stream/video.mp4", headers=keys["org-a"])
    assert response.status_code == 404
    assert "scene-<nnn>.m4s" in response.json()["detail"]
    missing = client.get(f"/v1/videos/{request_id}/stream/scene-007.m4s", headers=keys["org-a"])
    assert missing.status_code == 404
    assert "no stream part scene-007.m4s" in missing.json()["detail"]


def test_the_request_view_links_the_stream_while_it_renders(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    response = client.post("/v1/videos", json=VALID_BODY, headers=keys["org-a"])
    request_id = response.json()["id"]
    pending = client.get(f"/v1/videos/{request_id}", headers=keys["org-a"]).json()
    assert "stream" not in pending
    for status in PIPELINE[1 : PIPELINE.index(RequestStatus.GENERATING_VIDEO) + 1]:
        stores.requests.transition(request_id, status, progress=STAGE_START_PROGRESS[status])
    _publish(stores, request_id, 1, complete=False)
    view = client.get(f"/v1/videos/{request_id}", headers=keys["org-a"]).json()
    assert view["stream"].startswith(f"/v1/videos/{request_id}/stream.m3u8?")
    # The signed link plays without the Authorization header (a <video src> cannot send one).
    assert client.get(view["stream"]).status_code == 200


def test_the_openapi_document_declares_the_stream_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    playlist = paths["/v1/videos/{request_id}/stream.m3u8"]["get"]
    assert "application/vnd.apple.mpegurl" in playlist["responses"]["200"]["content"]
    assert "404" in playlist["responses"]
    part = paths["/v1/videos/{request_id}/stream/{name}"]["get"]
    assert "video/mp4" in part["responses"]["200"]["content"]
    assert {"304", "404"} <= set(part["responses"])


def test_erasing_a_request_removes_its_stream(
    client: TestClient, stores: Stores, keys: dict[str, dict[str, str]]
) -> None:
    request_id = _rendering(client, stores, keys["org-a"])
    stream_keys = _publish(stores, request_id, 2, complete=True)
    stores.requests.transition(request_id, RequestStatus.FAILED, message="stopped for the test")
    response = client.delete(f"/v1/videos/{request_id}", headers=keys["org-a"])
    assert response.status_code == 204, response.text
    assert [key for key in stream_keys if stores.blobs.stat(key) is not None] == []
