"""Render benchmark: the Ray pools (pipelined per scene) against the stage-by-stage way.

Both runs render the same request from a cold cache, so every scene is really narrated and
encoded. Prints one JSON object; the baseline is measured in the same run on the same machine.

    python benchmarks/render_benchmark.py [--minutes 2] [--resolution 720p] [--question ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
# Run as a script (`make bench`), the repository root is not on the path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from actors.follow import local_intake  # noqa: E402
from actors.service_runtime import ServiceRuntime  # noqa: E402
from benchmarks._common import wait_terminal  # noqa: E402
from vividly_ray.bootstrap import (  # noqa: E402
    build_encoder,
    build_narrator,
    build_pipeline,
    warm_up,
)
from vividly_ray.domain.models import VideoRequest  # noqa: E402
from vividly_ray.pipeline.sequential import InProcessSceneExecutor  # noqa: E402
from vividly_ray.service.dispatch import FencedTracker  # noqa: E402
from vividly_ray.settings import Settings, load_settings  # noqa: E402
from vividly_ray.validation.limits import parse_request  # noqa: E402


def _figures(wall: float, meta: dict[str, Any]) -> dict[str, Any]:
    video_seconds = float(meta.get("video_seconds", 0.0))
    return {
        "wall_s": round(wall, 3),
        "video_s": round(video_seconds, 3),
        "realtime_factor": round(video_seconds / wall, 3),
        "stage_s": meta.get("stage_seconds", {}),
    }


def run_ray(settings: Settings, request: VideoRequest) -> dict[str, Any]:
    """Through the service's own path: intake -> Dispatcher deployment -> pools."""
    with ServiceRuntime(settings) as runtime:
        stores, intake = local_intake(settings)
        started = time.perf_counter()
        record, _ = intake.record(request)
        current = wait_terminal(stores.requests, record.request_id)
        wall = time.perf_counter() - started
    if current.status.value != "completed":
        raise SystemExit(f"the Ray run ended {current.status.value}: {current.error_message}")
    figures = _figures(wall, current.request_metadata)
    figures["service_startup_s"] = round(runtime.startup_s, 3)
    return figures


def run_sequential(settings: Settings, request: VideoRequest) -> dict[str, Any]:
    """Stage by stage in one process, Piper and x264 given every core."""
    threads = os.cpu_count() or 1
    narrator = build_narrator(settings, threads=threads)
    warm_up(narrator)
    stores, intake = local_intake(settings)
    executor = InProcessSceneExecutor(narrator, lambda spec: build_encoder(settings, spec, threads))
    pipeline = build_pipeline(
        settings,
        executor=executor,
        tracker=FencedTracker(stores.requests, None),
        blobs=stores.blobs,
    )
    record, _ = intake.record(request)
    started = time.perf_counter()
    pipeline.run(record.request_id, request)
    wall = time.perf_counter() - started
    return _figures(wall, stores.requests.get(record.request_id).request_metadata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--question", default="Explain the water cycle")
    parser.add_argument("--grade", default="5")
    parser.add_argument("--minutes", default="2")
    parser.add_argument("--resolution", default="720p")
    args = parser.parse_args()
    request = parse_request(args.question, args.grade, args.minutes, resolution=args.resolution)
    root = Path(tempfile.mkdtemp(prefix="vividly-bench-"))
    try:
        ray_figures = run_ray(load_settings(home=root / "ray"), request)
        baseline = run_sequential(load_settings(home=root / "seq"), request)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report = {
        "benchmark": "render",
        "request": {
            "question": args.question,
            "grade": args.grade,
            "minutes": args.minutes,
            "resolution": args.resolution,
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "ray_pipelined": ray_figures,
        "baseline_sequential": baseline,
        "speedup": round(baseline["wall_s"] / ray_figures["wall_s"], 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
