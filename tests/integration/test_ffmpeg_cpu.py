"""The CPU of an ffmpeg run counts to the thread that ran it, with the real ffmpeg: a Dispatcher
runs several pipelines (and their streams) at once, so a process-wide figure would mix them."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from vividly_ray.domain.errors import StageFailed
from vividly_ray.media.ffmpeg import run_ffmpeg
from vividly_ray.observability.cpu import cpu_meter


def _encode(out: Path, seconds: int = 2) -> list[str]:
    source = f"testsrc2=size=640x360:rate=24:duration={seconds}"
    return ["-f", "lavfi", "-i", source, "-c:v", "libx264", "-preset", "medium", str(out)]


def test_a_runs_cpu_counts_to_its_own_thread_only(tmp_path: Path) -> None:
    started = threading.Event()
    finished = threading.Event()
    seen: dict[str, float] = {}

    def encoder() -> None:
        with cpu_meter() as measured:
            started.set()
            run_ffmpeg(_encode(tmp_path / "a.mp4"), "generating_video")
        seen["encoder"] = measured.seconds
        finished.set()

    def bystander() -> None:
        # Meters while the other thread's ffmpeg runs and is reaped, running none itself.
        with cpu_meter() as measured:
            started.wait(30)
            finished.wait(120)
        seen["bystander"] = measured.seconds

    threads = [threading.Thread(target=encoder), threading.Thread(target=bystander)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert (tmp_path / "a.mp4").stat().st_size > 0
    # Encoding two seconds of 360p video costs ffmpeg well over the bystander's waiting.
    assert seen["encoder"] > 0.05
    assert seen["bystander"] < seen["encoder"] / 10


def test_a_run_past_its_timeout_is_killed_and_retryable(tmp_path: Path) -> None:
    # -re reads the source in real time, so a minute of it cannot finish in half a second.
    args = ["-re", *_encode(tmp_path / "slow.mp4", seconds=60)]
    with pytest.raises(StageFailed) as failed:
        run_ffmpeg(args, "generating_video", timeout=0.5)
    assert failed.value.retryable
    assert "did not finish within" in failed.value.reason


def test_a_failing_run_reports_the_end_of_its_stderr(tmp_path: Path) -> None:
    with pytest.raises(StageFailed) as failed:
        run_ffmpeg(["-i", str(tmp_path / "missing.wav"), str(tmp_path / "out.mp4")], "x")
    assert "missing.wav" in failed.value.reason
    assert not failed.value.retryable
