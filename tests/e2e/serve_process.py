"""`vividly serve` as a user starts it: a subprocess in its own process group, on a free port."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def service_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RAY_ADDRESS")}
    env.update(
        VIVIDLY_HOME=str(home),
        RAY_AUTH_MODE="disabled",
        VIVIDLY_RAY_NUM_CPUS="2",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def vividly(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=REPO_ROOT,
    )


def create_key(env: dict[str, str], org: str) -> str:
    made = vividly("keys", "create", "--org", org, env=env)
    assert made.returncode == 0, made.stderr
    return next(
        line.split(": ", 1)[1] for line in made.stdout.splitlines() if line.startswith("key: ")
    )


class ServeProcess:
    """Starts `vividly serve`, waits for /readyz, and can be stopped or killed outright."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.startup_s = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 180) -> ServeProcess:
        started = time.monotonic()
        with self.log.open("ab") as sink:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "actors.cli", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=REPO_ROOT,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: Ray's processes included
            )
        deadline = started + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"vividly serve exited: {self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        self.startup_s = time.monotonic() - started
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.kill()
        raise TimeoutError(f"not ready in {timeout_s} s: {self.log.read_text()[-3000:]}")

    def stop(self, grace_s: float = 30) -> None:
        """SIGTERM, as an orchestrator would; SIGKILL if it does not exit in time."""
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(grace_s)
        except subprocess.TimeoutExpired:
            self.kill()
        self._kill_group()

    def kill(self) -> None:
        """SIGKILL the serving process and every Ray process it started (a crashed node)."""
        if self._process is None:
            return
        self._kill_group()
        self._process.wait(30)

    def _kill_group(self) -> None:
        assert self._process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sse_events(
    url: str, headers: dict[str, str], timeout_s: float = 300
) -> Iterator[dict[str, Any]]:
    """Every event of an SSE stream (id, event, data), until the server ends it."""
    import httpx

    with httpx.stream("GET", url, headers=headers, timeout=timeout_s) as answer:
        assert answer.status_code == 200, answer.read()
        assert answer.headers["content-type"].startswith("text/event-stream")
        event: dict[str, Any] = {}
        for line in answer.iter_lines():
            if not line:
                if "data" in event:
                    yield event
                event = {}
            elif line.startswith(":") or line.startswith("retry:"):
                continue
            else:
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                event[name] = json.loads(value) if name == "data" else value
