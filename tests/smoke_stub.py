"""A loopback stand-in for a vividly-ray deployment that plays one scripted scenario, for the
smoke command's tests: what submit answers, the events the stream sends (and whether it drops,
stalls or is missing), the request's final view, and the files, optionally behind a 307 to a
"bucket" that refuses any request carrying an Authorization header (as a signed URL would).

    with SmokeStub(Scenario(events=happy_events(), files=...)) as stub:
        main(["smoke", "--url", stub.url, "--api-key", stub.api_key])
        stub.calls            # every request it answered: method, path, headers, body
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

API_KEY = "vk_smoke_stub_key"
SCENES = 3


def event(
    status: str, progress: int, *, kind: str = "status", message: str = "", **details: Any
) -> dict[str, Any]:
    return {
        "type": kind,
        "status": status,
        "progress_percentage": progress,
        "message": message,
        "details": details,
    }


def happy_events(scenes: int = SCENES) -> list[dict[str, Any]]:
    """The events of a request that goes all the way to completed."""
    found = [
        event("pending", 0),
        event("validating", 5),
        event("retrieving", 10),
        event("generating_script", 20),
        event("generating_video", 30),
    ]
    for done in range(1, scenes + 1):
        found.append(
            event(
                "generating_video",
                30 + 50 * done // scenes,
                kind="scene",
                scenes_done=done,
                scenes_total=scenes,
            )
        )
    found += [event("processing_video", 85), event("notifying", 95), event("completed", 100)]
    return found


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any = None


@dataclass
class Scenario:
    submit_status: int = 202
    submit_body: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=happy_events)
    # The request's view once every event happened (status, error, files, video_seconds...).
    final: dict[str, Any] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    file_status: dict[str, int] = field(default_factory=dict)
    redirect_files: bool = False
    events_available: bool = True
    # The first stream connection ends after this many events (a dropped connection).
    drop_after: int | None = None
    # After the last event the stream stays open (keep-alives only) and the request never ends.
    stall: bool = False


class SmokeStub:
    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.api_key = API_KEY
        self.request_id = str(uuid.uuid4())
        self.calls: list[Call] = []
        self.sent = 0  # events the streams sent so far
        self.polls = 0
        self.connections = 0
        self._closing = threading.Event()
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                stub._handle(self, "GET")

            def do_POST(self) -> None:
                stub._handle(self, "POST")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SmokeStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

    def calls_to(self, prefix: str) -> list[Call]:
        return [call for call in self.calls if call.path.startswith(prefix)]

    # -- views --------------------------------------------------------------------------------

    def _state(self, count: int) -> dict[str, Any]:
        """The request's view after its first ``count`` events."""
        events = self.scenario.events
        view: dict[str, Any] = {
            "id": self.request_id,
            "status": "pending",
            "progress_percentage": 0,
            "current_stage": "pending",
            "scenes": {"done": 0, "total": 0},
            "files": {},
            "error": None,
            "clarifying_questions": [],
            "video_seconds": None,
        }
        for item in events[:count]:
            view["status"] = view["current_stage"] = item["status"]
            view["progress_percentage"] = item["progress_percentage"]
            if "scenes_done" in item["details"]:
                view["scenes"] = {
                    "done": item["details"]["scenes_done"],
                    "total": item["details"]["scenes_total"],
                }
        finished = count >= len(events) and not self.scenario.stall
        if finished:
            view.update(self.scenario.final)
            if view["status"] == "completed" and "files" not in self.scenario.final:
                view["files"] = {
                    name: f"/v1/videos/{self.request_id}/files/{name}?expires=9&signature=s"
                    for name in self.scenario.files
                }
        return view

    def _sse(self, index: int, item: dict[str, Any]) -> bytes:
        data = {"sequence": index, **item, "at": "2026-01-01T00:00:00+00:00"}
        return f"id: {index}\nevent: {item['type']}\ndata: {json.dumps(data)}\n\n".encode()

    # -- handling -----------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        body = None
        length = int(handler.headers.get("content-length") or 0)
        if length:
            raw = handler.rfile.read(length)
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.calls.append(Call(method, parts.path, parts.query, headers, body))
        base = f"/v1/videos/{self.request_id}"
        path = parts.path
        if method == "POST" and path == "/v1/videos":
            self._submit(handler)
        elif method == "POST" and path == f"{base}/cancel":
            self._json(handler, 202, {"id": self.request_id, "status": "cancelled"})
        elif method == "GET" and path == base:
            with self._lock:
                if not self.scenario.events_available:
                    self.polls += 1
                count = max(self.sent, self.polls)
            self._json(handler, 200, self._state(count))
        elif method == "GET" and path == f"{base}/events":
            self._events(handler, headers)
        elif method == "GET" and path.startswith(f"{base}/files/"):
            self._file(handler, path.rsplit("/", 1)[1])
        elif method == "GET" and path.startswith("/bucket/"):
            self._bucket(handler, path.rsplit("/", 1)[1], headers)
        else:
            self._problem(handler, 404, "No such request", f"no route {method} {path}")

    def _submit(self, handler: BaseHTTPRequestHandler) -> None:
        scenario = self.scenario
        if scenario.submit_status not in (200, 202):
            body = scenario.submit_body or {"title": "Error", "detail": "refused"}
            self._json(handler, scenario.submit_status, body, "application/problem+json")
            return
        self._json(
            handler,
            scenario.submit_status,
            {
                "id": self.request_id,
                "status": "pending",
                "links": {"self": f"/v1/videos/{self.request_id}"},
            },
        )

    def _events(self, handler: BaseHTTPRequestHandler, headers: dict[str, str]) -> None:
        if not self.scenario.events_available:
            self._problem(handler, 404, "Not Found", "Not Found")
            return
        with self._lock:
            self.connections += 1
            first = self.connections == 1
        start = int(headers.get("last-event-id") or 0)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        out = handler.wfile
        try:
            out.write(b"retry: 2000\n\n")
            for index in range(start + 1, len(self.scenario.events) + 1):
                if (
                    first
                    and self.scenario.drop_after is not None
                    and index > self.scenario.drop_after
                ):
                    return  # the connection drops here
                out.write(self._sse(index, self.scenario.events[index - 1]))
                out.flush()
                with self._lock:
                    self.sent = max(self.sent, index)
            while self.scenario.stall and not self._closing.wait(0.2):
                out.write(b": keep-alive\n\n")
                out.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _file(self, handler: BaseHTTPRequestHandler, name: str) -> None:
        status = self.scenario.file_status.get(name, 200)
        if status != 200 or name not in self.scenario.files:
            self._problem(handler, status if status != 200 else 404, "No such file", name)
            return
        if self.scenario.redirect_files:
            handler.send_response(307)
            handler.send_header(
                "Location", f"{self.url}/bucket/{name}?X-Goog-Signature=0123abcd&X-Goog-Expires=900"
            )
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        self._bytes(handler, self.scenario.files[name])

    def _bucket(self, handler: BaseHTTPRequestHandler, name: str, headers: dict[str, str]) -> None:
        if "authorization" in headers:
            # A signed URL is its own authorization; a second mechanism is refused.
            body = (
                b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>InvalidArgument</Code>"
                b"<Message>Only one auth mechanism allowed</Message></Error>"
            )
            handler.send_response(400)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        self._bytes(handler, self.scenario.files[name])

    @staticmethod
    def _bytes(handler: BaseHTTPRequestHandler, data: bytes) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _json(
        handler: BaseHTTPRequestHandler,
        status: int,
        body: dict[str, Any],
        kind: str = "application/json",
    ) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _problem(
        self, handler: BaseHTTPRequestHandler, status: int, title: str, detail: str
    ) -> None:
        self._json(
            handler,
            status,
            {"type": "about:blank", "title": title, "status": status, "detail": detail},
            "application/problem+json",
        )
