"""The real GCS emulator (``gcp-storage-emulator``) on a free loopback port, for any test.

    with running_gcs_emulator() as host:            # "http://127.0.0.1:PORT"
        client = storage_client(host)               # a real google.cloud.storage.Client
        client.create_bucket("videos")

A test that wants code under test to find the emulator by itself (a composition root reading
settings) sets ``STORAGE_EMULATOR_HOST`` to ``host`` with ``monkeypatch.setenv``; nothing here
touches the environment. The emulator keeps everything in memory and is gone after the block.
It serves the JSON API (multipart and resumable uploads, ranged downloads, listing) and plain
``GET /<bucket>/<object>`` (what a signed URL asks for) but checks no credentials, signatures
or preconditions (``if_generation_match`` is ignored).

``RequestLog`` records every HTTP request a client makes, for tests that check which calls
happened (a resumable upload, no listing); it uses the hooks that ``requests`` offers.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from gcp_storage_emulator.server import create_server
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_gcs_emulator(host: str = "127.0.0.1") -> Iterator[str]:
    """Start an in-memory emulator; yields its base URL and stops it on exit."""
    port = free_port(host)
    server = create_server(host, port, in_memory=True)
    server.start()
    url = f"http://{host}:{port}"
    try:
        with urllib.request.urlopen(f"{url}/", timeout=10) as answer:  # its health check
            answer.read()
        yield url
    finally:
        server.stop()


@dataclass(frozen=True)
class SeenRequest:
    """One request as the server saw it: method, path and decoded query parameters."""

    method: str
    path: str
    query: dict[str, list[str]]


@dataclass
class RequestLog:
    """A ``requests.Session`` whose every request is recorded in ``seen``."""

    session: requests.Session = field(default_factory=requests.Session)
    seen: list[SeenRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session.hooks["response"].append(self._record)

    def _record(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        parts = urlsplit(response.request.url or "")
        method = response.request.method or ""
        self.seen.append(SeenRequest(method, parts.path, parse_qs(parts.query)))

    def clear(self) -> None:
        self.seen.clear()

    def uploads(self, kind: str) -> list[SeenRequest]:
        """Requests of one ``uploadType`` (``multipart`` or ``resumable``)."""
        return [seen for seen in self.seen if seen.query.get("uploadType") == [kind]]

    def media_downloads(self) -> list[SeenRequest]:
        return [seen for seen in self.seen if seen.query.get("alt") == ["media"]]

    def listings(self, bucket: str) -> list[SeenRequest]:
        """Object listings of ``bucket`` (``GET .../b/<bucket>/o``)."""
        return [
            seen
            for seen in self.seen
            if seen.method == "GET" and seen.path.rstrip("/").endswith(f"/b/{bucket}/o")
        ]


def storage_client(
    host: str,
    project: str = "test-project",
    *,
    credentials: Any = None,
    log: RequestLog | None = None,
) -> storage.Client:
    """A real client that talks to the emulator at ``host``.

    Anonymous credentials by default; pass others (a service-account key, say) for code that
    signs URLs. Requests go out through a plain session either way, so the client never asks a
    token service for a token the emulator would not look at. ``log`` records the requests.
    """
    return storage.Client(
        project=project,
        credentials=credentials if credentials is not None else AnonymousCredentials(),
        client_options={"api_endpoint": host},
        _http=log.session if log is not None else requests.Session(),
    )
