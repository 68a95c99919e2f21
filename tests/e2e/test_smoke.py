"""`vividly smoke` against a real `vividly serve` (SQLite, the local blob folder), run as a user
runs it: a wrong key fails at submit; a real key follows the water-cycle request through every
stage to completed, downloads the files and finds a video that plays."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import pytest

from tests.e2e.serve_process import REPO_ROOT, ServeProcess, create_key, service_env
from vividly_ray.domain.status import PIPELINE

pytestmark = pytest.mark.e2e
LINE = re.compile(r"^\s*\d+\.\d s  (\S+)\s+(\d+)%")
STAGES = [status.value for status in PIPELINE]


@dataclass(frozen=True)
class Deployment:
    url: str
    key: str


def _ray_processes(ray_tmp: Path) -> list[int]:
    """Live processes started under this Ray temp folder (every Ray process inherits it)."""
    marker = f"RAY_TMPDIR={ray_tmp}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ours = marker in (entry / "environ").read_bytes().split(b"\0")
            alive = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            continue
        if ours and alive:
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp("smoke-e2e")
    # A Ray temp folder of its own (short: Ray's socket paths are limited to 107 bytes), so
    # this test's Ray processes are known and none outlives it.
    ray_tmp = Path(tempfile.mkdtemp(prefix="vrsmoke-", dir="/tmp"))
    env = service_env(folder / "home", RAY_TMPDIR=str(ray_tmp))
    key = create_key(env, "platform-smoke")
    try:
        with ServeProcess(env, folder / "serve.log") as server:
            yield Deployment(server.url, key)
    finally:
        # Ray's workers have process groups of their own and leave once their raylet is gone.
        deadline = time.monotonic() + 20
        while (left := _ray_processes(ray_tmp)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    assert left == [], f"Ray processes outlived the service: {left}"


def smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", "smoke", *args],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=REPO_ROOT,
    )


def test_a_wrong_key_fails_at_submit(deployment: Deployment) -> None:
    run = smoke("--url", deployment.url, "--api-key", "vk_not_a_key_of_this_deployment")
    assert run.returncode == 2, run.stderr
    assert run.stderr == (
        "smoke failed at submit: HTTP 401 Authentication required: unknown API key\n"
    )


def test_the_smoke_request_completes_and_its_video_plays(
    deployment: Deployment, tmp_path: Path
) -> None:
    kept = tmp_path / "kept"
    run = smoke(
        "--url", deployment.url, "--api-key", deployment.key, "--timeout", "300",
        "--out", str(kept),
    )  # fmt: skip
    print(run.stdout)
    assert run.returncode == 0, run.stdout + run.stderr
    seen: list[str] = []
    for line in run.stdout.splitlines():
        found = LINE.match(line)
        if found and (not seen or seen[-1] != found[1]):
            seen.append(found[1])
    assert seen == STAGES, run.stdout
    assert re.search(r"generating_video\s+\d+%  scenes \d+/\d+", run.stdout)
    assert "decoded without errors" in run.stdout
    assert run.stdout.splitlines()[-1].startswith("smoke passed in "), run.stdout
    with av.open(str(kept / "video.mp4")) as container:
        kinds = {stream.type for stream in container.streams}
        seconds = float(container.duration or 0) / av.time_base
    assert {"video", "audio"} <= kinds
    assert 117 <= seconds <= 243
    assert (kept / "captions.vtt").read_text("utf-8").startswith("WEBVTT")
