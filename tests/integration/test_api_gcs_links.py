"""With GCS configured, the API's file links are V4 signed URLs of the bucket (15 minutes), and
the API's own file route redirects to one; the signed URL fetches the bytes from the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from fastapi.testclient import TestClient

from tests.gcs_emulator import running_gcs_emulator, storage_client
from tests.integration.api_fixtures import (
    VALID_BODY,
    bearer,
    deliver_files,
    video_bytes,
    walk_to_completed,
)
from tests.integration.test_gcs_signing import new_key, service_account_credentials
from vividly_ray.bootstrap import build_store_urls, build_stores
from vividly_ray.service.http_api import ApiServices, create_app
from vividly_ray.service.intake import Intake, IntakePolicy
from vividly_ray.settings import load_settings
from vividly_ray.storage.gcs_blobs import GcsBlobStore

pytestmark = pytest.mark.integration
BUCKET = "vividly-videos"


@pytest.fixture
def gcs_host(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with running_gcs_emulator() as host:
        storage_client(host).create_bucket(BUCKET)
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", host)
        yield host


def _client(tmp_path: Path, gcs_host: str) -> tuple[TestClient, object, str]:
    settings = load_settings(
        {}, home=tmp_path / "home", gcs_generated_content_bucket=BUCKET, google_cloud_project="p"
    )
    stores = build_stores(settings)
    assert isinstance(stores.blobs, GcsBlobStore)
    # The emulator's anonymous client cannot sign, so the API would serve files itself...
    assert build_store_urls(stores.blobs) is None
    # ...while a client holding a service-account key signs (without any request: the bytes
    # still move through the anonymous client, which is all the emulator accepts).
    from google.cloud import storage

    signing_client = storage.Client(
        project="p",
        credentials=service_account_credentials(new_key()),
        client_options={"api_endpoint": gcs_host},
    )
    store_urls = build_store_urls(GcsBlobStore(signing_client, BUCKET))
    assert store_urls is not None
    services = ApiServices(
        db=stores.db,
        requests=stores.requests,
        queue=stores.queue,
        accounts=stores.accounts,
        outbox=stores.outbox,
        blobs=stores.blobs,
        intake=Intake(
            stores.requests, IntakePolicy(max_queue_depth=100, allow_private_callbacks=False)
        ),
        auth_disabled=False,
        rate_limit_per_minute=1000,
        max_body_bytes=4096,
        file_url_ttl_s=3600,
        store_urls=store_urls,
        store_url_ttl_s=900,
    )
    key = stores.accounts.create_key("school-1").key
    return TestClient(create_app(services), raise_server_exceptions=False), stores, key


def test_completed_files_are_signed_bucket_urls_that_download(
    tmp_path: Path, gcs_host: str
) -> None:
    client, stores, key = _client(tmp_path, gcs_host)
    made = client.post("/v1/videos", json=VALID_BODY, headers=bearer(key))
    request_id = made.json()["id"]
    walk_to_completed(stores, request_id)  # type: ignore[arg-type]
    video = video_bytes(50_000)
    deliver_files(stores, request_id, video)  # type: ignore[arg-type]

    files = client.get(f"/v1/videos/{request_id}", headers=bearer(key)).json()["files"]
    url = files["video.mp4"]
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.path == f"/{BUCKET}/videos/{request_id}/video.mp4"
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "900"
    assert "response-content-disposition" not in query  # players stream the video inline
    assert (
        "attachment"
        in parse_qs(urlsplit(files["script.json"]).query)["response-content-disposition"][0]
    )
    assert requests.get(url, timeout=10).content == video

    redirected = client.get(
        f"/v1/videos/{request_id}/files/video.mp4", headers=bearer(key), follow_redirects=False
    )
    assert redirected.status_code == 307
    assert urlsplit(redirected.headers["location"]).path == parts.path


def test_another_organization_gets_no_redirect(tmp_path: Path, gcs_host: str) -> None:
    client, stores, key = _client(tmp_path, gcs_host)
    request_id = client.post("/v1/videos", json=VALID_BODY, headers=bearer(key)).json()["id"]
    walk_to_completed(stores, request_id)  # type: ignore[arg-type]
    deliver_files(stores, request_id, video_bytes(1000))  # type: ignore[arg-type]
    other = stores.accounts.create_key("school-2").key  # type: ignore[attr-defined]
    answer = client.get(
        f"/v1/videos/{request_id}/files/video.mp4", headers=bearer(other), follow_redirects=False
    )
    assert answer.status_code == 404
