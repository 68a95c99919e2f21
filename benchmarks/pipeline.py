"""Pipeline benchmark: vividly-ray against the old sequential MoviePy way, in one run.

On one machine, with the same script and the same Piper voice, it runs:
1. the baseline: one process narrates every scene, then MoviePy composes the whole timeline
   (the same titles and bullets as text clips, revealed when their sentence starts) and writes
   it with one ``write_videofile`` (``benchmarks/moviepy_baseline.py`` in ``.venv-bench``);
2. the same request stage by stage in one process (the project's adapters, ``make bench``);
3. vividly-ray cold: Ray and the pools up, empty cache, through intake -> Dispatcher -> pools;
4. the same request again (warm cache), and the Tracker's event throughput;
5. four concurrent 1-minute requests through the HTTP API;
6. a request with trivial providers (the silent narrator): orchestration alone;
7. `vividly generate` for 2 minutes in a new process, from a cold start (Ray's start-up and
   shutdown included), as a user runs it.

Prints the figures and whether each target is met, writes them as JSON, and draws a timeline
(PNG: a row per worker, a bar per narrate, draw+encode and assemble task).

    python -m benchmarks.pipeline [--minutes 3] [--resolution 720p] [--json results.json]
        [--png timeline.png] [--skip-baseline] [--skip-generate] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks._common import add_request_arguments

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
STARTING_ENVIRONMENT = dict(os.environ)

ROOT = Path(__file__).resolve().parent.parent
BENCH_VENV = ROOT / ".venv-bench"
BASELINE_SCRIPT = ROOT / "benchmarks" / "moviepy_baseline.py"
# vividly-ray writes one frame per distinct slide state (variable frame rate); MoviePy renders
# every frame of a constant rate, and 24 fps is the lowest common one for video.
BASELINE_FPS = 24
CONCURRENT_QUESTIONS = (
    "Explain photosynthesis",
    "How do volcanoes erupt?",
    "Explain the rock cycle",
    "What causes the seasons?",
)
TRACKER_EVENTS = 2000
TRACKER_PIPELINES = 32

# name -> (figure, comparison, threshold); the figure is read from the report's "figures".
TARGETS: dict[str, tuple[str, str, float]] = {
    "speedup_over_baseline": ("baseline_over_vividly", ">=", 15.0),
    "realtime_factor_cold": ("realtime_factor_cold", ">=", 20.0),
    "pools_vs_one_process": ("pools_vs_one_process", ">=", 1.0),
    "parallel_efficiency": ("parallel_efficiency", ">=", 0.85),
    "warm_over_cold": ("warm_over_cold", "<=", 0.05),
    "overhead_per_request_s": ("overhead_per_request_s", "<=", 0.3),
    "tracker_events_per_s": ("tracker_events_per_s", ">=", 2000.0),
    "concurrent_wall_over_cpu_bound": ("concurrent_wall_over_cpu_bound", "<=", 1.15),
    "peak_memory_gb": ("peak_memory_gb", "<=", 3.0),
    "first_playable_scene_s": ("first_playable_scene_s", "<=", 2.0),
    "generate_cold_s": ("generate_cold_s", "<=", 10.0),
}
# `vividly generate` from a cold start is measured for this length of video.
GENERATE_MINUTES = 2


# -- figures (pure) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """One bar of the timeline: a task, the worker that ran it, wall-clock start and end."""

    task: str  # narrate | encode | assemble
    scene: int | None
    worker: str
    start: float
    end: float


def manifest_tasks(manifest: Mapping[str, Any]) -> list[Task]:
    """The scene tasks the pools stamped, and the assembly (the processing_video stage, run by
    the Dispatcher that holds the pipeline)."""
    tasks = [
        Task(row["task"], row["scene"], row["worker"], float(row["start"]), float(row["end"]))
        for row in manifest.get("tasks", [])
    ]
    for row in manifest.get("status_timeline", []):
        if row["status"] == "processing_video" and row["seconds"] is not None:
            start = datetime.fromisoformat(row["entered_at"]).timestamp()
            tasks.append(Task("assemble", None, "Dispatcher", start, start + row["seconds"]))
    return tasks


def cpu_by_stage(manifest: Mapping[str, Any]) -> dict[str, float]:
    cpu: dict[str, float] = manifest.get("cost", {}).get("cpu_seconds_by_stage", {})
    return {stage: float(seconds) for stage, seconds in cpu.items()}


def first_scene_s(tasks: Sequence[Task], submitted: float) -> float | None:
    """From submission until the first scene was narrated and encoded (every part of it)."""
    ends = [t.end for t in tasks if t.task == "encode" and t.scene == 0]
    return round(max(ends) - submitted, 3) if ends else None


def first_stream_scene_s(events: Sequence[Any], count: str = "stream_scenes") -> float | None:
    """From the generating_video transition until the stream's first scene was published whole
    (``count="stream_parts"``: its first piece, the moment a player can start).

    ``events`` are the request's recorded events (``event_type``, ``status``, ``details``,
    ``created_at``); the stream records ``stream_parts`` and ``stream_scenes`` (scenes whose
    every piece is published) with each piece it publishes.
    """
    started = next(
        (
            e.created_at
            for e in events
            if e.event_type == "status"
            and str(getattr(e.status, "value", e.status)) == "generating_video"
        ),
        None,
    )
    published = next(
        (e.created_at for e in events if int((e.details or {}).get(count, 0)) >= 1),
        None,
    )
    if started is None or published is None:
        return None
    return round(float((published - started).total_seconds()), 3)


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 3)


def compute_figures(runs: Mapping[str, Any], cores: int) -> dict[str, Any]:
    """The headline figures from the runs' raw measurements (any run may be missing)."""
    cold = runs.get("vividly_cold")
    warm = runs.get("vividly_warm")
    baseline = runs.get("baseline")
    one_process = runs.get("one_process")
    concurrent = runs.get("concurrent")
    trivial = runs.get("trivial")
    figures: dict[str, Any] = {"cores": cores}
    if cold:
        cpu = sum(cold["cpu_s"].values())
        figures["realtime_factor_cold"] = ratio(cold["video_s"], cold["wall_s"])
        figures["parallel_efficiency"] = ratio(cpu, cold["wall_s"] * cores)
        figures["first_playable_scene_s"] = cold.get("first_stream_scene_s")
        figures["first_playable_part_s"] = cold.get("first_stream_part_s")
        figures["first_scene_encoded_s"] = cold.get("first_scene_s")
        figures["cpu_s_by_stage_cold"] = cold["cpu_s"]
    if baseline and cold:
        figures["baseline_over_vividly"] = ratio(baseline["wall_s"], cold["wall_s"])
    if one_process and cold:
        figures["pools_vs_one_process"] = ratio(one_process["wall_s"], cold["wall_s"])
    if warm and cold:
        figures["warm_over_cold"] = ratio(warm["wall_s"], cold["wall_s"])
    if trivial:
        figures["overhead_per_request_s"] = trivial["overhead_s"]
        figures["trivial_request_wall_s"] = trivial["wall_s"]
    if concurrent:
        bound = concurrent["cpu_s"] / cores
        figures["concurrent_wall_s"] = concurrent["wall_s"]
        figures["concurrent_wall_over_cpu_bound"] = ratio(concurrent["wall_s"], bound)
        one_minute_cpu = concurrent["cpu_s"] / max(1, concurrent["requests"])
        # A core-hour is 3600 CPU seconds: how many 1-minute videos it pays for.
        figures["videos_per_core_hour"] = ratio(3600.0, one_minute_cpu)
    generate = runs.get("generate_cold")
    if generate:
        figures["generate_cold_s"] = generate["wall_s"]
        figures["generate_request_s"] = generate.get("request_s")
    for name in ("tracker_events_per_s", "ray_startup_s", "peak_memory_gb", "peak_memory_rss_gb"):
        if name in runs:
            figures[name] = runs[name]
    return figures


def check_targets(figures: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    verdicts: dict[str, dict[str, Any]] = {}
    for name, (figure, comparison, threshold) in TARGETS.items():
        value = figures.get(figure)
        met = None
        if value is not None:
            met = value >= threshold if comparison == ">=" else value <= threshold
        verdicts[name] = {"value": value, "target": f"{comparison} {threshold}", "met": met}
    return verdicts


# -- the timeline picture --------------------------------------------------------------------

TASK_COLOURS = {
    "narrate": (66, 135, 245),
    "encode": (245, 166, 35),
    "assemble": (76, 175, 80),
}


def draw_timeline(tasks: Sequence[Task], path: Path, title: str = "") -> Path:
    """A row per worker, a bar per task, time along the bottom from the first task's start."""
    from PIL import Image, ImageDraw, ImageFont

    workers = sorted({t.worker for t in tasks}, key=lambda w: (w == "Dispatcher", w))
    origin = min((t.start for t in tasks), default=0.0)
    span = max((t.end for t in tasks), default=1.0) - origin or 1.0
    label_w, row_h, top, width = 260, 34, 48, 1400
    height = top + row_h * max(1, len(workers)) + 60
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=14)
    plot_w = width - label_w - 20

    def x_of(moment: float) -> float:
        return label_w + (moment - origin) / span * plot_w

    draw.text((10, 12), title, fill=(0, 0, 0), font=font)
    for row, worker in enumerate(workers):
        y = top + row * row_h
        draw.text((10, y + 9), worker[:34], fill=(0, 0, 0), font=font)
        draw.line([(label_w, y + row_h - 1), (width - 20, y + row_h - 1)], fill=(225, 225, 225))
        for task in (t for t in tasks if t.worker == worker):
            x0, x1 = x_of(task.start), max(x_of(task.end), x_of(task.start) + 1)
            colour = TASK_COLOURS.get(task.task, (150, 150, 150))
            draw.rectangle([(x0, y + 5), (x1, y + row_h - 6)], fill=colour, outline=(40, 40, 40))
            if task.scene is not None and x1 - x0 > 18:
                draw.text((x0 + 3, y + 9), str(task.scene), fill=(0, 0, 0), font=font)
    axis_y = top + row_h * max(1, len(workers)) + 8
    steps = 10
    for i in range(steps + 1):
        x = label_w + i * plot_w / steps
        draw.line([(x, axis_y - 4), (x, axis_y + 2)], fill=(0, 0, 0))
        draw.text((x - 12, axis_y + 6), f"{span * i / steps:.1f}s", fill=(0, 0, 0), font=font)
    legend_x = width - 20 - 140 * len(TASK_COLOURS)
    for i, (name, colour) in enumerate(TASK_COLOURS.items()):
        x = legend_x + i * 140
        draw.rectangle([(x, 14), (x + 16, 28)], fill=colour, outline=(40, 40, 40))
        draw.text(
            (x + 22, 13), "draw+encode" if name == "encode" else name, fill=(0, 0, 0), font=font
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


# -- the baseline's spec ---------------------------------------------------------------------


def baseline_spec(
    scenes: Sequence[Mapping[str, Any]],
    width: int,
    height: int,
    fps: int = BASELINE_FPS,
    theme: str = "default",
) -> dict[str, Any]:
    """What moviepy_baseline.py composes: each scene's title, bullets, the second at which each
    bullet appears, its duration and narration WAV, in the project's colours and Lato font."""
    from vividly_ray.media.theme import font_file, theme_by_name

    colours = theme_by_name(theme)
    return {
        "width": width,
        "height": height,
        "fps": fps,
        "background": list(colours.background),
        "title_colour": list(colours.title),
        "text_colour": list(colours.text),
        "font_regular": str(font_file(bold=False)),
        "font_bold": str(font_file(bold=True)),
        "scenes": [
            {
                "title": scene["title"],
                "bullets": list(scene["bullets"]),
                "reveal_at": [round(float(t), 3) for t in scene["reveal_at"]],
                "duration": round(float(scene["duration"]), 3),
                "wav": str(scene["wav"]),
            }
            for scene in scenes
        ],
    }


# -- measuring ---------------------------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


@dataclass(frozen=True)
class StackMemory:
    """Memory of a process tree: PSS (each shared page divided among the processes that map
    it, so a page shared by the raylet and every worker counts once) and RSS (every mapped
    page counted in each process that maps it)."""

    pss: int
    rss: int


def _rss(pid: int, page: int) -> int | None:
    """Resident bytes from ``statm`` (cheap); None: the process is gone."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * page
    except (OSError, IndexError, ValueError):
        return None


def _pss(pid: int) -> int | None:
    """Proportional bytes from ``smaps_rollup`` (the kernel walks every mapping: about 3 ms
    for a Ray worker); None where it cannot be read (another user's process, an old kernel)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return None


def _process_memory(pid: int, page: int) -> tuple[int, int] | None:
    """(PSS, RSS) in bytes; RSS stands in for PSS where it cannot be read. None: the process
    is gone."""
    rss = _rss(pid, page)
    if rss is None:
        return None
    pss = _pss(pid)
    return (rss if pss is None else pss), rss


@dataclass
class PssReadings:
    """Each process's last ``smaps_rollup`` reading and its RSS then, so a sampler re-reads a
    process only when its resident memory moved by more than ``moved`` bytes (or a fiftieth);
    in between its PSS is taken as that reading plus the RSS change since (a process's own
    pages count fully in both). Reading every process's smaps_rollup once a second took
    about 50 ms of CPU per sample from the run being measured; most of the stack's processes
    (Ray's own, idle replicas) hold still."""

    moved: int = 8 * 2**20
    last: dict[int, tuple[int, int]] = field(default_factory=dict)  # pid -> (pss, rss)

    def memory(self, pid: int, page: int) -> tuple[int, int] | None:
        rss = _rss(pid, page)
        if rss is None:
            self.last.pop(pid, None)
            return None
        known = self.last.get(pid)
        if known is not None and abs(rss - known[1]) <= max(self.moved, rss // 50):
            return max(0, known[0] + rss - known[1]), rss
        pss = _pss(pid)
        if pss is None:
            return rss, rss
        self.last[pid] = (pss, rss)
        return pss, rss


def stack_memory(root: int | None = None, readings: PssReadings | None = None) -> StackMemory:
    """Memory of this process (or ``root``) and every process under it (Ray's GCS, raylet,
    replicas and workers when Ray was started here); ``readings``, when given, re-reads only
    the processes whose memory moved since its last sample."""
    tree = _children()
    page = os.sysconf("SC_PAGE_SIZE")
    pss = rss = 0
    todo = [root or os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        found = readings.memory(pid, page) if readings else _process_memory(pid, page)
        if found is not None:
            pss += found[0]
            rss += found[1]
    return StackMemory(pss, rss)


def stack_rss_bytes(root: int | None = None) -> int:
    """Resident memory of the tree, shared pages counted in every process that maps them."""
    return stack_memory(root).rss


class MemorySampler:
    """Samples the stack's memory on a thread; ``peak`` is the largest PSS sum seen and
    ``peak_rss`` the largest RSS sum."""

    # Once a second, re-reading only the processes whose memory moved (``PssReadings``), so
    # the sampler takes little from the run it measures.
    def __init__(self, every_s: float = 1.0) -> None:
        self.peak = 0
        self.peak_rss = 0
        self._every = every_s
        self._readings = PssReadings()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            now = stack_memory(readings=self._readings)
            self.peak = max(self.peak, now.pss)
            self.peak_rss = max(self.peak_rss, now.rss)
            self._stop.wait(self._every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def _process_name(pid: int) -> str:
    """What a process is: ``replica Narrator`` for a Serve replica, Ray's title for its own
    processes (``ray::ServeController``), else its program's file name (``raylet``)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    first = argv[0].decode(errors="replace") if argv and argv[0] else "?"
    if first.startswith("ray::"):
        title = first.split()[0]
        if "ServeReplica:" in title:
            # ray::SERVE_REPLICA::app#Narrator#id:ServeReplica:app:Narrator.method
            return "replica " + title.rsplit(":", 1)[-1].split(".")[0]
        return title.split(".")[0]
    name = Path(first.split()[0]).name
    if name.startswith("python") and len(argv) > 1:
        # A Python program: the module or script it runs (the driver, Ray's helpers).
        args = [a.decode(errors="replace") for a in argv[1:] if a]
        if args[0] in ("-m", "-c"):
            return f"python {args[0]} {args[1].split()[0] if args[0] == '-m' else ''}".strip()
        return f"python {Path(args[0]).name}"
    return name


def stack_cpu(root: int | None = None) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of this process (or ``root``) and every process under it, each with
    its name; a process's figure includes the children it has waited for (its ffmpeg runs)."""
    tree = _children()
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    todo = [root or os.getpid()]
    while todo:
        pid = todo.pop()
        todo.extend(tree.get(pid, []))
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime, cutime, cstime are fields 14-17 of stat (11-14 after the name).
        cpu = sum(int(v) for v in fields[11:15]) / ticks
        found[pid] = (_process_name(pid), cpu)
    return found


def cpu_by_process(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], top: int = 12
) -> dict[str, float]:
    """CPU seconds spent between two ``stack_cpu`` snapshots, summed by process name, largest
    first (processes that started in between count from zero; ones that ended are missing)."""
    spent: dict[str, float] = {}
    for pid, (name, cpu) in after.items():
        delta = cpu - before.get(pid, (name, 0.0))[1]
        if delta > 0:
            spent[name] = spent.get(name, 0.0) + delta
    ranked = sorted(spent.items(), key=lambda item: -item[1])
    return {name: round(cpu, 2) for name, cpu in ranked[:top]}


@contextmanager
def cpu_of_children() -> Iterator[dict[str, float]]:
    """CPU seconds of the child processes waited for inside the block."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    found: dict[str, float] = {}
    yield found
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    found["cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


# -- the runs ----------------------------------------------------------------------------------


def ensure_bench_venv(venv: Path = BENCH_VENV) -> Path:
    """``.venv-bench`` with the ``baseline`` dependency group only (not the project), made when
    missing. The group's pins are read from pyproject.toml and handed to pip as they are, so
    any pip installs them (``pip install --group`` needs pip 25.1)."""
    python = venv / "bin" / "python"
    stamp = venv / ".baseline-installed"
    pins = baseline_pins()
    if stamp.exists() and stamp.read_text() == "\n".join(pins):
        return python
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", *pins],
        check=True,
    )  # fmt: skip
    stamp.write_text("\n".join(pins))
    return python


def baseline_pins(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    groups = tomllib.loads(pyproject.read_text("utf-8")).get("dependency-groups", {})
    pins: list[str] = groups.get("baseline", [])
    if not pins:
        raise SystemExit("pyproject.toml has no [dependency-groups] baseline")
    return pins


def run_baseline(settings: Any, request: Any, work: Path, cores: int) -> dict[str, Any]:
    """Write the script, narrate every scene one after another, then MoviePy."""
    from vividly_ray.bootstrap import (
        build_blobs,
        build_library,
        build_narrator,
        build_offline_writer,
        build_validator,
        warm_up,
    )
    from vividly_ray.domain.models import render_spec
    from vividly_ray.media.reveal import reveal_times
    from vividly_ray.pipeline.grounding import retrieval_limit

    python = ensure_bench_venv()
    narrator = build_narrator(settings, threads=cores)
    warm_up(narrator)
    library = build_library(settings)
    started = time.perf_counter()
    cpu_started = time.process_time()
    assessment = build_validator(library).assess(request.effective_question, request.grade)
    retrieval = library.retrieve(
        request.effective_question,
        request.grade,
        retrieval_limit(request),
        topic=assessment.grounding_topic,
    )
    script = build_offline_writer(library).write(request, retrieval, assessment.topic)
    scripted = time.perf_counter()
    blobs = build_blobs(settings)
    scenes = []
    for scene in script.scenes:
        audio = narrator.narrate(scene, script.grade)
        wav = blobs.get_file(audio.wav_key, work / f"scene-{scene.index:02d}.wav")
        scenes.append(
            {
                "title": scene.title,
                "bullets": scene.bullets,
                "reveal_at": reveal_times(scene, audio),
                "duration": audio.duration,
                "wav": wav,
            }
        )
    narrated = time.perf_counter()
    parent_cpu = time.process_time() - cpu_started
    spec = render_spec(request)
    spec_path = work / "baseline-spec.json"
    spec_path.write_text(json.dumps(baseline_spec(scenes, spec.width, spec.height), indent=2))
    with cpu_of_children() as child, MemorySampler() as memory:
        answer = subprocess.run(
            [str(python), str(BASELINE_SCRIPT), str(spec_path), str(work / "baseline.mp4")],
            check=True,
            capture_output=True,
            text=True,
        )
    ended = time.perf_counter()
    moviepy = json.loads(answer.stdout.strip().splitlines()[-1])
    return {
        "wall_s": round(ended - started, 3),
        "script_s": round(scripted - started, 3),
        "narrate_s": round(narrated - scripted, 3),
        "moviepy_s": round(ended - narrated, 3),
        **moviepy,
        "fps": BASELINE_FPS,
        "cpu_s": {
            "script+narrate": round(parent_cpu, 3),
            "moviepy": round(child["cpu_s"], 3),
        },
        "moviepy_peak_memory_gb": round(memory.peak / 1e9, 3),
        "moviepy_peak_rss_gb": round(memory.peak_rss / 1e9, 3),
    }


def _manifest(stores: Any, record: Any) -> dict[str, Any]:
    key = record.request_metadata["files"]["manifest.json"]
    manifest: dict[str, Any] = json.loads(stores.blobs.get_bytes(key))
    return manifest


def run_one(stores: Any, intake: Any, request: Any) -> tuple[dict[str, Any], list[Task]]:
    """One request through intake -> Dispatcher -> pools, as the service runs it."""
    from benchmarks._common import outside_stages, wait_terminal

    cpu_before = stack_cpu()
    submitted = time.time()
    started = time.perf_counter()
    record, _ = intake.record(request)
    # A slow poll, so this process takes little CPU from the run; the wall time comes from the
    # record itself (created, then its completed transition, the last write), so the poll's
    # interval does not add to it.
    current = wait_terminal(stores.requests, record.request_id, poll_s=0.25)
    observed = time.perf_counter() - started
    wall = (current.updated_at - current.created_at).total_seconds()
    processes = cpu_by_process(cpu_before, stack_cpu())
    if current.status.value != "completed":
        raise SystemExit(f"the request ended {current.status.value}: {current.error_message}")
    manifest = _manifest(stores, current)
    tasks = manifest_tasks(manifest)
    stages = manifest["stage_seconds"]
    events = stores.requests.events(record.request_id)
    return (
        {
            "wall_s": round(wall, 3),
            # As the poll saw it: at most one poll interval later than ``wall_s``.
            "wall_s_observed": round(observed, 3),
            "video_s": manifest["durations"]["video_seconds"],
            "stage_s": stages,
            # What processing_video waited for (the narration track, the stream's last parts).
            "processing_waits_s": manifest.get("processing_waits_s", {}),
            "cpu_s": cpu_by_stage(manifest),
            "overhead_s": round(outside_stages(wall, stages), 3),
            "first_scene_s": first_scene_s(tasks, submitted),
            "first_stream_scene_s": first_stream_scene_s(events),
            "first_stream_part_s": first_stream_scene_s(events, "stream_parts"),
            "scenes": manifest["scene_count"],
            "pieces": len(manifest.get("tasks", [])) // 2,
            # Every process of the stack (Ray's own, the replicas, this driver), so the CPU
            # that no stage measures shows up too.
            "cpu_s_by_process": processes,
        },
        tasks,
    )


def tracker_throughput(
    stores: Any, intake: Any, count: int = TRACKER_EVENTS, pipelines: int = TRACKER_PIPELINES
) -> float:
    """Events per second recorded through the production tracker client (the Dispatcher's
    ``TrackerClient`` over the Tracker deployment, behind the pipeline's ``FencedTracker``),
    with ``pipelines`` threads reporting scene events at once, for a request waiting on a
    clarification. The clock stops once every event is persisted (the client flushed)."""
    from ray import serve

    from actors.tracker import TrackerClient
    from vividly_ray.service.dispatch import FencedTracker
    from vividly_ray.validation.limits import parse_request

    record, _ = intake.record(parse_request("Tell me about science", "5", "1"))
    deadline = time.monotonic() + 60
    while stores.requests.get(record.request_id).status.value != "clarification_needed":
        if time.monotonic() > deadline:
            raise SystemExit("the tracker's request never asked for a clarification")
        time.sleep(0.05)
    client = TrackerClient(serve.get_deployment_handle("Tracker", app_name="vividly"))
    tracker = FencedTracker(client, None)
    before = len(stores.requests.events(record.request_id, 0, limit=100_000))

    def pipeline(number: int) -> None:
        for i in range(number, count, pipelines):
            tracker.progress(record.request_id, 0, "benchmark", details={"n": i})

    threads = [threading.Thread(target=pipeline, args=(n,)) for n in range(pipelines)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    wall = time.perf_counter() - started
    written = len(stores.requests.events(record.request_id, 0, limit=100_000)) - before
    if written != count:
        raise SystemExit(f"the tracker wrote {written} of {count} events")
    return round(count / wall, 1)


def run_concurrent(url: str, stores: Any, minutes: int, resolution: str) -> dict[str, Any]:
    """Four different 1-minute requests submitted at once through the HTTP API."""
    import httpx

    from benchmarks._common import wait_terminal

    client = httpx.Client(base_url=url, timeout=60)
    started = time.perf_counter()
    ids = []
    for question in CONCURRENT_QUESTIONS:
        body = {
            "student_query": question,
            "grade_level": "5",
            "duration_minutes": minutes,
            "resolution": resolution,
        }
        answer = client.post("/v1/videos", json=body)
        if answer.status_code != 202:
            raise SystemExit(f"submit answered {answer.status_code}: {answer.text}")
        ids.append(answer.json()["id"])
    records = [wait_terminal(stores.requests, request_id, poll_s=0.25) for request_id in ids]
    observed = time.perf_counter() - started
    # From the first record's creation to the last completed transition (the records' own
    # timestamps), so the slow poll adds nothing.
    wall = (max(r.updated_at for r in records) - min(r.created_at for r in records)).total_seconds()
    failed = [r.status.value for r in records if r.status.value != "completed"]
    if failed:
        raise SystemExit(f"concurrent requests ended {failed}")
    manifests = [_manifest(stores, r) for r in records]
    return {
        "requests": len(ids),
        "wall_s": round(wall, 3),
        "wall_s_observed": round(observed, 3),
        "cpu_s": round(sum(sum(cpu_by_stage(m).values()) for m in manifests), 3),
        "video_s": round(sum(m["durations"]["video_seconds"] for m in manifests), 3),
    }


def run_service(
    home: Path, request: Any, *, http: bool, narrator: str = "piper"
) -> tuple[dict[str, Any], Any, Any, Any]:
    """Ray and the Serve app started (with the HTTP proxy when ``http``), and an intake on the
    same database and blobs."""
    from actors.follow import local_intake
    from actors.service_runtime import ServiceRuntime
    from tests.e2e.serve_process import free_port
    from vividly_ray.settings import load_settings

    settings = load_settings(home=home, narrator=narrator, auth_disabled=True)
    port = free_port() if http else None
    runtime = ServiceRuntime(settings, http=("127.0.0.1", port) if port else None)
    runtime.start()
    stores, intake = local_intake(settings)
    return {"startup_s": round(runtime.startup_s, 3), "port": port}, runtime, stores, intake


# The runs made in a process of their own, so the voice and library they load are not in the
# stack's memory (nor their memory in its peak).
SEPARATE_RUNS = ("baseline", "one_process")


def _separate_run(kind: str, home: Path | None, request: Any, cores: int) -> dict[str, Any]:
    from benchmarks.render_benchmark import run_sequential
    from vividly_ray.settings import load_settings

    if home is None:
        raise SystemExit("--only needs --home")
    settings = load_settings(home=home)
    if kind == "one_process":
        return run_sequential(settings, request)
    work = home / "work"
    work.mkdir(parents=True, exist_ok=True)
    return run_baseline(settings, request, work, cores)


def in_subprocess(kind: str, home: Path, args: argparse.Namespace, minutes: int) -> dict[str, Any]:
    """Run ``kind`` (one of ``SEPARATE_RUNS``) in a fresh Python process; its figures."""
    command = [
        sys.executable, "-m", "benchmarks.pipeline", "--only", kind, "--home", str(home),
        "--question", args.question, "--grade", args.grade, "--minutes", str(minutes),
        "--resolution", args.resolution,
    ]  # fmt: skip
    answer = subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.PIPE, text=True)
    figures: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return figures


COMPLETED_LINE = re.compile(
    r"completed: (?P<video>[\d.]+) s of video, .* rendered in (?P<request>[\d.]+) s "
    r"after (?P<startup>[\d.]+) s of start-up"
)


def generate_figures(wall_s: float, stdout: str) -> dict[str, Any]:
    """The figures of one `vividly generate`: its wall time and what its summary line says
    (the request's own time and the start-up before it); the rest is Python, imports and
    Ray's shutdown."""
    found = COMPLETED_LINE.search(" ".join(stdout.split()))
    if found is None:
        raise RuntimeError(f"vividly generate printed no summary line: {stdout[-500:]!r}")
    return {
        "wall_s": round(wall_s, 3),
        "video_s": float(found["video"]),
        "request_s": float(found["request"]),
        "startup_s": float(found["startup"]),
    }


def run_generate_cold(home: Path, args: argparse.Namespace, minutes: int) -> dict[str, Any]:
    """`vividly generate` as a user runs it, from a cold start: a new process that starts Ray
    and the app, records the request, waits for the files and stops Ray again."""
    installed = Path(sys.executable).with_name("vividly")
    command = (
        [str(installed)] if installed.exists() else [sys.executable, "-m", "actors.cli"]
    ) + [
        "generate", args.question, "--grade", args.grade, "--minutes", str(minutes),
        "--resolution", args.resolution, "--out", str(home / "out"),
    ]  # fmt: skip
    # The environment this benchmark started with: a stack started here exported its own
    # settings (the trivial run's silent narrator among them) into this process's environment.
    environment = {**STARTING_ENVIRONMENT, "VIVIDLY_HOME": str(home), "COLUMNS": "200"}
    started = time.perf_counter()
    answer = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if answer.returncode != 0:
        raise RuntimeError(f"vividly generate exited {answer.returncode}: {answer.stderr[-800:]}")
    figures = generate_figures(wall, answer.stdout)
    manifest = json.loads((home / "out" / "manifest.json").read_text("utf-8"))
    figures["voices"] = sorted({s["voiced_by"] for s in manifest["providers"]["scenes"]})
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_request_arguments(parser)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--png", type=Path, help="the timeline (default: beside --json)")
    parser.add_argument("--skip-baseline", action="store_true", help="no MoviePy run")
    parser.add_argument("--quick", action="store_true", help="a 1-minute main request")
    parser.add_argument(
        "--skip-generate", action="store_true", help="no cold `vividly generate` run"
    )
    parser.add_argument("--only", choices=SEPARATE_RUNS, help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    from vividly_ray.validation.limits import parse_request

    minutes = 1 if args.quick else args.minutes
    cores = os.cpu_count() or 1
    request = parse_request(args.question, args.grade, str(minutes), resolution=args.resolution)
    if args.only:
        # One run in a process of its own; its figures are the last line printed.
        print(json.dumps(_separate_run(args.only, args.home, request, cores)))
        return 0
    png = args.png or (args.json.with_suffix(".png") if args.json else Path("timeline.png"))
    runs: dict[str, Any] = {}
    tasks: list[Task] = []
    root = Path(tempfile.mkdtemp(prefix="vividly-pipeline-bench-"))
    try:
        if not args.skip_baseline:
            runs["baseline"] = in_subprocess("baseline", root / "baseline", args, minutes)
            print(f"baseline: {runs['baseline']['wall_s']} s", file=sys.stderr)
        runs["one_process"] = in_subprocess("one_process", root / "one", args, minutes)
        print(f"one process: {runs['one_process']['wall_s']} s", file=sys.stderr)

        with MemorySampler() as memory:
            info, runtime, stores, intake = run_service(root / "ray", request, http=True)
            try:
                runs["ray_startup_s"] = info["startup_s"]
                runs["vividly_cold"], tasks = run_one(stores, intake, request)
                print(f"cold: {runs['vividly_cold']['wall_s']} s", file=sys.stderr)
                runs["vividly_warm"], _ = run_one(stores, intake, request)
                runs["tracker_events_per_s"] = tracker_throughput(stores, intake)
                runs["concurrent"] = run_concurrent(
                    f"http://127.0.0.1:{info['port']}", stores, 1, args.resolution
                )
                print(f"concurrent: {runs['concurrent']['wall_s']} s", file=sys.stderr)
            finally:
                runtime.close()
            info, runtime, stores, intake = run_service(
                root / "trivial", request, http=False, narrator="silent"
            )
            try:
                runs["ray_startup_again_s"] = info["startup_s"]
                trivial, _ = run_one(stores, intake, request)
                runs["trivial"] = trivial
            finally:
                runtime.close()
        runs["peak_memory_gb"] = round(memory.peak / 1e9, 3)
        runs["peak_memory_rss_gb"] = round(memory.peak_rss / 1e9, 3)
        if not args.skip_generate:
            # Last, with every stack of this run stopped: it starts and stops its own Ray.
            generate_minutes = 1 if args.quick else GENERATE_MINUTES
            runs["generate_cold"] = run_generate_cold(root / "generate", args, generate_minutes)
            print(f"vividly generate, cold: {runs['generate_cold']['wall_s']} s", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    figures = compute_figures(runs, cores)
    targets = check_targets(figures)
    draw_timeline(tasks, png, f"{args.question}: {minutes} min, {args.resolution}, cold cache")
    report = {
        "benchmark": "pipeline",
        "request": {
            "question": args.question,
            "grade": args.grade,
            "minutes": minutes,
            "resolution": args.resolution,
        },
        "machine": {
            "cpus": cores,
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "figures": figures,
        "targets": targets,
        "runs": runs,
        "timeline_png": str(png),
        "tasks": [t.__dict__ for t in tasks],
    }
    text = json.dumps(report, indent=2)
    print(text)
    for name, verdict in targets.items():
        mark = {True: "met", False: "NOT met", None: "not measured"}[verdict["met"]]
        print(
            f"{name:34} {verdict['value']!s:>10} (target {verdict['target']}): {mark}",
            file=sys.stderr,
        )
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
