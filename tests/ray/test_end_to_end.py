"""Requests through the real Serve application (Dispatcher, Tracker, pools) on local Ray."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import pytest
import ray

from actors.service_runtime import SERVE_CADENCE
from tests.ray.conftest import Service
from vividly_ray.domain.models import Grade, VideoRequest
from vividly_ray.domain.status import PIPELINE, RequestStatus

pytestmark = pytest.mark.ray

REQUEST = VideoRequest(
    question="How do magnets work?", grade=Grade(4), minutes=1, organization_id="local"
)


@ray.remote(num_cpus=0)
def _serve_cadence_seen_by_a_worker() -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in SERVE_CADENCE}


def test_the_workers_of_a_ray_started_here_run_serve_at_its_cadence(service: Service) -> None:
    # The Serve controller and the replicas are Ray workers: they inherit what a task sees.
    assert ray.get(_serve_cadence_seen_by_a_worker.remote()) == SERVE_CADENCE


def test_one_minute_video_end_to_end(service: Service, tmp_path: Path) -> None:
    record = service.run(REQUEST)
    assert record.status is RequestStatus.COMPLETED, record.error
    out = service.download(record, tmp_path / "out")
    for name in ("video.mp4", "captions.vtt", "captions.srt", "thumbnail.jpg", "script.json"):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text())
    script = json.loads((out / "script.json").read_text())

    with av.open(str(out / "video.mp4")) as container:
        kinds = sorted(s.type for s in container.streams if s.type in ("audio", "video"))
        assert kinds == ["audio", "video"]
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.audio[0].codec_context.name == "aac"
        duration = float(container.duration) / av.time_base
        chapters = container.chapters()
    assert len(chapters) == len(script["scenes"]) == manifest["scene_count"]
    assert abs(duration - 60) <= 9, duration  # within 15% of the requested minute
    assert duration == pytest.approx(manifest["durations"]["video_seconds"], abs=0.2)

    vtt = (out / "captions.vtt").read_text()
    assert vtt.startswith("WEBVTT")
    assert script["scenes"][1]["sentences"][0].split()[0] in vtt

    # The persisted timeline is the platform's status sequence, each status once.
    assert record.progress_percentage == 100
    events = service.stores.requests.events(record.request_id)
    statuses = [e.status for e in events if e.event_type == "status"]
    assert statuses == list(PIPELINE)
    assert [row["status"] for row in manifest["status_timeline"]] == [s.value for s in PIPELINE]
    scene_events = [e for e in events if e.event_type == "scene" and "scenes_done" in e.details]
    assert scene_events and scene_events[-1].details["scenes_done"] == len(script["scenes"])
    assert manifest["sources"] and all(s["attribution"] for s in manifest["sources"])


def test_the_same_request_again_reuses_every_scene(service: Service) -> None:
    first = service.run(REQUEST)
    again = service.run(REQUEST)
    assert again.status is RequestStatus.COMPLETED
    total = again.request_metadata["scenes_total"]
    assert (
        again.request_metadata["scenes_reused"] == total == first.request_metadata["scenes_total"]
    )


def test_an_unclear_question_waits_then_goes_on_with_the_answer(service: Service) -> None:
    request = VideoRequest(
        question="explain it", grade=Grade(5), minutes=1, organization_id="local"
    )
    record = service.run(request)
    assert record.status is RequestStatus.CLARIFICATION_NEEDED
    assert 1 <= len(record.request_metadata["clarifying_questions"]) <= 3
    service.stores.requests.answer(record.request_id, "the water cycle")
    answered = service.wait(record.request_id)
    assert answered.status is RequestStatus.COMPLETED, answered.error
    assert answered.request_metadata["clarifications"] == ["the water cycle"]
    assert "water" in answered.request_metadata["title"].lower()


def test_a_resumed_request_redoes_only_the_missing_scenes(service: Service) -> None:
    request = VideoRequest(
        question="Why do we have seasons on Earth?",
        grade=Grade(6),
        minutes=1,
        organization_id="local",
    )
    first = service.run(request)
    assert first.status is RequestStatus.COMPLETED
    # Lose two scenes' finished segments, as if the first run had crashed before encoding them.
    meta_root = service.settings.blob_dir / "cache" / "segment-meta"
    newest = sorted(meta_root.rglob("*.json"), key=lambda p: p.stat().st_mtime)[-2:]
    for meta in newest:
        meta.unlink()
    again = service.run(request)
    total = again.request_metadata["scenes_total"]
    assert again.status is RequestStatus.COMPLETED
    assert again.request_metadata["scenes_reused"] == total - 2


def test_a_killed_narrator_is_replaced_and_the_request_completes(service: Service) -> None:
    import ray

    narrators = [
        actor
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if "Narrator" in actor["name"]
    ]
    assert narrators
    request_id = service.submit(
        VideoRequest(
            question="What causes the tides?", grade=Grade(6), minutes=1, organization_id="local"
        )
    )
    victim = narrators[0]
    ray.kill(ray.get_actor(victim["name"], namespace=victim["namespace"]), no_restart=False)
    record = service.wait(request_id)
    assert record.status is RequestStatus.COMPLETED, record.error
    completed = [
        e
        for e in service.stores.requests.events(request_id)
        if e.event_type == "status" and e.status is RequestStatus.COMPLETED
    ]
    assert len(completed) == 1


def test_cancelling_a_running_request_stops_it(service: Service) -> None:
    import time

    request_id = service.submit(
        VideoRequest(
            question="How does the heart pump blood?",
            grade=Grade(7),
            minutes=3,
            organization_id="local",
        )
    )
    deadline = time.monotonic() + 120
    while service.stores.requests.get(request_id).status is not RequestStatus.GENERATING_VIDEO:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    service.stores.requests.cancel(request_id, reason="test cancel")
    time.sleep(service.settings.lease_seconds)
    record = service.stores.requests.get(request_id)
    assert record.status is RequestStatus.CANCELLED
    assert record.lease_owner is None
    statuses = [e.status for e in service.stores.requests.events(request_id)]
    assert RequestStatus.COMPLETED not in statuses


def test_the_dispatchers_sweep_erases_a_request_deleted_while_it_ran(service: Service) -> None:
    import time

    from vividly_ray.bootstrap import build_eraser
    from vividly_ray.domain.errors import RequestNotFound

    request_id = service.submit(
        VideoRequest(
            question="How do volcanoes erupt?", grade=Grade(6), minutes=2, organization_id="local"
        )
    )
    deadline = time.monotonic() + 120
    while service.stores.requests.get(request_id).status is not RequestStatus.GENERATING_VIDEO:
        assert time.monotonic() < deadline
        time.sleep(0.05)

    outcome = build_eraser(service.settings, service.stores).request(request_id, "local")

    assert not outcome.erased  # it was running: cancelled now, erased after a lease
    assert service.stores.requests.get(request_id).status is RequestStatus.CANCELLED
    # Nobody runs `vividly retention` here: the Dispatcher's own sweep erases it.
    deadline = (
        time.monotonic() + service.settings.lease_seconds + 3 * service.settings.retention_sweep_s
    )
    while True:
        try:
            service.stores.requests.get(request_id)
        except RequestNotFound:
            break
        assert time.monotonic() < deadline, "the Dispatcher's sweep did not erase the request"
        time.sleep(0.5)
    assert [k for k in service.stores.blobs.list_keys("videos/") if request_id in k] == []


def test_the_pipeline_benchmark_measures_a_real_request(service: Service) -> None:
    """The benchmark's own measuring path (intake -> Dispatcher -> pools, as in its cold and warm
    runs) on a real stack, so it cannot rot: a small smoke run of ``benchmarks.pipeline``."""
    from benchmarks import pipeline

    request = VideoRequest(
        question="Why do we have seasons?", grade=Grade(6), minutes=1, organization_id="local"
    )
    run, tasks = pipeline.run_one(service.stores, service.intake, request)
    # Timed from the record: never later than the poll saw it end.
    assert 0 < run["wall_s"] <= run["wall_s_observed"] + 0.01
    assert run["video_s"] > 30 and run["scenes"] >= 4 and run["pieces"] >= run["scenes"]
    assert run["cpu_s"]["generating_video"] > 0
    assert run["first_stream_part_s"] is not None
    assert run["first_stream_part_s"] <= run["first_stream_scene_s"]
    # The stack's processes were found and their CPU counted, the Narrators' most of all.
    assert run["cpu_s_by_process"]["replica Narrator"] > 0
    assert {t.task for t in tasks} == {"narrate", "encode", "assemble"}
    figures = pipeline.compute_figures({"vividly_cold": run}, cores=2)
    realtime = run["video_s"] / run["wall_s"]
    assert figures["realtime_factor_cold"] == pytest.approx(realtime, rel=0.01)
