"""An upgrade without lost work: two `vividly serve` stacks, each on its own local Ray instance,
share one PostgreSQL database and one blob store, as the old and the new Ray cluster of a
KubeRay NewCluster upgrade do. The old stack is SIGKILLed (its whole process group: the serving
process and every Ray process it started) in the middle of generating_video; the new stack,
already up, reclaims the request once the dead holder's lease expires and finishes it exactly
once, reusing the scenes the old one finished.

The blob store is the GCS emulator on loopback (``gcp-storage-emulator``, through the real
google-cloud-storage client, as in production): the two stacks have separate VIVIDLY_HOME
folders, so the only things they share are the database and the buckets, like two clusters.

Both stacks poll the same queue, so either dispatcher could claim a new request. In an upgrade
the requests in flight were claimed by the old cluster before the new one existed; to start
from that state with both stacks already up, the new stack is paused (SIGSTOP of its process
group) from the submit until the old stack's dispatcher holds the lease, then resumed and
checked ready before the old one is killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.conftest import POSTGRES_URL, fresh_schema
from tests.e2e.serve_process import ServeProcess, service_env, sse_events
from tests.gcs_emulator import running_gcs_emulator, storage_client
from vividly_ray.bootstrap import build_repository
from vividly_ray.domain.status import PIPELINE
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.settings import load_settings

pytestmark = pytest.mark.e2e
CONTENT = "vividly-upgrade-videos"
TEMP = "vividly-upgrade-temp"
LEASE_S = 4
STAGES = [status.value for status in PIPELINE]


class Stack:
    """One `vividly serve` with its own Ray instance under a Ray temp folder of its own.

    Ray puts each worker (every Serve replica, the Dispatcher's included) in a process group
    of its own, so the serving process's group holds only the serving process, GCS, the raylet
    and the agents; the workers die on their own once their raylet is gone. A stack's processes
    are therefore found by their group, by their ancestry, and by the ``RAY_TMPDIR`` they all
    inherit; killing the stack (an old cluster deleted) SIGKILLs every one of them at once.
    """

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        # Short: Ray's Unix sockets live under it, and their paths are limited to 107 bytes.
        self.ray_tmp = Path(tempfile.mkdtemp(prefix=f"vrup-{name}-", dir="/tmp"))
        self.name = name
        self.env = {**env, "RAY_TMPDIR": str(self.ray_tmp), "VIVIDLY_HOME": str(folder / name)}
        self.server = ServeProcess(self.env, folder / f"{name}.log")
        self.pgid: int | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start(timeout_s=400)

    def launched(self) -> None:
        process = self.server._process
        assert process is not None
        self.pgid = process.pid  # started with start_new_session: its own process group

    def processes(self) -> dict[int, str]:
        """pid -> command line of every live process of this stack."""
        marker = f"RAY_TMPDIR={self.ray_tmp}".encode()
        table: dict[int, tuple[int, str, bool]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                environ = (entry / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, UnicodeDecodeError):
                continue
            if fields[0] == "Z":
                continue  # already dead; its parent reaps it
            ours = (
                (self.pgid is not None and int(fields[2]) == self.pgid)
                or str(self.ray_tmp) in command
                or marker in environ
            )
            table[int(entry.name)] = (int(fields[1]), command[:120], ours)
        found = {pid for pid, (_, _, ours) in table.items() if ours}
        grew = True
        while grew:  # and every descendant of one of them
            more = {pid for pid, (ppid, _, _) in table.items() if ppid in found} - found
            found |= more
            grew = bool(more)
        return {pid: table[pid][1] for pid in sorted(found)}

    def signal_all(self, sig: signal.Signals) -> None:
        for pid in self.processes():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)

    def owns(self, pid: int) -> bool:
        return pid in self.processes()

    def kill(self) -> dict[int, str]:
        """SIGKILL every process of this stack at once; what is still alive after 20 s."""
        deadline = time.monotonic() + 20
        while (left := self.processes()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        with contextlib.suppress(Exception):
            self.server.kill()  # reaps the serving process
        return self.processes()


@pytest.fixture
def gcs_host() -> Iterator[str]:
    with running_gcs_emulator() as host:
        client = storage_client(host)
        client.create_bucket(CONTENT)
        client.create_bucket(TEMP)
        yield host


@pytest.fixture
def stacks(tmp_path: Path, gcs_host: str) -> Iterator[tuple[Stack, Stack]]:
    plain = "postgresql://" + POSTGRES_URL.split("://", 1)[1]
    with fresh_schema(plain) as database_url:
        env = service_env(
            tmp_path / "unused",
            DATABASE_URL=database_url,
            STORAGE_EMULATOR_HOST=gcs_host,
            GOOGLE_CLOUD_PROJECT="test-project",
            GCS_GENERATED_CONTENT_BUCKET=CONTENT,
            GCS_TEMP_FILES_BUCKET=TEMP,
            VIVIDLY_LEASE_SECONDS=str(LEASE_S),
            VIVIDLY_AUTH_DISABLED="true",
            VIVIDLY_RAY_NUM_CPUS="2",
        )
        old, new = Stack("old", env, tmp_path), Stack("new", env, tmp_path)
        try:
            yield old, new
        finally:
            left = {**old.kill(), **new.kill()}
            for stack in (old, new):
                shutil.rmtree(stack.ray_tmp, ignore_errors=True)
        assert left == {}, f"processes of the two stacks survived: {left}"


def _start_both(old: Stack, new: Stack) -> None:
    """Start both stacks at once (each takes a while on two cores); raise if either fails."""
    errors: list[BaseException] = []

    def start(stack: Stack) -> None:
        try:
            stack.start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(stack,)) for stack in (old, new)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while any(stack.server._process is None for stack in (old, new)):
        assert time.monotonic() < deadline, "a stack did not launch"
        time.sleep(0.05)
    old.launched()
    new.launched()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _holder(repository: SqlRequestRepository, request_id: str) -> tuple[str, int | None]:
    """The request's status and the pid of the dispatcher holding its lease."""
    record = repository.get(request_id)
    if not record.lease_owner:
        return record.status.value, None
    return record.status.value, int(record.lease_owner.split(":")[1])  # host:pid:nonce


@pytest.mark.timeout(900)
def test_the_new_cluster_finishes_the_old_clusters_request_exactly_once(
    stacks: tuple[Stack, Stack], tmp_path: Path, gcs_host: str
) -> None:
    old, new = stacks
    started = time.monotonic()
    _start_both(old, new)
    startup_s = time.monotonic() - started
    # The stacks migrated the schema; the test only reads rows.
    repository = build_repository(load_settings(old.env, auto_migrate=False))

    # The new stack sleeps through the claim, so the request is the old cluster's.
    new.signal_all(signal.SIGSTOP)
    try:
        client = httpx.Client(base_url=old.url, timeout=30)
        submitted = client.post(
            "/v1/videos",
            json={
                "student_query": "Explain the water cycle",
                "grade_level": "5",
                "duration_minutes": 2,
            },
        )
        assert submitted.status_code == 202, submitted.text
        request_id = submitted.json()["id"]
        deadline = time.monotonic() + 60
        while (holder := _holder(repository, request_id))[1] is None:
            assert holder[0] == "pending", holder
            assert time.monotonic() < deadline, "the old stack never claimed the request"
            time.sleep(0.05)
    finally:
        new.signal_all(signal.SIGCONT)
    old_holder = holder[1]
    assert old.owns(old_holder), f"held by pid {old_holder}, not a process of the old stack"
    ready = httpx.get(f"{new.url}/readyz", timeout=30)
    assert ready.status_code == 200, ready.text  # the new cluster is up before the old dies

    # Kill the old cluster once some, but not all, scenes are finished.
    deadline = time.monotonic() + 240
    while True:
        detail = client.get(f"/v1/videos/{request_id}").json()
        if detail["status"] == "generating_video" and detail["scenes"]["done"] >= 1:
            break
        assert detail["status"] not in ("processing_video", "completed", "failed"), detail
        assert time.monotonic() < deadline, detail
        time.sleep(0.05)
    killed_at = time.monotonic()
    assert old.kill() == {}
    done_before = detail["scenes"]["done"]
    assert done_before < detail["scenes"]["total"]

    # Traffic now goes to the new cluster, which picks the request up after the lease expires.
    client = httpx.Client(base_url=new.url, timeout=30)
    deadline = time.monotonic() + 300
    holders: set[int] = set()
    while (final := client.get(f"/v1/videos/{request_id}").json())["status"] != "completed":
        assert final["status"] not in ("failed", "cancelled"), final
        assert time.monotonic() < deadline, final
        # Until the old lease expires, the row still names the dead holder.
        if (pid := _holder(repository, request_id)[1]) not in (None, old_holder):
            holders.add(pid)
        time.sleep(0.1)
    assert holders and all(new.owns(pid) for pid in holders), holders
    recovery_s = time.monotonic() - killed_at
    events = list(sse_events(f"{new.url}/v1/videos/{request_id}/events", {}))

    statuses = [e["data"]["status"] for e in events if e["event"] == "status"]
    assert statuses == STAGES  # each stage entered once, across both clusters
    assert statuses.count("completed") == 1
    assert [int(e["id"]) for e in events] == list(range(1, len(events) + 1))
    assert final["attempts"] == 2
    assert final["scenes"]["done"] == final["scenes"]["total"] > done_before

    meta = repository.get(request_id).request_metadata
    assert meta["scenes_reused"] >= done_before

    bucket = storage_client(gcs_host)
    delivered = [blob.name for blob in bucket.list_blobs(CONTENT, prefix="videos/")]
    assert {name.split("/")[1] for name in delivered} == {request_id}
    # One delivered MP4 (the stream's parts sit under stream/ beside it).
    assert [name for name in delivered if name.endswith(".mp4") and "/stream/" not in name] == [
        f"videos/{request_id}/video.mp4"
    ]

    video = tmp_path / "video.mp4"
    video.write_bytes(_download(new.url, final["files"]["video.mp4"]))
    manifest: dict[str, Any] = json.loads(_download(new.url, final["files"]["manifest.json"]))
    reused = [s for s in manifest["durations"]["scenes"] if s["segment_reused"]]
    assert len(reused) >= done_before
    with av.open(str(video)) as container:
        kinds = sorted(stream.type for stream in container.streams)
        seconds = float(container.duration or 0) / av.time_base
        frames = sum(1 for _ in container.decode(video=0))
    with av.open(str(video)) as container:
        audio_s = sum(frame.samples for frame in container.decode(audio=0)) / (
            container.streams.audio[0].sample_rate
        )
    assert {"video", "audio"} <= set(kinds)
    assert 78 <= seconds <= 162  # a 2-minute request, ±35%
    assert seconds == pytest.approx(final["video_seconds"], abs=1.0)
    assert audio_s == pytest.approx(seconds, abs=2.0)
    assert frames >= final["scenes"]["total"]  # every scene shows at least one picture
    scene_sum = sum(s["seconds"] for s in manifest["durations"]["scenes"])
    assert scene_sum == pytest.approx(final["video_seconds"], abs=0.5)
    print(
        f"start-up of both stacks {startup_s:.1f} s; recovered and finished "
        f"{recovery_s:.1f} s after the kill; {done_before} of {final['scenes']['total']} scenes "
        f"done before it, {meta['scenes_reused']} reused; {seconds:.1f} s of video"
    )


def _download(base: str, link: str) -> bytes:
    answer = httpx.get(base + link, timeout=60, follow_redirects=True)
    assert answer.status_code == 200, answer.text
    return answer.content
