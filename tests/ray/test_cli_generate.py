"""`vividly generate` end to end in a subprocess, as `make demo` runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_cli import vividly

pytestmark = pytest.mark.ray


def test_generate_writes_every_file_and_exits_zero(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = vividly(
        "generate",
        "What causes the tides?",
        "--grade",
        "6",
        "--minutes",
        "1",
        "--resolution",
        "480p",
        "--aspect",
        "9:16",
        "--out",
        str(out),
        home=tmp_path,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    for name in (
        "video.mp4",
        "captions.vtt",
        "captions.srt",
        "thumbnail.jpg",
        "script.json",
        "manifest.json",
    ):
        assert (out / name).exists(), name
        assert str(out / name) in run.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["request"]["aspect"] == "9:16"
    assert manifest["status_timeline"][-1]["status"] == "completed"

    status = vividly("status", manifest["request_id"], home=tmp_path)
    assert status.returncode == 0, status.stderr
    persisted = json.loads(status.stdout)
    assert persisted["status"] == "completed" and persisted["progress_percentage"] == 100
    statuses = [e["status"] for e in persisted["events"] if e["type"] == "status"]
    assert statuses[0] == "pending" and statuses[-1] == "completed"


def test_generate_exits_3_with_questions_when_unclear(tmp_path: Path) -> None:
    run = vividly(
        "generate",
        "help with my homework",
        "--grade",
        "6",
        "--minutes",
        "2",
        "--out",
        str(tmp_path / "o"),
        home=tmp_path,
    )
    assert run.returncode == 3, run.stderr[-3000:]
    assert "?" in run.stdout


def test_generate_exits_1_naming_the_stage_when_the_library_lacks_the_topic(
    tmp_path: Path,
) -> None:
    run = vividly(
        "generate",
        "How do tattoos work?",
        "--grade",
        "7",
        "--minutes",
        "2",
        "--out",
        str(tmp_path / "o"),
        home=tmp_path,
    )
    assert run.returncode == 1, run.stderr[-3000:]
    assert "retrieving" in run.stderr and "tattoos" in run.stderr
    assert "vividly library add" in run.stderr


def test_an_answer_from_the_command_line_finishes_the_video(tmp_path: Path) -> None:
    asked = vividly(
        "generate",
        "explain it",
        "--grade",
        "5",
        "--minutes",
        "1",
        "--out",
        str(tmp_path / "o"),
        home=tmp_path,
    )
    assert asked.returncode == 3, asked.stderr[-3000:]
    command = next(line for line in asked.stdout.splitlines() if "vividly answer" in line)
    request_id = command.split("vividly answer ")[1].split()[0]
    answered = vividly(
        "answer", request_id, "the water cycle", "--out", str(tmp_path / "o"), home=tmp_path
    )
    assert answered.returncode == 0, answered.stderr[-3000:]
    assert (tmp_path / "o" / "video.mp4").stat().st_size > 0
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert manifest["request_id"] == request_id


def test_ctrl_c_cancels_the_request_and_exits_130(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RAY_ADDRESS")}
    env.update(VIVIDLY_HOME=str(tmp_path), RAY_AUTH_MODE="disabled", PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "actors.cli",
            "generate",
            "How does the heart pump blood?",
            "--grade",
            "7",
            "--minutes",
            "3",
            "--out",
            str(tmp_path / "o"),
        ],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    request_id = ""
    deadline = time.monotonic() + 180
    while not request_id and time.monotonic() < deadline:
        line = process.stderr.readline()
        if line.startswith("request ") and "recorded" in line:
            request_id = line.split()[1]
    assert request_id, "the request was never recorded"
    time.sleep(3)
    process.send_signal(signal.SIGINT)
    assert process.wait(120) == 130
    status = vividly("status", request_id, home=tmp_path)
    assert json.loads(status.stdout)["status"] == "cancelled"
    assert not (tmp_path / "o" / "video.mp4").exists()
