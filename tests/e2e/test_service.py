"""`vividly serve` driven over HTTP as the platform drives it, on SQLite and PostgreSQL.

Submit, follow the live event stream to completed, download a playable MP4, receive a signed
webhook; and a crash: SIGKILL the serving process (with every Ray process it started) during
generating_video, start it again, and the same request completes once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.conftest import POSTGRES_URL, fresh_schema
from tests.e2e.serve_process import ServeProcess, create_key, service_env, sse_events
from vividly_ray.notify.webhooks import verify

pytestmark = pytest.mark.e2e


class Receiver:
    """A webhook receiver on loopback that verifies every signature it is sent."""

    def __init__(self) -> None:
        self.secret = ""
        self.received: list[dict[str, Any]] = []
        self.rejected = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    verify(receiver.secret, dict(self.headers.items()), body)
                except Exception:
                    receiver.rejected += 1
                    self.send_response(400)
                    self.end_headers()
                    return
                receiver.received.append(
                    {"id": self.headers["webhook-id"], "body": json.loads(body)}
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


@pytest.fixture
def plain_postgres_url() -> Iterator[str]:
    """A fresh schema, addressed the way the platform's secret does: plain postgresql://."""
    plain = "postgresql://" + POSTGRES_URL.split("://", 1)[1]
    with fresh_schema(plain) as url:
        yield url


def _wait_for(
    client: httpx.Client, request_id: str, wanted: str, timeout_s: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/v1/videos/{request_id}").json()
        if body["status"] == wanted:
            return body
        assert body["status"] not in ("failed", "cancelled"), body
        time.sleep(0.1)
    raise TimeoutError(f"{request_id} never reached {wanted}")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_submit_follow_download_and_webhook(
    database: str, tmp_path: Path, receiver: Receiver, request: pytest.FixtureRequest
) -> None:
    extra = {"VIVIDLY_WEBHOOK_ALLOW_PRIVATE": "true"}
    if database == "postgresql":
        extra["DATABASE_URL"] = request.getfixturevalue("plain_postgres_url")
    env = service_env(tmp_path / "home", **extra)
    key = create_key(env, "school-1")
    from vividly_ray.bootstrap import build_stores
    from vividly_ray.settings import load_settings

    receiver.secret = build_stores(load_settings(env)).accounts.webhook_secret("school-1")
    headers = {"Authorization": f"Bearer {key}"}
    with ServeProcess(env, tmp_path / "serve.log") as server:
        client = httpx.Client(base_url=server.url, headers=headers, timeout=30)
        submitted = client.post(
            "/v1/videos",
            json={
                "student_query": "Explain the water cycle",
                "grade_level": "5",
                "duration_minutes": 1,
                "correlation_id": "corr-1",
                "callback_url": receiver.url,
            },
        )
        assert submitted.status_code == 202, submitted.text
        request_id = submitted.json()["id"]

        events = list(sse_events(f"{server.url}/v1/videos/{request_id}/events", headers))
        assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
        statuses = [e["data"]["status"] for e in events if e["event"] == "status"]
        assert statuses[0] == "pending" and statuses[-1] == "completed"
        assert any(e["event"] == "scene" for e in events)

        detail = client.get(f"/v1/videos/{request_id}").json()
        assert detail["status"] == "completed" and detail["progress_percentage"] == 100
        assert detail["scenes"]["done"] == detail["scenes"]["total"] > 0
        video = httpx.get(server.url + detail["files"]["video.mp4"], timeout=60)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        (tmp_path / "video.mp4").write_bytes(video.content)
        with av.open(str(tmp_path / "video.mp4")) as container:
            frame = next(container.decode(video=0))
            assert frame.width == 1280 and frame.height == 720
            assert float(container.duration) / av.time_base > 40

        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
    assert receiver.rejected == 0
    assert [r["body"]["type"] for r in receiver.received] == ["video.completed"]
    data = receiver.received[0]["body"]["data"]
    assert data["id"] == request_id and data["correlation_id"] == "corr-1"


def test_a_request_survives_sigkill_of_the_serving_process(
    tmp_path: Path, plain_postgres_url: str
) -> None:
    env = service_env(
        tmp_path / "home",
        DATABASE_URL=plain_postgres_url,
        VIVIDLY_LEASE_SECONDS="4",
        VIVIDLY_AUTH_DISABLED="true",
    )
    first = ServeProcess(env, tmp_path / "first.log").start()
    try:
        client = httpx.Client(base_url=first.url, timeout=30)
        submitted = client.post(
            "/v1/videos",
            json={
                "student_query": "Why do we have seasons on Earth?",
                "grade_level": "6",
                "duration_minutes": 2,
            },
        )
        assert submitted.status_code == 202, submitted.text
        request_id = submitted.json()["id"]
        # Kill it once some, but not all, scenes are finished.
        deadline = time.monotonic() + 180
        while True:
            detail = client.get(f"/v1/videos/{request_id}").json()
            if detail["status"] == "generating_video" and detail["scenes"]["done"] >= 1:
                break
            assert detail["status"] not in ("completed", "failed"), detail
            assert time.monotonic() < deadline, detail
            time.sleep(0.05)
    finally:
        first.kill()
    done_before = detail["scenes"]["done"]

    with ServeProcess(env, tmp_path / "second.log", port=first.port) as second:
        client = httpx.Client(base_url=second.url, timeout=30)
        final = _wait_for(client, request_id, "completed", timeout_s=300)
        events = list(sse_events(f"{second.url}/v1/videos/{request_id}/events", {}))
    completed = [e for e in events if e["event"] == "status" and e["data"]["status"] == "completed"]
    assert len(completed) == 1
    assert final["attempts"] == 2
    # Each stage was entered once, across both processes.
    statuses = [e["data"]["status"] for e in events if e["event"] == "status"]
    assert statuses == sorted(set(statuses), key=statuses.index)
    # The scenes finished before the crash came back from the cache.
    from vividly_ray.bootstrap import build_stores
    from vividly_ray.settings import load_settings

    stores = build_stores(load_settings(env))
    meta = stores.requests.get(request_id).request_metadata
    assert meta["scenes_reused"] >= done_before
    videos = list((tmp_path / "home" / "blobs" / "videos").iterdir())
    assert [v.name for v in videos] == [request_id]
