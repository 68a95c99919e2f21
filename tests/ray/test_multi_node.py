"""The Serve application on a Ray cluster of several nodes that share no disk.

``ray.cluster_utils.Cluster`` starts several Ray nodes on this machine. Each node is started
with its own environment (``env_vars``: what a pod's ConfigMap gives it on Kubernetes), and its
raylet hands that environment to every worker it starts, so each node has its own
``VIVIDLY_HOME`` (its own ``work/`` and ``library/``). The nodes share only the declared
backends: PostgreSQL (a fresh schema) and the blob store (the GCS emulator on loopback, with a
content bucket and a temp-files bucket). The driver joins the cluster through
``RAY_ADDRESS`` (``Settings.ray_address``), so ``ServiceRuntime`` exports nothing to the nodes:
the replicas see only their node's environment.

Layout:

- head: ``num_cpus=0``, as on GKE (``num-cpus: 0`` in the RayCluster spec). It runs the GCS
  server, the dashboard (whose state API reports where each replica runs) and the Serve
  controller, which needs no CPU. There is no HTTP proxy: requests are recorded through the
  same ``Intake`` the API uses.
- two workers with 2 CPUs each hold every replica. The pool replicas ask for 0.7 CPU, so one
  worker can hold at most two of them (three would need 2.1): the four pool replicas (two
  Narrators, two SegmentEncoders) cannot all land on one node, whatever order Serve places
  them in, and the 0.6 CPU left on each worker always fits the Gateway, Dispatcher, Tracker
  and ScriptWriter (0.35 CPU together).
- the node-loss test first adds a third worker (2 CPUs) where Serve can place the replacements
  of the replicas it loses. Once the request's first scene is done, it waits for a moment when
  a pool replica on the chosen worker (one without the Dispatcher when there is one) is in the
  middle of a scene call, which that node's own ``work/`` folder shows, and kills the node then:
  its replica processes and its Ray processes, without a graceful shutdown, as a node that
  loses power goes. The replicas are stopped (SIGSTOP) while the folder is looked at, so the
  call cannot finish between the look and the kill.

The head's health checks run every second and give up after three misses, so a killed node is
declared dead in about 3 s rather than after Ray's default five misses 3 s apart.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import pytest

from actors.app import AppArgs
from actors.follow import local_intake
from actors.service_runtime import APP_NAME, ServiceRuntime
from tests.conftest import fresh_schema
from tests.gcs_emulator import free_port, running_gcs_emulator, storage_client
from vividly_ray.bootstrap import Stores
from vividly_ray.domain.models import Grade, Resolution, VideoRequest
from vividly_ray.domain.status import RequestStatus
from vividly_ray.persistence.records import RequestRecord
from vividly_ray.service.intake import Intake
from vividly_ray.settings import load_settings, settings_env

pytestmark = pytest.mark.ray

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
PROJECT = "test-project"
CONTENT_BUCKET = "vividly-multinode-videos"
TEMP_BUCKET = "vividly-multinode-temp"
WORKER_CPUS = 2
POOL_CPUS = 0.7  # one worker holds at most two pool replicas
POOLS = ("Narrator", "SegmentEncoder")
REQUEST_TIMEOUT_S = 300
# The same settings on every node (a ConfigMap's shared part); only VIVIDLY_HOME differs.
SHARED_SETTINGS: dict[str, Any] = {
    "lease_seconds": 6,
    "retry_base_seconds": 0.5,
    "max_attempts": 6,
    "google_cloud_project": PROJECT,
    "gcs_generated_content_bucket": CONTENT_BUCKET,
    "gcs_temp_files_bucket": TEMP_BUCKET,
}


def node_env(home: Path, database_url: str, storage_host: str) -> dict[str, str]:
    """The environment one node is started with: the settings with this node's home."""
    settings = load_settings({}, home=home, database_url=database_url, **SHARED_SETTINGS)
    return {**settings_env(settings), "STORAGE_EMULATOR_HOST": storage_host}


@dataclass
class MultiNode:
    """The cluster, the Serve application joined from this process, and the shared backends."""

    cluster: Any
    runtime: ServiceRuntime
    stores: Stores
    intake: Intake
    ray_tmp: Path
    homes: dict[str, Path]  # node id -> that node's VIVIDLY_HOME
    driver_home: Path
    add_worker: Callable[[str], Any]
    started_s: float
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def head_id(self) -> str:
        head_id: str = self.cluster.head_node.node_id
        return head_id

    def submit(self, question: str, grade: int) -> str:
        request = VideoRequest(
            question=question,
            grade=Grade(grade),
            minutes=1,
            resolution=Resolution.P480,
            organization_id="local",
        )
        record, _ = self.intake.record(request)
        return record.request_id

    def wait(self, request_id: str, timeout_s: float = REQUEST_TIMEOUT_S) -> RequestRecord:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            record = self.stores.requests.get(request_id)
            if record.status.is_terminal:
                return record
            time.sleep(0.2)
        raise TimeoutError(f"request {request_id} still {record.status} after {timeout_s} s")

    def download(self, record: RequestRecord, out: Path) -> Path:
        out.mkdir(parents=True, exist_ok=True)
        for name, key in record.request_metadata["files"].items():
            self.stores.blobs.get_file(key, out / name)
        return out


def replica_actors() -> list[tuple[str, str, int]]:
    """(deployment, node id, pid) of every ALIVE replica of the app, from Ray's state API."""
    import ray
    from ray.util.state import list_actors

    actors = list_actors(
        address=ray.get_runtime_context().gcs_address,  # this cluster, never a guess
        filters=[("state", "=", "ALIVE")],
        detail=True,
        limit=1000,
    )
    prefix = f"ServeReplica:{APP_NAME}:"
    return [
        (actor.class_name.removeprefix(prefix), str(actor.node_id), int(actor.pid or 0))
        for actor in actors
        if actor.class_name.startswith(prefix)
    ]


def by_deployment(replicas: list[tuple[str, str, int]]) -> dict[str, list[str]]:
    """Deployment name -> the node ids of its replicas."""
    placed: dict[str, list[str]] = {}
    for deployment, node, _ in replicas:
        placed.setdefault(deployment, []).append(node)
    return placed


def running_replicas(deployment: str) -> int:
    from ray import serve

    status: Any = serve.status().applications[APP_NAME].deployments[deployment]
    return sum(n for state, n in status.replica_states.items() if str(state).endswith("RUNNING"))


def ray_processes(marker: str) -> list[str]:
    """Command lines of raylet and gcs_server processes that mention ``marker`` (their session
    folder is under it)."""
    found = subprocess.run(
        ["pgrep", "-af", "raylet|gcs_server"], capture_output=True, text=True, check=False
    )
    return [line for line in found.stdout.splitlines() if marker in line]


def cluster_processes(marker: str) -> list[int]:
    """Every process started with ``RAY_TMPDIR=marker``: the cluster's Ray processes and the
    workers they started (replicas, the dashboard's modules)."""
    wanted = f"RAY_TMPDIR={marker}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if wanted in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:
            continue  # gone, or not ours to read
    return pids


def rss_mib(pids: list[int]) -> float:
    """The resident memory of ``pids`` together, in MiB (for the figures in docs/scaling.md)."""
    total_kib = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total_kib += int(line.split()[1])
    return round(total_kib / 1024, 1)


def with_descendants(roots: list[int]) -> list[int]:
    """``roots`` and every process started under them."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                # The parent pid is the 4th field, after the name in parentheses.
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    found = set(roots)
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    return sorted(found)


def kill_node_processes(pids: list[int], marker: str) -> None:
    """SIGKILL those of ``pids`` (and what they started, such as ffmpeg) that still run and
    belong to this cluster, as a node that loses power loses every process on it."""
    ours = set(cluster_processes(marker))
    for pid in with_descendants(pids):
        if pid in ours:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def signal_all(pids: list[int], number: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, number)


def stopped(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True  # gone: it cannot run either
    return state in ("T", "t")


def calls_in_progress(work: Path) -> list[str]:
    """Scene calls under way on a node, from its own ``work/`` folder, where each process has a
    scratch folder of its own (``proc/<host>-<pid>-<start>/``): an encode's scratch
    (``scene-NNN-*``) or a cache entry being written (``cache-writes/*``). Each is made when
    the call starts and removed before it returns."""
    found = [path.name for path in work.glob("proc/*/scene-*")]
    return found + [f"cache-writes/{path.name}" for path in work.glob("proc/*/cache-writes/*")]


def freeze_mid_call(
    pids: list[int], work: Path, running: Callable[[], bool], marker: str
) -> list[str]:
    """Stop ``pids`` (SIGSTOP) at a moment when one of them is in the middle of a scene call,
    and return what it was doing; they stay stopped. While they are stopped nothing can finish
    or clean up, so that call is certain to be cut off when they are killed. Returns [] if
    ``running()`` turns false first."""
    ours = set(cluster_processes(marker))
    assert set(pids) <= ours, (pids, "not processes of this cluster")
    while running():
        signal_all(pids, signal.SIGSTOP)
        deadline = time.monotonic() + 1
        while not all(stopped(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.001)
        busy = calls_in_progress(work)
        if busy:
            return busy
        signal_all(pids, signal.SIGCONT)
        time.sleep(0.01)
    return []


def start_head(cluster_type: Any, head_node_args: dict[str, Any], marker: str) -> Any:
    """The cluster with its head node. A head whose raylet does not register with its GCS
    within Ray's 30 s (a machine starved for a while) leaves its processes running with no
    handle to stop them: they are killed, and the head is started once more (once)."""
    for attempt in (1, 2):
        try:
            return cluster_type(initialize_head=True, head_node_args=head_node_args)
        except Exception as exc:
            # Whatever it started goes, so no process outlives the tests when this raises.
            kill_node_processes(cluster_processes(marker), marker)
            if attempt == 2 or "timed out during startup" not in str(exc):
                raise
            logging.getLogger(__name__).warning("the head did not start (%s); again", exc)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def multinode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MultiNode]:
    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized():
        ray.shutdown()
    saved = dict(os.environ)
    # Nothing of this process's settings may reach the nodes: a raylet starts from this
    # process's environment plus its own env_vars, and only the latter should count.
    for name in list(os.environ):
        if name.startswith("VIVIDLY_") or name in ("RAY_ADDRESS", "DATABASE_URL"):
            del os.environ[name]
    # Our own Ray temp folder: session files, sockets and the address file stay apart from any
    # other Ray on this machine (and a short path keeps socket names under the length limit).
    ray_tmp = Path(tempfile.mkdtemp(prefix="vr-mn-", dir="/tmp"))
    os.environ["RAY_TMPDIR"] = str(ray_tmp)
    cluster: Any = None
    runtime: ServiceRuntime | None = None
    stores: Stores | None = None
    try:
        with running_gcs_emulator() as storage_host, fresh_schema(POSTGRES) as database_url:
            client = storage_client(storage_host, PROJECT)
            for bucket in (CONTENT_BUCKET, TEMP_BUCKET):
                client.create_bucket(bucket)
            os.environ["STORAGE_EMULATOR_HOST"] = storage_host  # for this process's client
            homes_by_name = {
                name: tmp_path_factory.mktemp(f"node-{name}") for name in ("head", "w1", "w2", "w3")
            }
            homes: dict[str, Path] = {}

            def add_worker(name: str) -> Any:
                home = homes_by_name[name]
                node = cluster.add_node(
                    num_cpus=WORKER_CPUS, env_vars=node_env(home, database_url, storage_host)
                )
                homes[node.node_id] = home
                cluster.wait_for_nodes()
                return node

            # Serve, Ray and the nodes stop before the database schema and the emulator go.
            try:
                started = time.perf_counter()
                head_node_args = {
                    "num_cpus": 0,
                    "env_vars": node_env(homes_by_name["head"], database_url, storage_host),
                    # The dashboard's head process serves the state API (``list_actors``).
                    "dashboard_port": free_port(),
                    "_system_config": {
                        "health_check_period_ms": 1000,
                        "health_check_failure_threshold": 3,
                    },
                }
                cluster = start_head(Cluster, head_node_args, str(ray_tmp))
                homes[cluster.head_node.node_id] = homes_by_name["head"]
                add_worker("w1")
                add_worker("w2")

                driver_home = tmp_path_factory.mktemp("driver")
                settings = load_settings(
                    {},
                    home=driver_home,
                    database_url=database_url,
                    ray_address=cluster.address,
                    **SHARED_SETTINGS,
                )
                # Migrate once before the replicas start (as a deployment's migration job does).
                stores, intake = local_intake(settings)
                args = AppArgs(narrator_cpus=POOL_CPUS, encoder_cpus=POOL_CPUS)
                runtime = ServiceRuntime(settings, args=args).start()
                yield MultiNode(
                    cluster=cluster,
                    runtime=runtime,
                    stores=stores,
                    intake=intake,
                    ray_tmp=ray_tmp,
                    homes=homes,
                    driver_home=driver_home,
                    add_worker=add_worker,
                    started_s=time.perf_counter() - started,
                )
            finally:
                try:
                    if runtime is not None:
                        runtime.close()
                    elif ray.is_initialized():
                        ray.shutdown()
                finally:
                    if cluster is not None:
                        cluster.shutdown()
                    if stores is not None:
                        stores.db.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert not ray.is_initialized()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = ray_processes(str(ray_tmp)), cluster_processes(str(ray_tmp))
        if left == ([], []):
            break
        time.sleep(0.5)
    # Nothing of this cluster may outlive the tests; what did is stopped, and reported.
    kill_node_processes(left[1], str(ray_tmp))
    shutil.rmtree(ray_tmp, ignore_errors=True)
    assert left == ([], []), left


def check_video(service: MultiNode, record: RequestRecord, out: Path) -> dict[str, Any]:
    """The delivered video is whole: both streams, about a minute, a chapter per scene."""
    assert record.status is RequestStatus.COMPLETED, record.error
    files = service.download(record, out)
    manifest: dict[str, Any] = json.loads((files / "manifest.json").read_text())
    script = json.loads((files / "script.json").read_text())
    with av.open(str(files / "video.mp4")) as container:
        kinds = sorted(s.type for s in container.streams if s.type in ("audio", "video"))
        video = container.streams.video[0]
        height = video.codec_context.height
        assert container.duration is not None
        duration = container.duration / av.time_base
        chapters = container.chapters()
    assert kinds == ["audio", "video"]
    assert height == 480
    assert abs(duration - 60) <= 9, duration  # within 15% of the requested minute
    assert duration == pytest.approx(manifest["durations"]["video_seconds"], abs=0.2)
    assert len(chapters) == len(script["scenes"]) == manifest["scene_count"]
    assert [c["title"] for c in manifest["chapters"]] == [s["title"] for s in script["scenes"]]
    return manifest


def completed_transitions(service: MultiNode, request_id: str) -> int:
    return sum(
        1
        for e in service.stores.requests.events(request_id)
        if e.event_type == "status" and e.status is RequestStatus.COMPLETED
    )


def test_a_runtime_on_several_nodes_warns_of_backends_on_its_own_disk(
    multinode: MultiNode, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="vividly.runtime")
    multinode.runtime._check_backends()  # the shared database and buckets: nothing to say
    assert caplog.records == []
    embedded = load_settings({}, home=tmp_path / "home", ray_address=multinode.cluster.address)
    ServiceRuntime(embedded)._check_backends()
    [warning] = caplog.records
    assert f"{len(multinode.cluster.list_all_nodes())} Ray nodes" in warning.getMessage()
    assert "DATABASE_URL" in warning.getMessage()
    assert "GCS_GENERATED_CONTENT_BUCKET" in warning.getMessage()


def test_scenes_are_narrated_and_encoded_on_two_nodes(multinode: MultiNode, tmp_path: Path) -> None:
    # Joining a cluster, the driver exported no settings: the replicas have only their node's.
    assert [name for name in os.environ if name.startswith("VIVIDLY_")] == []
    placed = by_deployment(replica_actors())
    for deployment in (*POOLS, "Dispatcher", "Tracker", "Gateway", "ScriptWriter"):
        assert deployment in placed, placed
    pool_nodes = {node for name in POOLS for node in placed[name]}
    assert len(placed["Narrator"]) == len(placed["SegmentEncoder"]) == 2
    assert multinode.head_id not in {node for nodes in placed.values() for node in nodes}
    assert len(pool_nodes) >= 2, placed

    started = time.perf_counter()
    request_id = multinode.submit("How do magnets work?", 4)
    record = multinode.wait(request_id)
    wall_s = time.perf_counter() - started
    manifest = check_video(multinode, record, tmp_path / "out")
    assert completed_transitions(multinode, request_id) == 1

    # Which node handled each scene, as the pools stamped it: every scene was narrated on a
    # node that holds a Narrator replica and encoded on one that holds a SegmentEncoder, and
    # the scene work as a whole ran on at least two nodes.
    scenes = manifest["providers"]["scenes"]
    narrated = {node for scene in scenes for node in scene["narrated_on"]}
    encoded = {node for scene in scenes for node in scene["encoded_on"]}
    assert narrated <= set(placed["Narrator"]), (narrated, placed)
    assert encoded <= set(placed["SegmentEncoder"]), (encoded, placed)
    assert len(narrated | encoded) >= 2, scenes

    # Each node worked in its own home; no node's disk holds a blob (they are all in buckets).
    for node in pool_nodes:
        assert (multinode.homes[node] / "work").is_dir(), node
    for home in (*multinode.homes.values(), multinode.driver_home):
        assert [p for p in (home / "blobs").rglob("*") if p.is_file()] == [], home
    client = storage_client(os.environ["STORAGE_EMULATOR_HOST"], PROJECT)
    cached = [blob.name for blob in client.list_blobs(TEMP_BUCKET, prefix="cache/")]
    assert any(name.endswith(".wav") for name in cached)
    assert any(name.endswith(".mp4") for name in cached)
    delivered = [blob.name for blob in client.list_blobs(CONTENT_BUCKET)]
    assert f"videos/{request_id}/video.mp4" in delivered

    # The head's processes by kind, each with what it started (the raylet: the Serve
    # controller; the dashboard: its modules).
    head = {
        kind: rss_mib(with_descendants([info.process.pid for info in infos]))
        for kind, infos in multinode.cluster.head_node.all_processes.items()
    }
    replicas = replica_actors()
    multinode.figures["two_nodes"] = {
        "head_rss_mib": round(sum(head.values()), 1),
        "head_rss_mib_by_process": head,
        "replica_rss_mib": {
            name: rss_mib([pid for deployment, _, pid in replicas if deployment == name])
            for name in sorted({deployment for deployment, _, _ in replicas})
        },
        "cluster_start_s": round(multinode.started_s, 1),
        "request_wall_s": round(wall_s, 1),
        "video_s": manifest["durations"]["video_seconds"],
        "scenes": manifest["scene_count"],
        "narrated_on_nodes": len(narrated),
        "encoded_on_nodes": len(encoded),
        "scene_nodes": len(narrated | encoded),
        "cache_objects": len(cached),
        "delivered_objects": len(delivered),
    }
    print("multi-node figures:", json.dumps(multinode.figures["two_nodes"]))


def test_a_lost_worker_node_mid_request_still_ends_in_one_correct_video(
    multinode: MultiNode, tmp_path: Path
) -> None:
    # Room for the replacements before a node goes.
    spare = multinode.add_worker("w3")
    replicas = replica_actors()
    placed = by_deployment(replicas)
    dispatcher_node = placed["Dispatcher"][0]
    # A worker with pool replicas, preferably without the Dispatcher (then the request's
    # pipeline survives and retries) and with both a Narrator and a SegmentEncoder.
    candidates = sorted(
        (
            node
            for node in multinode.cluster.worker_nodes
            if node is not spare and any(node.node_id in placed[name] for name in POOLS)
        ),
        key=lambda node: (
            node.node_id == dispatcher_node,
            -sum(node.node_id in placed[name] for name in POOLS),
        ),
    )
    assert candidates, placed
    victim = candidates[0]
    dispatcher_lost = victim.node_id == dispatcher_node
    lost = {name: nodes.count(victim.node_id) for name, nodes in placed.items()}
    victim_pids = [pid for _, node, pid in replicas if node == victim.node_id]
    pool_pids = [pid for name, node, pid in replicas if node == victim.node_id and name in POOLS]

    started = time.perf_counter()
    request_id = multinode.submit("What causes the tides?", 6)
    deadline = time.monotonic() + REQUEST_TIMEOUT_S
    done_before = 0
    while done_before < 1:
        assert time.monotonic() < deadline, "no scene was finished in time"
        # Scene events that count finished scenes (the stream's publications are scene events
        # too, with ``stream_scenes`` instead).
        scene_events = [
            e
            for e in multinode.stores.requests.events(request_id)
            if e.event_type == "scene" and "scenes_done" in e.details
        ]
        if scene_events:
            done_before = int(scene_events[-1].details["scenes_done"])
        else:
            assert not multinode.stores.requests.get(request_id).status.is_terminal
            time.sleep(0.05)

    # The node goes while one of its replicas is in the middle of a scene call.
    def generating() -> bool:
        status = multinode.stores.requests.get(request_id).status
        return status is RequestStatus.GENERATING_VIDEO

    cut_off = freeze_mid_call(
        pool_pids, multinode.homes[victim.node_id] / "work", generating, str(multinode.ray_tmp)
    )
    assert cut_off, "the node's replicas had no scene call under way after the first scene"
    removed_at, removed_clock = time.perf_counter(), datetime.now(UTC)
    kill_node_processes(victim_pids, str(multinode.ray_tmp))
    multinode.cluster.remove_node(victim, allow_graceful=False)
    killed_s = time.perf_counter() - removed_at
    # Nobody was left on the node to clean up after the call.
    assert set(cut_off) <= set(calls_in_progress(multinode.homes[victim.node_id] / "work"))

    record = multinode.wait(request_id)
    finished = time.perf_counter()
    manifest = check_video(multinode, record, tmp_path / "out")
    assert completed_transitions(multinode, request_id) == 1
    events = multinode.stores.requests.events(request_id)
    retries = [e for e in events if e.event_type == "retry"]

    # The loss interrupted the request and it was claimed again: after a retry when its
    # pipeline saw a lost worker, or after the lease expired when the Dispatcher went too.
    assert record.attempts >= 2, [(e.event_type, e.message) for e in events]
    if not dispatcher_lost:
        assert retries and all("a worker was lost" in e.message for e in retries), retries
    # The last attempt ran on the nodes that are left, and took the scenes finished before the
    # loss from the blob store's cache (whichever node had made them).
    scene_nodes = {
        node
        for scene in manifest["providers"]["scenes"]
        for node in (*scene["narrated_on"], *scene["encoded_on"])
    }
    assert victim.node_id not in scene_nodes
    assert record.request_metadata["scenes_reused"] >= done_before

    # Serve replaced what the node took with it, on the nodes that are left (Serve's own
    # count may still include a lost replica for a moment: the actors are the facts).
    deadline = time.monotonic() + 120
    while True:
        after = by_deployment(replica_actors())
        gone = victim.node_id not in {node for nodes in after.values() for node in nodes}
        replaced = all(len(after.get(name, [])) == len(nodes) for name, nodes in placed.items())
        if gone and replaced and all(running_replicas(name) == 2 for name in POOLS):
            break
        assert time.monotonic() < deadline, f"not replaced: {after} (had {placed})"
        time.sleep(0.5)

    multinode.figures["lost_node"] = {
        "request_wall_s": round(finished - started, 1),
        "after_loss_s": round(finished - removed_at, 1),
        "node_killed_in_s": round(killed_s, 1),
        "cut_off": cut_off,
        # When the retry was recorded, and when the stages after it began (from the events).
        "timeline_after_loss_s": [
            (e.event_type, e.status.value, round((e.created_at - removed_clock).total_seconds(), 1))
            for e in events
            if e.created_at >= removed_clock and e.event_type in ("retry", "status")
        ],
        "scenes_done_before_loss": done_before,
        "attempts": record.attempts,
        "retries": len(retries),
        "dispatcher_lost": dispatcher_lost,
        "scenes_reused": record.request_metadata["scenes_reused"],
        "scenes": manifest["scene_count"],
        "lost_replicas": {name: n for name, n in lost.items() if n},
    }
    print("multi-node figures:", json.dumps(multinode.figures["lost_node"]))


def test_a_head_that_times_out_is_started_once_more_and_other_errors_are_not() -> None:
    calls: list[dict[str, Any]] = []

    class Starved:
        def __init__(self, **kwargs: Any) -> None:
            calls.append(kwargs)
            if len(calls) == 1:
                raise Exception("The current node timed out during startup. This could happen")

    marker = f"/no-such-ray-tmp-{os.getpid()}"
    assert isinstance(start_head(Starved, {"num_cpus": 0}, marker), Starved)
    assert len(calls) == 2

    class Broken:
        def __init__(self, **kwargs: Any) -> None:
            calls.append(kwargs)
            raise ValueError("bad head_node_args")

    calls.clear()
    with pytest.raises(ValueError, match="bad head_node_args"):
        start_head(Broken, {}, marker)
    assert len(calls) == 1

    class AlwaysStarved:
        def __init__(self, **kwargs: Any) -> None:
            calls.append(kwargs)
            raise Exception("The current node timed out during startup.")

    calls.clear()
    with pytest.raises(Exception, match="timed out during startup"):
        start_head(AlwaysStarved, {}, marker)
    assert len(calls) == 2
