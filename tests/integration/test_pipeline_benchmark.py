"""The pipeline benchmark's quick parts: figures, targets, the timeline picture, the baseline's
spec and pins. The benchmark itself (Ray, MoviePy) is run by hand: `python -m benchmarks.pipeline`.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from PIL import Image

from benchmarks import pipeline
from benchmarks._common import outside_stages, wait_terminal
from benchmarks.pipeline import Task

ROOT = Path(__file__).resolve().parents[2]


def _manifest() -> dict[str, object]:
    return {
        "tasks": [
            {"task": "narrate", "scene": 0, "worker": "Narrator a:1", "start": 100.0, "end": 101.0},
            {"task": "encode", "scene": 0, "worker": "SegmentEncoder a:3", "start": 101.0,
             "end": 101.5},
            {"task": "narrate", "scene": 1, "worker": "Narrator a:2", "start": 100.0, "end": 102.0},
            {"task": "encode", "scene": 1, "worker": "SegmentEncoder a:4", "start": 102.0,
             "end": 102.4},
        ],
        "status_timeline": [
            {"status": "generating_video", "entered_at": "1970-01-01T00:01:40+00:00",
             "seconds": 2.4},
            {"status": "processing_video", "entered_at": "1970-01-01T00:01:42.400000+00:00",
             "seconds": 0.5},
            {"status": "completed", "entered_at": "1970-01-01T00:01:43+00:00", "seconds": None},
        ],
        "cost": {"cpu_seconds_by_stage": {"generating_video": 3.2, "processing_video": 0.4}},
    }  # fmt: skip


def test_manifest_tasks_include_the_assembly_and_time_to_the_first_scene() -> None:
    tasks = pipeline.manifest_tasks(_manifest())
    assert [t.task for t in tasks] == ["narrate", "encode", "narrate", "encode", "assemble"]
    assemble = tasks[-1]
    assert assemble.worker == "Dispatcher"
    assert (assemble.start, assemble.end) == (102.4, 102.9)
    assert pipeline.first_scene_s(tasks, submitted=99.0) == 2.5
    assert pipeline.first_scene_s([], submitted=99.0) is None
    assert pipeline.cpu_by_stage(_manifest()) == {"generating_video": 3.2, "processing_video": 0.4}


def test_figures_and_targets_from_synthetic_runs() -> None:
    runs = {
        "baseline": {"wall_s": 120.0},
        "one_process": {"wall_s": 10.0},
        "vividly_cold": {"wall_s": 8.0, "video_s": 180.0, "cpu_s": {"a": 10.0, "b": 4.0},
                         "first_scene_s": 1.5},
        "vividly_warm": {"wall_s": 0.4},
        "trivial": {"wall_s": 2.0, "overhead_s": 0.25},
        "concurrent": {"requests": 4, "wall_s": 30.0, "cpu_s": 50.0},
        "tracker_events_per_s": 2500.0,
        "peak_memory_gb": 2.5,
        "generate_cold": {"wall_s": 24.0, "request_s": 9.5},
    }  # fmt: skip
    figures = pipeline.compute_figures(runs, cores=2)
    assert figures["generate_cold_s"] == 24.0 and figures["generate_request_s"] == 9.5
    assert figures["baseline_over_vividly"] == 15.0
    assert figures["realtime_factor_cold"] == 22.5
    assert figures["parallel_efficiency"] == 0.875
    assert figures["pools_vs_one_process"] == 1.25
    assert figures["warm_over_cold"] == 0.05
    assert figures["concurrent_wall_over_cpu_bound"] == 1.2
    assert figures["videos_per_core_hour"] == 288.0
    targets = pipeline.check_targets(figures)
    assert set(targets) == set(pipeline.TARGETS)
    assert targets["speedup_over_baseline"]["met"] is True
    assert targets["concurrent_wall_over_cpu_bound"]["met"] is False
    assert targets["overhead_per_request_s"]["met"] is True
    assert targets["generate_cold_s"]["met"] is False
    # A run left out (--skip-baseline) is reported as not measured, not as a failure.
    assert pipeline.check_targets(pipeline.compute_figures({}, 2))["speedup_over_baseline"] == {
        "value": None,
        "target": ">= 15.0",
        "met": None,
    }


def test_generate_figures_come_from_the_commands_summary_line() -> None:
    # Rich folds the line at the terminal's width; the figures are read across the fold.
    printed = (
        "completed: 131.4 s of video, 9 scenes (0 reused) rendered in 9.5 s after 12.3 s\n"
        "of start-up\n  video      /tmp/out/video.mp4\n"
    )
    assert pipeline.generate_figures(24.25, printed) == {
        "wall_s": 24.25,
        "video_s": 131.4,
        "request_s": 9.5,
        "startup_s": 12.3,
    }
    with pytest.raises(RuntimeError, match="no summary line"):
        pipeline.generate_figures(3.0, "failed in stage retrieving: nothing found")


def test_timeline_has_a_row_per_worker_and_bars_in_the_task_colours(tmp_path: Path) -> None:
    tasks = pipeline.manifest_tasks(_manifest())
    path = pipeline.draw_timeline(tasks, tmp_path / "timeline.png", "synthetic")
    image = Image.open(path).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=1 << 20) or []}
    for colour in pipeline.TASK_COLOURS.values():
        assert colour in colours
    assert image.height == 48 + 34 * 5 + 60  # five workers, Dispatcher included
    # An empty run still draws (an axis and a legend).
    assert pipeline.draw_timeline([], tmp_path / "empty.png").exists()


def test_baseline_spec_carries_the_slide_content_font_and_timing(tmp_path: Path) -> None:
    scenes = [
        {"title": "Evaporation", "bullets": ("Water warms", "Vapour rises"),
         "reveal_at": [0.0, 2.34567], "duration": 6.5, "wav": tmp_path / "scene-00.wav"},
    ]  # fmt: skip
    spec = pipeline.baseline_spec(scenes, 1280, 720)
    json.dumps(spec)  # handed over as a file
    assert (spec["width"], spec["height"], spec["fps"]) == (1280, 720, pipeline.BASELINE_FPS)
    assert Path(spec["font_regular"]).name == "Lato-Regular.ttf"
    assert Path(spec["font_bold"]).is_file()
    assert spec["scenes"][0]["reveal_at"] == [0.0, 2.346]
    assert spec["scenes"][0]["bullets"] == ["Water warms", "Vapour rises"]
    assert spec["scenes"][0]["wav"] == str(tmp_path / "scene-00.wav")


def test_baseline_pins_come_from_the_dependency_group_and_import_nothing_of_ours() -> None:
    pins = pipeline.baseline_pins()
    names = {pin.split("==")[0].lower() for pin in pins}
    assert {"moviepy", "pillow", "numpy", "imageio-ffmpeg"} <= names
    assert all("==" in pin for pin in pins)  # installed with --no-deps: everything pinned
    tree = ast.parse((ROOT / "benchmarks" / "moviepy_baseline.py").read_text())
    imported = {
        (node.module or "") if isinstance(node, ast.ImportFrom) else alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not any(name.startswith(("vividly_ray", "actors", "benchmarks")) for name in imported)


def test_stack_memory_counts_this_process_and_waiting_helpers() -> None:
    assert pipeline.stack_rss_bytes() > 10_000_000
    assert pipeline.stack_rss_bytes(os.getpid()) > 0
    assert outside_stages(5.0, {"retrieving": 1.0, "generating_video": 3.0, "notifying": 9}) == 1.0

    class Status:
        is_terminal = True
        value = "completed"

    class Record:
        status = Status()

    class Requests:
        def get(self, request_id: str) -> Record:
            return Record()

    assert wait_terminal(Requests(), "x").status.value == "completed"


def test_stack_memory_counts_shared_pages_once_in_pss() -> None:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)  # fmt: skip
    try:
        alone = pipeline.stack_memory(child.pid)
        both = pipeline.stack_memory()
    finally:
        child.communicate(b"")
    assert 0 < alone.pss <= alone.rss
    # This process and its child: PSS is at most the RSS sum (shared pages count once), and
    # the tree's figures include the child's.
    assert both.pss <= both.rss and both.rss > alone.rss
    assert pipeline.stack_memory(2**22 + 12345) == pipeline.StackMemory(0, 0)  # no such process


def test_a_sampler_rereads_a_process_only_when_its_memory_moved() -> None:
    import subprocess
    import sys

    # The pages are written (a zero-filled buffer would not be resident).
    code = (
        "import sys; print('ready', flush=True); sys.stdin.readline(); "
        "b = b'x' * (96 * 2**20); print('grown', flush=True); sys.stdin.readline()"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert child.stdin is not None and child.stdout is not None
    page = os.sysconf("SC_PAGE_SIZE")
    readings = pipeline.PssReadings()
    try:
        assert child.stdout.readline() == "ready\n"  # started: its memory holds still now
        first = readings.memory(child.pid, page)
        assert first is not None and child.pid in readings.last
        # Little moved: the last reading (made stale here) plus the RSS change, not a re-read.
        readings.last[child.pid] = (first[0] + 12345, readings.last[child.pid][1])
        again = readings.memory(child.pid, page)
        assert again is not None and abs(again[1] - first[1]) < 8 * 2**20
        assert again[0] == first[0] + 12345 + again[1] - first[1]
        child.stdin.write("grow\n")
        child.stdin.flush()
        child.stdout.readline()
        grown = readings.memory(child.pid, page)
        assert grown is not None
        # 96 MB more is past the threshold: re-read, so the stale figure above is gone.
        assert grown[0] - first[0] > 80 * 2**20
        assert readings.last[child.pid] == grown
    finally:
        child.communicate("")
    assert readings.memory(child.pid, page) is None and child.pid not in readings.last


def test_task_records_are_plain_json() -> None:
    task = Task("encode", 3, "SegmentEncoder a:9", 1.0, 2.0)
    assert json.loads(json.dumps(task.__dict__))["worker"] == "SegmentEncoder a:9"


def test_cpu_by_process_sums_what_each_kind_of_process_spent() -> None:
    before = {1: ("raylet", 2.0), 2: ("replica Narrator", 5.0), 3: ("replica Narrator", 1.0)}
    after = {
        1: ("raylet", 2.5),
        2: ("replica Narrator", 9.0),
        3: ("replica Narrator", 2.0),
        4: ("ffmpeg", 0.75),  # started in between: counted from zero
    }
    assert pipeline.cpu_by_process(before, after) == {
        "replica Narrator": 5.0,
        "ffmpeg": 0.75,
        "raylet": 0.5,
    }


def test_stack_cpu_sees_this_process_and_the_children_it_waited_for() -> None:
    import subprocess
    import sys

    before = pipeline.stack_cpu()
    subprocess.run([sys.executable, "-c", "sum(range(3_000_000))"], check=True)
    after = pipeline.stack_cpu()
    name, cpu = after[os.getpid()]
    assert name.startswith("python")
    # The child's CPU is in this process's figure once it has been waited for.
    assert cpu > before[os.getpid()][1]
