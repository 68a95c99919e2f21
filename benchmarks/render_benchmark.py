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
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("RAY_AUTH_MODE", "disabled")

from actors.runtime import LocalRuntime  # noqa: E402
from vividly_ray.bootstrap import build_core, render_spec  # noqa: E402
from vividly_ray.media.encoder import FfmpegSegmentEncoder  # noqa: E402
from vividly_ray.persistence.repository import SqlRequestRepository  # noqa: E402
from vividly_ray.pipeline.orchestrator import PipelinePorts, VideoPipeline  # noqa: E402
from vividly_ray.pipeline.sequential import InProcessSceneExecutor  # noqa: E402
from vividly_ray.settings import Settings, load_settings  # noqa: E402
from vividly_ray.speech.piper_narrator import PiperNarrator  # noqa: E402
from vividly_ray.storage.cache import ContentCache  # noqa: E402
from vividly_ray.validation.limits import parse_request  # noqa: E402


def _figures(wall: float, video_seconds: float, manifest: Path) -> dict[str, Any]:
    stages = json.loads(manifest.read_text())["stage_seconds"]
    return {
        "wall_s": round(wall, 3),
        "video_s": round(video_seconds, 3),
        "realtime_factor": round(video_seconds / wall, 3),
        "stage_s": stages,
    }


def run_ray(settings: Settings, request: Any, out: Path) -> dict[str, Any]:
    started = time.perf_counter()
    with LocalRuntime(settings) as runtime:
        ready = time.perf_counter()
        _, result = runtime.run(request, out)
        wall = time.perf_counter() - ready
    figures = _figures(wall, result.duration, Path(result.manifest_json))
    figures["ray_startup_s"] = round(ready - started, 3)
    return figures


def run_sequential(settings: Settings, request: Any, out: Path) -> dict[str, Any]:
    core = build_core(settings)
    cache = ContentCache(settings.cache_dir)
    threads = os.cpu_count() or 1
    narrator = PiperNarrator(cache, threads=threads)
    narrator.warm_up()
    encoder = FfmpegSegmentEncoder(render_spec(request), cache, settings.work_dir, threads)
    repo = SqlRequestRepository.from_url(settings.effective_database_url)
    ports = PipelinePorts(
        assessor=core.validator,
        retriever=core.library,
        writer=core.writer,
        executor=InProcessSceneExecutor(narrator, encoder),
        assembler=core.assembler,
        tracker=repo,
    )
    request_id = repo.create(request)
    started = time.perf_counter()
    result = VideoPipeline(ports).run(request_id, request, out)
    wall = time.perf_counter() - started
    return _figures(wall, result.duration, Path(result.manifest_json))


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
        ray_figures = run_ray(load_settings(home=root / "ray"), request, root / "ray-out")
        baseline = run_sequential(load_settings(home=root / "seq"), request, root / "seq-out")
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
