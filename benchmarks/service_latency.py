"""Service benchmark: `vividly serve` start-up, submit latency and per-request orchestration.

Starts the real service on loopback (SQLite, authentication off), then measures:
- ``serve_ready_s``: from starting `vividly serve` to /readyz answering 200;
- ``submit_ms``: POST /v1/videos latency over N sequential requests (each cancelled at once, so
  the dispatcher's work does not pile up on the cores), p50/p95/max;
- a 1-minute request twice: cold (empty cache) and warm (every scene reused), with the time
  from submit to the first pipeline event (queue wait), to completed, and the stage times.
The warm run's wall time minus its stage work is the orchestration overhead per request.

    python -m benchmarks.service_latency [--requests 100] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks._common import outside_stages
from tests.e2e.serve_process import ServeProcess, service_env

QUESTION = {"student_query": "Explain the water cycle", "grade_level": "5", "duration_minutes": 1}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def submit_latency(client: httpx.Client, count: int) -> dict[str, float]:
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        answer = client.post("/v1/videos", json=QUESTION)
        timings.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 202:
            raise SystemExit(f"submit answered {answer.status_code}: {answer.text}")
        client.post(f"/v1/videos/{answer.json()['id']}/cancel")
    return {
        "count": count,
        "p50": round(statistics.median(timings), 2),
        "p95": round(_percentile(timings, 0.95), 2),
        "max": round(max(timings), 2),
    }


def _wait_idle(client: httpx.Client, timeout_s: float = 300) -> None:
    """Until no request is pending or held, so the timed requests run alone."""
    from prometheus_client.parser import text_string_to_metric_families

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        values = {
            sample.name: sample.value
            for family in text_string_to_metric_families(client.get("/metrics").text)
            for sample in family.samples
        }
        if values.get("vividly_queue_depth") == 0 and values.get("vividly_active_pipelines") == 0:
            return
        time.sleep(0.5)
    raise SystemExit("the service did not become idle")


def one_request(client: httpx.Client) -> dict[str, Any]:
    started = time.perf_counter()
    request_id = client.post("/v1/videos", json=QUESTION).json()["id"]
    first_event = None
    while True:
        detail = client.get(f"/v1/videos/{request_id}").json()
        if first_event is None and detail["status"] != "pending":
            first_event = time.perf_counter() - started
        if detail["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.02)
    wall = time.perf_counter() - started
    if detail["status"] != "completed":
        raise SystemExit(f"request ended {detail['status']}: {detail['error']}")
    manifest = httpx.get(str(client.base_url).rstrip("/") + detail["files"]["manifest.json"]).json()
    stages = manifest["stage_seconds"]
    return {
        "wall_s": round(wall, 3),
        "queue_wait_s": round(first_event or 0.0, 3),
        "stage_s": stages,
        "video_s": detail["video_seconds"],
        "overhead_s": round(outside_stages(wall, stages), 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vividly-service-bench-") as root:
        env = service_env(
            Path(root) / "home",
            VIVIDLY_AUTH_DISABLED="true",
            VIVIDLY_MAX_QUEUE_DEPTH="100000",
            VIVIDLY_RATE_LIMIT_PER_MINUTE="100000",
        )
        with ServeProcess(env, Path(root) / "serve.log") as server:
            client = httpx.Client(base_url=server.url, timeout=60)
            warmup = client.post("/v1/videos", json=QUESTION).json()["id"]  # routes and pool
            client.post(f"/v1/videos/{warmup}/cancel")
            latency = submit_latency(client, args.requests)
            _wait_idle(client)
            cold = one_request(client)
            warm = one_request(client)
    report = {
        "benchmark": "service",
        "serve_ready_s": round(server.startup_s, 2),
        "submit_ms": latency,
        "cold_request": cold,
        "warm_request": warm,
        "warm_over_cold": round(warm["wall_s"] / cold["wall_s"], 3),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
