"""The loopback HTTP server under the Gemini and OpenAI stubs: records, scripts, holds.

Every request is recorded (path, headers, decoded JSON body) in arrival order. What it answers is
up to ``respond``, a function of the recorded request that a test may replace. ``hold`` makes the
matching requests wait until enough of them have arrived, which proves they were sent at the
same time; ``max_in_flight`` records the most requests open at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True)
class StubReply:
    """An answer: ``body`` is sent as JSON unless it is raw bytes."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[Recorded], StubReply]


def _not_scripted(request: Recorded) -> StubReply:
    return StubReply(500, {"error": {"code": 500, "message": "no answer scripted"}})


@dataclass
class RecordingServer:
    url: str = ""
    respond: Responder = _not_scripted
    accepts: Callable[[str], bool] = lambda path: True  # paths the real endpoint serves
    requests: list[Recorded] = field(default_factory=list)
    max_in_flight: int = 0
    _in_flight: int = 0
    _hold: tuple[Callable[[Recorded], bool], int, float] | None = None
    _held_arrivals: int = 0
    _lock: threading.Condition = field(default_factory=threading.Condition)

    def hold(self, matching: Callable[[Recorded], bool], until: int, timeout: float = 5.0) -> None:
        """Keep each matching request waiting until ``until`` of them have arrived (or for
        ``timeout`` seconds)."""
        with self._lock:
            self._hold = (matching, until, timeout)
            self._held_arrivals = 0

    def bodies(self, matching: Callable[[Recorded], bool] = lambda r: True) -> list[dict[str, Any]]:
        with self._lock:
            return [r.body for r in self.requests if matching(r)]

    def _arrive(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
            hold = self._hold
            if hold is None or not hold[0](request):
                return
            self._held_arrivals += 1
            self._lock.notify_all()
            self._lock.wait_for(lambda: self._held_arrivals >= hold[1], timeout=hold[2])

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1


def _handler_for(server: RecordingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", "0")))
            request = Recorded(
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=json.loads(raw or b"{}"),
            )
            if not server.accepts(self.path):
                self._send(StubReply(404, {"error": {"code": 404, "message": "no such path"}}))
                return
            server._arrive(request)
            try:
                self._send(server.respond(request))
            finally:
                server._leave()

        def _send(self, reply: StubReply) -> None:
            raw = reply.body
            data = raw if isinstance(raw, bytes) else json.dumps(raw).encode("utf-8")
            try:
                self.send_response(reply.status)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the client stopped waiting (an answer held past its timeout)
                self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output readable

    return Handler


@contextmanager
def running_server(name: str) -> Iterator[RecordingServer]:
    """Serve a fresh recording server on a free loopback port for the duration of the block."""
    state = RecordingServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    # A short poll keeps shutdown (once per test) quick.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
