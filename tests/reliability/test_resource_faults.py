"""8. Resource faults: ffmpeg killed mid-encode, and a full scratch disk.

A real pipeline (real slides, the bundled ffmpeg, the real assembler and content cache; a tone
stands in for the voice, and the earlier stages are fakes) runs under the real dispatcher on
SQLite. Faults:
- the bundled ffmpeg is replaced, through ``IMAGEIO_FFMPEG_EXE``, by a wrapper that runs it and
  SIGKILLs it once its output file has bytes (a half-written MP4 exists at that moment), for one
  segment encode and, separately, for one final mux;
- the encoder's scratch folder (where slides are drawn) or the cache's scratch folder (where
  ffmpeg writes) is a 16 MiB tmpfs, filled up.
Invariants: the request is retried (or fails once its attempts are spent) with a reason that
names the stage and says what happened ("ffmpeg was killed", "No space left on device"); no
half-written artifact is ever stored or reused: every cached segment has its metadata and
decodes (checked with PyAV) to the duration the metadata says, nothing is left in the scratch
folders, and a run after the fault delivers a video that decodes to its full length.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import imageio_ffmpeg
import pytest

from tests.fakes import FakeAssessor, FakeRetriever, FakeWriter
from tests.integration.test_dispatcher import FakePacing
from tests.reliability.ledger import Ledger
from vividly_ray.domain.models import (
    Grade,
    RenderSpec,
    Resolution,
    VideoRequest,
)
from vividly_ray.domain.status import RequestStatus
from vividly_ray.media.assemble import VideoAssembler
from vividly_ray.media.encoder import FfmpegSegmentEncoder
from vividly_ray.persistence.database import Database
from vividly_ray.persistence.dispatch_queue import SqlDispatchQueue
from vividly_ray.persistence.repository import SqlRequestRepository
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline
from vividly_ray.pipeline.ports import StatusTracker
from vividly_ray.pipeline.sequential import InProcessSceneExecutor
from vividly_ray.service.dispatch import Dispatcher, DispatchPolicy, Outcome
from vividly_ray.speech.piper_narrator import PiperNarrator
from vividly_ray.storage.blobs import LocalBlobStore
from vividly_ray.storage.cache import ContentCache

pytestmark = pytest.mark.integration

GRADE = Grade(5)
WRAPPER = """#!/bin/sh
# The real ffmpeg; while a fault is armed, the first run whose arguments hold the armed text
# is killed with SIGKILL as soon as its output file (the last argument) has bytes.
dir="$VIVIDLY_TEST_KILL_DIR"
if [ -f "$dir/armed" ]; then
  match=$(cat "$dir/armed")
  case " $* " in
    *"$match"*)
      if mv "$dir/armed" "$dir/taken.$$" 2>/dev/null; then
        out=""
        for arg in "$@"; do out="$arg"; done
        (
          i=0
          while [ ! -s "$out" ] && [ $i -lt 5000 ]; do sleep 0.001; i=$((i + 1)); done
          kill -9 $$ 2>/dev/null && echo "$out" >> "$dir/killed"
        ) </dev/null >/dev/null 2>&1 &
      fi
      ;;
  esac
fi
exec "$VIVIDLY_TEST_REAL_FFMPEG" "$@"
"""


class FfmpegKiller:
    """Arms the wrapper: ``arm("libx264")`` kills the next segment encode."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def arm(self, match: str) -> None:
        (self.folder / "armed").write_text(match, "utf-8")

    def kills(self) -> int:
        log = self.folder / "killed"
        return len(log.read_text("utf-8").splitlines()) if log.exists() else 0


@pytest.fixture
def killer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FfmpegKiller:
    folder = tmp_path / "killer"
    folder.mkdir()
    wrapper = folder / "ffmpeg"
    wrapper.write_text(WRAPPER, "utf-8")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("VIVIDLY_TEST_REAL_FFMPEG", imageio_ffmpeg.get_ffmpeg_exe())
    monkeypatch.setenv("VIVIDLY_TEST_KILL_DIR", str(folder))
    monkeypatch.setenv("IMAGEIO_FFMPEG_EXE", str(wrapper))
    return FfmpegKiller(folder)


@dataclass
class Plant:
    """The database, the blob store and the folders a pipeline writes in."""

    root: Path
    db: Database
    repo: SqlRequestRepository
    queue: SqlDispatchQueue
    blobs: LocalBlobStore
    encoder_work: Path
    cache_scratch: Path
    _narrator: PiperNarrator | None = None

    @property
    def cache(self) -> ContentCache:
        return ContentCache(self.blobs, self.cache_scratch)

    @property
    def narrator(self) -> PiperNarrator:
        if self._narrator is None:
            self._narrator = PiperNarrator(self.cache)
        return self._narrator

    def pipeline(self, tracker: StatusTracker, stop: threading.Event) -> VideoPipeline:
        cache = self.cache

        def encoders(spec: RenderSpec) -> FfmpegSegmentEncoder:
            return FfmpegSegmentEncoder(spec, cache, self.encoder_work)

        ports = PipelinePorts(
            assessor=FakeAssessor(),
            retriever=FakeRetriever(),
            writer=FakeWriter(),
            executor=InProcessSceneExecutor(self.narrator, encoders),
            assembler=VideoAssembler(self.blobs, self.root / "assemble"),
            tracker=tracker,
            blobs=self.blobs,
            scratch=self.root / "requests",
            pacing=FakePacing(),
        )
        return VideoPipeline(ports)

    def dispatcher(self, max_attempts: int) -> Dispatcher:
        policy = DispatchPolicy(lease_s=5, max_attempts=max_attempts, retry_base_s=0.1)
        return Dispatcher(self.queue, self.repo, self.pipeline, policy, "dispatcher-1")

    @staticmethod
    def request(n: int) -> VideoRequest:
        return VideoRequest(
            f"Explain the water cycle, part {n}",
            Grade(5),
            1,
            organization_id="org",
            resolution=Resolution.P480,
        )

    def new_request(self, n: int) -> str:
        return self.repo.create(self.request(n))[0].request_id

    def narrate_ahead(self) -> None:
        """Narrate the script's scenes into the cache now, so a run only encodes."""
        request = self.request(0)
        script = FakeWriter().write(request, FakeRetriever().retrieve(request.question, GRADE))
        for scene in script.scenes:
            self.narrator.narrate(scene, request.grade)


@pytest.fixture
def plant(tmp_path: Path) -> Iterator[Plant]:
    db = Database.from_url(f"sqlite:///{tmp_path / 'vividly.db'}")
    db.create_schema()
    repo = SqlRequestRepository(db)
    try:
        yield Plant(
            tmp_path,
            db,
            repo,
            SqlDispatchQueue(db, repo),
            LocalBlobStore(tmp_path / "blobs"),
            tmp_path / "encoder-work",
            tmp_path / "cache-writes",
        )
    finally:
        db.dispose()


def _run(dispatcher: Dispatcher, wait_s: float = 0.0) -> Outcome | None:
    time.sleep(wait_s)
    return dispatcher.run_next()


def _seconds(path: Path) -> float:
    """How long a video lasts once decoded: every frame is decoded (PyAV), the container's
    length must agree with the last picture (each segment ends on a one-tick closing frame)."""
    with av.open(str(path)) as container:
        times = [float(frame.time) for frame in container.decode(video=0) if frame.time is not None]
        assert container.duration is not None, "no duration"
        length = container.duration / av.time_base
    assert len(times) >= 2, f"{len(times)} frames decoded"
    assert abs(times[-1] - length) < 0.05, f"last frame at {times[-1]:.3f} s of {length:.3f} s"
    return float(length)


def cache_problems(plant: Plant) -> tuple[list[str], int]:
    """What is wrong with the cache's segments ([] when every entry is whole), and how many
    whole entries it holds. An entry is its metadata: present only once the blob is whole."""
    problems: list[str] = []
    whole = 0
    for key in plant.blobs.list_keys("cache/segment-meta/"):
        stem = Path(key).name.removesuffix(".json")
        video = ContentCache.blob_key("segments", stem, ".mp4")
        if plant.blobs.stat(video) is None:
            problems.append(f"metadata without its segment: {key}")
            continue
        wanted = float(json.loads(plant.blobs.get_bytes(key))["duration"])
        try:
            got = _seconds(plant.blobs.path_of(video))
        except (av.error.FFmpegError, AssertionError) as exc:
            problems.append(f"{video} does not decode: {exc}")
            continue
        if abs(got - wanted) > 0.05:
            problems.append(f"{video} decodes to {got:.3f} s, its metadata says {wanted:.3f} s")
        whole += 1
    for key in plant.blobs.list_keys("cache/segments/"):
        stem = Path(key).name.removesuffix(".mp4")
        if plant.blobs.stat(ContentCache.blob_key("segment-meta", stem, ".json")) is None:
            # Never reused without its metadata, but nothing half made should be stored at all.
            problems.append(f"a segment stored without its metadata: {key}")
    for folder in (plant.encoder_work, plant.cache_scratch):
        if folder.exists():
            leftovers = [p.name for p in folder.iterdir() if p.name != "filler"]
            if leftovers:
                problems.append(f"left in {folder.name}: {leftovers}")
    stray = [p.name for p in (plant.root / "blobs").rglob(".tmp-*")]
    if stray:
        problems.append(f"half-written blobs: {stray}")
    return problems, whole


def delivered_problems(plant: Plant, request_id: str) -> list[str]:
    record = plant.repo.get(request_id)
    if record.status is not RequestStatus.COMPLETED:
        return [f"{request_id} is {record.status.value}: {record.error}"]
    files = record.request_metadata["files"]
    seconds = _seconds(plant.blobs.path_of(files["video.mp4"]))
    manifest = json.loads(plant.blobs.get_bytes(files["manifest.json"]))
    expected = sum(scene["seconds"] for scene in manifest["durations"]["scenes"])
    if abs(seconds - expected) > 0.05:
        return [f"the delivered video decodes to {seconds:.3f} s, not {expected:.3f} s"]
    return []


def _retry_reason(plant: Plant, request_id: str) -> str:
    retries = [e for e in plant.repo.events(request_id) if e.event_type == "retry"]
    return str(retries[-1].details.get("reason", "")) if retries else ""


@pytest.mark.parametrize(
    ("where", "match", "stage"),
    [
        ("segment encode", "libx264", "generating_video"),
        ("final mux", "-map_chapters", "processing_video"),
    ],
)
def test_a_killed_ffmpeg_is_retried_and_nothing_half_written_is_kept(
    where: str, match: str, stage: str, plant: Plant, killer: FfmpegKiller, ledger: Ledger
) -> None:
    started = time.monotonic()
    violations: list[str] = []
    dispatcher = plant.dispatcher(max_attempts=3)
    request_id = plant.new_request(1)
    killer.arm(match)

    first = _run(dispatcher)
    if killer.kills() != 1:
        violations.append(f"ffmpeg was killed {killer.kills()} times, not once")
    if first is None or first.status != "retry":
        violations.append(f"the killed run ended as {first}")
    reason = _retry_reason(plant, request_id)
    if not reason.startswith(f"{stage}: ffmpeg was killed by SIGKILL"):
        violations.append(f"retry reason {reason!r}")
    if plant.repo.get(request_id).request_metadata.get("files"):
        violations.append("files were delivered by the killed run")
    if list((plant.root / "requests").glob("*/.video.partial.mp4")):
        violations.append("a partial video was left behind")
    problems, whole_after_kill = cache_problems(plant)
    violations += problems

    second = _run(dispatcher, wait_s=0.3)
    if second is None or second.status != "completed":
        violations.append(f"the retry ended as {second}")
    violations += delivered_problems(plant, request_id)
    problems, whole = cache_problems(plant)
    violations += problems
    if whole != 4:
        violations.append(f"{whole} whole segments cached, not one per scene")
    reused = plant.repo.get(request_id).request_metadata.get("scenes_reused", 0)

    ledger.record(
        f"8. resource faults: ffmpeg killed in the {where}",
        runs=2,
        faults=killer.kills(),
        violations=len(violations),
        seconds=time.monotonic() - started,
        outcomes=[o.status if o else None for o in (first, second)],
        whole_segments_after_kill=whole_after_kill,
        segments_reused_by_retry=reused,
    )
    assert violations == []


@contextlib.contextmanager
# Room for one piece's work with space again: its stills are uncompressed (PPM, 1.2 MB each at
# 480p), its segment and narration a few hundred kB.
def small_tmpfs(folder: Path, size: str = "16m") -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield folder
    finally:
        for args in (["umount", str(folder)], ["umount", "-l", str(folder)]):
            if subprocess.run(args, capture_output=True, check=False).returncode == 0:
                break


def fill(folder: Path) -> int:
    """Fill the filesystem of ``folder`` up to its last byte; returns how many bytes it took."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    written = 0
    try:
        for block in (65536, 512, 1):
            with contextlib.suppress(OSError):
                while True:
                    written += os.write(fd, b"\0" * block)
    finally:
        os.close(fd)
    return written


@pytest.mark.parametrize(
    ("full", "narrated_ahead", "what", "reason"),
    [
        ("encoder_work", False, "slides", "generating_video: scene 0: No space left on device"),
        ("cache_scratch", True, "segment", "generating_video: ffmpeg exited with status"),
        ("cache_scratch", False, "narration", "generating_video: scene 0: No space left on"),
    ],
)
def test_a_full_scratch_disk_fails_the_scene_clearly_and_keeps_no_partial_entry(
    full: str,
    narrated_ahead: bool,
    what: str,
    reason: str,
    plant: Plant,
    ledger: Ledger,
) -> None:
    started = time.monotonic()
    violations: list[str] = []
    folder = getattr(plant, full)
    with small_tmpfs(folder):
        if narrated_ahead:
            plant.narrate_ahead()  # only the encoder's output then meets the full disk
        fill(folder)
        dispatcher = plant.dispatcher(max_attempts=2)
        request_id = plant.new_request(1)
        first = _run(dispatcher)
        retried_for = _retry_reason(plant, request_id)
        second = _run(dispatcher, wait_s=0.3)
        record = plant.repo.get(request_id)
        if first is None or first.status != "retry":
            violations.append(f"the first run on a full disk ended as {first}")
        if not (retried_for.startswith(reason) and "No space left on device" in retried_for):
            violations.append(f"retry reason {retried_for!r}")
        error = record.error
        if (
            second is None
            or second.status != "failed"
            or error is None
            or error.code != "retries_exhausted"
            or error.stage != "generating_video"
            or "No space left on device" not in error.message
        ):
            violations.append(f"the request ended {record.status.value} with {error}")
        problems, whole_on_full_disk = cache_problems(plant)
        violations += problems
        if whole_on_full_disk:
            violations.append(f"{whole_on_full_disk} segments were cached with the disk full")
        (folder / "filler").unlink()

        # Space again: a new request for the same scenes renders them whole.
        retry_id = plant.new_request(2)
        third = _run(dispatcher)
        if third is None or third.status != "completed":
            violations.append(f"the run with space again ended as {third}")
        violations += delivered_problems(plant, retry_id)
        problems, whole = cache_problems(plant)
        violations += problems
        if whole != 4:
            violations.append(f"{whole} whole segments cached, not one per scene")
    shutil.rmtree(folder, ignore_errors=True)

    ledger.record(
        f"8. resource faults: full scratch disk while writing the {what}",
        runs=3,
        faults=2,
        violations=len(violations),
        seconds=time.monotonic() - started,
        outcomes=[o.status if o else None for o in (first, second, third)],
        error=(error.message[:80] if error else ""),
    )
    assert violations == []
