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
        "How do vaccines work?",
        "--grade",
        "7",
        "--minutes",
        "2",
        "--out",
        str(tmp_path / "o"),
        home=tmp_path,
    )
    assert run.returncode == 1, run.stderr[-3000:]
    assert "retrieving" in run.stderr and "vaccines" in run.stderr
    assert "vividly library add" in run.stderr
