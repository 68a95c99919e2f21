"""Scaling benchmark: the cold request on 1, 2, ... CPUs, and a model of the curve beyond.

Each run is a fresh process pinned to its first N cores (``sched_setaffinity``; Ray, its workers
and every ffmpeg and Piper process inherit the mask) that starts Ray with ``num_cpus=N`` and runs
the same cold request the pipeline benchmark runs, through intake -> Dispatcher -> pools.

The model: the request is a serial part (validating to generating_script, then processing_video
and notifying) and a set of piece chains (narrate, then encode; a piece is a scene or a part of
a scene the pools cut) whose CPU seconds each task measured on its worker (``manifest.json``'s
``tasks``). On N CPUs the chains are list-scheduled (scene 0 first, then longest first, an
encode before a new narration, as the pools run them), so the predicted wall time is serial +
makespan(N) + the measured overhead. The runs that fit on this machine check the model; the
rest of the curve (up to 16 CPUs) is predicted, once with the pieces as measured and once with
every piece cut finer, into parts of at most ``--segment-seconds`` of video (what a smaller
``VIVIDLY_PART_SECONDS`` does), each part costing its share of the piece's CPU plus the fixed
cost a piece has (fitted over the measured pieces: CPU = fixed + per second x video seconds).

    python -m benchmarks.scaling [--minutes 3] [--resolution 720p] [--cpus 1,2]
        [--predict 1,2,4,8,16] [--segment-seconds 4] [--json scaling.json]
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks._common import add_request_arguments

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

ROOT = Path(__file__).resolve().parent.parent
SERIAL_STAGES = ("validating", "retrieving", "generating_script", "processing_video", "notifying")


@dataclass(frozen=True)
class Chain:
    """One piece's work (a scene, or a part of a scene the pools cut): narrate, then encode
    (CPU seconds each), and its video length."""

    scene: int
    narrate_s: float
    encode_s: float
    video_s: float
    part: int = 0  # the scene's first sentence in the piece


def chains_from(manifest: Mapping[str, Any]) -> list[Chain]:
    cpu: dict[tuple[int, int, str], float] = {}
    for row in manifest.get("tasks", []):
        place = (int(row["scene"]), int(row.get("part", 0)))
        cpu[(*place, row["task"])] = float(row.get("cpu_s", 0.0))
    lengths = {int(s["index"]): float(s["seconds"]) for s in manifest["durations"]["scenes"]}
    pieces = sorted({(scene, part) for scene, part, _ in cpu} | {(s, 0) for s in lengths})
    count = {scene: sum(1 for s, _ in pieces if s == scene) for scene in lengths}
    return [
        Chain(
            scene,
            cpu.get((scene, part, "narrate"), 0.0),
            cpu.get((scene, part, "encode"), 0.0),
            # The manifest gives each scene's length; its pieces share it evenly here.
            lengths.get(scene, 0.0) / max(1, count.get(scene, 1)),
            part,
        )
        for scene, part in pieces
    ]


@dataclass(frozen=True)
class Costs:
    """CPU seconds of one piece's narration and encode: fixed + per_s x its video seconds."""

    narrate_fixed: float
    narrate_per_s: float
    encode_fixed: float
    encode_per_s: float


def fit_costs(chains: Sequence[Chain]) -> Costs:
    """Least-squares lines through the measured pieces (fixed costs never below 0)."""

    def line(points: list[tuple[float, float]]) -> tuple[float, float]:
        if not points:
            return 0.0, 0.0
        xs, ys = [x for x, _ in points], [y for _, y in points]
        mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
        spread = sum((x - mean_x) ** 2 for x in xs)
        if spread == 0:
            return 0.0, mean_y / mean_x if mean_x else 0.0
        slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / spread
        fixed = mean_y - slope * mean_x
        if fixed < 0:  # through the origin instead
            return 0.0, sum(x * y for x, y in points) / sum(x * x for x in xs)
        return fixed, slope

    narrate = line([(c.video_s, c.narrate_s) for c in chains])
    encode = line([(c.video_s, c.encode_s) for c in chains])
    return Costs(narrate[0], narrate[1], encode[0], encode[1])


def finer(chains: Sequence[Chain], segment_s: float) -> list[Chain]:
    """Every piece longer than ``segment_s`` of video cut into even parts of at most that."""
    costs = fit_costs(chains)
    out: list[Chain] = []
    for c in chains:
        parts = max(1, math.ceil(c.video_s / segment_s - 1e-9))
        if parts == 1:
            out.append(c)
            continue
        video = c.video_s / parts
        # The measured piece's CPU beyond its fixed costs is shared; each part pays the fixed.
        narrate = max(c.narrate_s - costs.narrate_fixed, 0.0) / parts + costs.narrate_fixed
        encode = max(c.encode_s - costs.encode_fixed, 0.0) / parts + costs.encode_fixed
        out.extend(Chain(c.scene, narrate, encode, video, c.part * 1000 + n) for n in range(parts))
    return out


def makespan(chains: Sequence[Chain], cpus: int, segment_s: float | None = None) -> float:
    """List-scheduled finish time of every chain on ``cpus`` identical CPUs.

    With ``segment_s``, every piece is first cut into parts of at most ``segment_s`` of video
    (``finer``), each narrated and encoded on its own.
    """
    if not chains:
        return 0.0
    if segment_s:
        chains = finer(chains, segment_s)
    order = [c for c in chains if c.scene == 0] + sorted(
        (c for c in chains if c.scene != 0), key=lambda c: -(c.narrate_s + c.encode_s)
    )
    narrations = [(c.narrate_s, c) for c in order]
    encodes: list[tuple[int, float]] = []  # (rank, cost): ready encode parts, first scene first
    rank = {(c.scene, c.part): i for i, c in enumerate(order)}
    free = [0.0] * cpus  # when each CPU is next free
    heapq.heapify(free)
    running: list[tuple[float, int, Chain | None]] = []  # (finish, tiebreak, narrated chain)
    now, finish, tiebreak = 0.0, 0.0, 0
    while narrations or encodes or running:
        # Hand free CPUs work: ready encodes first, then the next narration.
        while free and free[0] <= now and (encodes or narrations):
            heapq.heappop(free)
            if encodes:
                _, cost = heapq.heappop(encodes)
                done: Chain | None = None
            else:
                cost, done = narrations.pop(0)
            tiebreak += 1
            heapq.heappush(running, (now + cost, tiebreak, done))
        if not running:
            break
        now, _, narrated = heapq.heappop(running)
        heapq.heappush(free, now)
        finish = max(finish, now)
        if narrated is not None:
            heapq.heappush(encodes, (rank[(narrated.scene, narrated.part)], narrated.encode_s))
    return finish


def serial_seconds(manifest: Mapping[str, Any]) -> float:
    stages = manifest.get("stage_seconds", {})
    return sum(float(stages.get(stage) or 0.0) for stage in SERIAL_STAGES)


def predict(
    manifest: Mapping[str, Any], overhead_s: float, cpus: int, segment_s: float | None = None
) -> float:
    return serial_seconds(manifest) + overhead_s + makespan(chains_from(manifest), cpus, segment_s)


def model_curve(
    manifest: Mapping[str, Any],
    overhead_s: float,
    counts: Sequence[int],
    segment_s: float | None,
) -> dict[str, Any]:
    today = {str(n): round(predict(manifest, overhead_s, n), 3) for n in counts}
    split = {str(n): round(predict(manifest, overhead_s, n, segment_s), 3) for n in counts}
    chains = chains_from(manifest)
    costs = fit_costs(chains)
    work = sum(c.narrate_s + c.encode_s for c in chains)
    longest = max((c.narrate_s + c.encode_s for c in chains), default=0.0)
    return {
        "scene_work_cpu_s": round(work, 3),
        "narrate_cpu_s": round(sum(c.narrate_s for c in chains), 3),
        "encode_cpu_s": round(sum(c.encode_s for c in chains), 3),
        "longest_piece_chain_s": round(longest, 3),
        "serial_s": round(serial_seconds(manifest), 3),
        "overhead_s": round(overhead_s, 3),
        "pieces": len(chains),
        "fitted_costs": {k: round(v, 4) for k, v in costs.__dict__.items()},
        "wall_s_pieces_as_run": today,
        "wall_s_finer_parts": split,
        "segment_seconds": segment_s,
        "speedup_2_to_16_today": _speedup(today, "2", "16"),
        "speedup_2_to_16_finer": _speedup(split, "2", "16"),
    }


def _speedup(curve: Mapping[str, float], low: str, high: str) -> float | None:
    if low not in curve or high not in curve or not curve[high]:
        return None
    return round(curve[low] / curve[high], 2)


# -- the runs ----------------------------------------------------------------------------------


def child_settings(cpus: int, home: Path) -> dict[str, Any]:
    """The settings of the stack a run on ``cpus`` cores starts.

    The cores are limited by the affinity mask; Ray's logical CPUs only place replicas, and the
    app's fractional replicas need about 2 of them whatever the cores. The Narrator pool gets
    one replica per core (and the SegmentEncoder pool one per two narrators, as the app sizes
    it), so each run has the workers to use its cores; on 2 cores that is the default stack
    the pipeline benchmark measures. A ``VIVIDLY_NARRATOR_POOL_SIZE`` in the environment wins.
    """
    settings: dict[str, Any] = {
        "home": home,
        "auth_disabled": True,
        "ray_num_cpus": max(cpus, 2),
    }
    if "VIVIDLY_NARRATOR_POOL_SIZE" not in os.environ:
        settings["narrator_pool_size"] = cpus
    return settings


def child(cpus: int, minutes: int, resolution: str, question: str, grade: str) -> dict[str, Any]:
    """One cold request with Ray on the first ``cpus`` cores (run in a fresh process)."""
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[:cpus]))
    from actors.follow import local_intake
    from actors.service_runtime import ServiceRuntime
    from benchmarks._common import outside_stages, wait_terminal
    from vividly_ray.settings import load_settings
    from vividly_ray.validation.limits import parse_request

    home = Path(tempfile.mkdtemp(prefix=f"vividly-scaling-{cpus}-"))
    try:
        settings = load_settings(**child_settings(cpus, home))
        runtime = ServiceRuntime(settings)
        runtime.start()
        try:
            stores, intake = local_intake(settings)
            request = parse_request(question, grade, str(minutes), resolution=resolution)
            record, _ = intake.record(request)
            # Timed by the record's own timestamps, so a slow poll takes no CPU from the run
            # and adds nothing to its wall time.
            current = wait_terminal(stores.requests, record.request_id, poll_s=0.25)
            wall = (current.updated_at - current.created_at).total_seconds()
            if current.status.value != "completed":
                raise SystemExit(f"the request ended {current.status.value}")
            key = current.request_metadata["files"]["manifest.json"]
            manifest = json.loads(stores.blobs.get_bytes(key))
        finally:
            runtime.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    run = {
        "narrators": settings.narrator_pool_size,
        "wall_s": round(wall, 3),
        "video_s": manifest["durations"]["video_seconds"],
        "overhead_s": round(outside_stages(wall, manifest["stage_seconds"]), 3),
    }
    return {
        "cpus": cpus,
        "startup_s": round(runtime.startup_s, 3),
        "run": run,
        "manifest": manifest,
    }


def run_pinned(cpus: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.scaling",
        "--child",
        str(cpus),
        "--minutes",
        str(args.minutes),
        "--resolution",
        args.resolution,
        "--question",
        args.question,
        "--grade",
        args.grade,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the {cpus}-CPU run failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _counts(text: str) -> list[int]:
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of CPU counts: {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError(f"CPU counts must be 1 or more: {text!r}")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_request_arguments(parser)
    parser.add_argument("--cpus", type=_counts, default=[1, 2], help="CPU counts to run here")
    parser.add_argument("--predict", type=_counts, default=[1, 2, 4, 8, 16])
    parser.add_argument("--segment-seconds", type=float, default=4.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        print(
            json.dumps(child(args.child, args.minutes, args.resolution, args.question, args.grade))
        )
        return 0

    available = len(os.sched_getaffinity(0))
    runnable = [n for n in args.cpus if n <= available]
    skipped = [n for n in args.cpus if n > available]
    runs = []
    for cpus in runnable:
        runs.append(run_pinned(cpus, args))
        print(f"{cpus} CPU(s): {runs[-1]['run']['wall_s']} s", file=sys.stderr)
    if not runs:
        raise SystemExit(f"none of the CPU counts {args.cpus} fits this machine's {available}")
    # The model takes its per-task costs from the run on the most CPUs (least queueing).
    reference = runs[-1]
    overhead = float(reference["run"]["overhead_s"])
    curve = model_curve(reference["manifest"], overhead, args.predict, args.segment_seconds)
    checks = [
        {
            "cpus": run["cpus"],
            "measured_wall_s": run["run"]["wall_s"],
            "predicted_wall_s": round(predict(run["manifest"], overhead, run["cpus"]), 3),
            "predicted_from_reference_s": round(
                predict(reference["manifest"], overhead, run["cpus"]), 3
            ),
            "video_s": run["run"]["video_s"],
            "ray_startup_s": run["startup_s"],
            "narrators": run["run"].get("narrators"),
            "pieces": len(chains_from(run["manifest"])),
            "serial_s": round(serial_seconds(run["manifest"]), 3),
            "stage_seconds": run["manifest"].get("stage_seconds", {}),
            "processing_waits_s": run["manifest"].get("processing_waits_s", {}),
        }
        for run in runs
    ]
    for check in checks:
        measured, predicted = check["measured_wall_s"], check["predicted_from_reference_s"]
        check["model_error"] = round((predicted - measured) / measured, 3) if measured else None
    measured_speedup = None
    if len(runs) >= 2:
        low, high = runs[0], runs[-1]
        measured_speedup = round(low["run"]["wall_s"] / high["run"]["wall_s"], 2)
    report = {
        "benchmark": "scaling",
        "request": {
            "question": args.question,
            "minutes": args.minutes,
            "resolution": args.resolution,
        },
        "machine": {
            "cpus": available,
            "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "measured": checks,
        "not_run": {"cpus": skipped, "reason": f"this machine has {available} CPU(s)"}
        if skipped
        else None,
        "measured_speedup_first_to_last": measured_speedup,
        "model": curve,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
