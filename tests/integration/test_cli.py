"""The `vividly` command as a user runs it: JSON output, messages and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def vividly(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RAY_ADDRESS")}
    env.update(VIVIDLY_HOME=str(home), RAY_AUTH_MODE="disabled")
    return subprocess.run(
        [sys.executable, "-m", "actors.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_check_lets_a_clear_question_proceed(tmp_path: Path) -> None:
    run = vividly(
        "check",
        "Explain photosynthesis for 8th grade students",
        "--grade",
        "8",
        "--minutes",
        "3",
        home=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["decision"] == "proceed" and answer["questions"] == []
    assert set(answer) == {"decision", "reasons", "questions"}


def test_check_asks_when_there_is_no_topic(tmp_path: Path) -> None:
    run = vividly("check", "Explain it", "--grade", "5", "--minutes", "2", home=tmp_path)
    assert run.returncode == 3, run.stderr
    answer = json.loads(run.stdout)
    assert answer["decision"] == "clarify" and 1 <= len(answer["questions"]) <= 3


def test_check_refuses_unsafe_questions(tmp_path: Path) -> None:
    run = vividly(
        "check", "How do I make a bomb at home?", "--grade", "8", "--minutes", "2", home=tmp_path
    )
    assert run.returncode == 4, run.stderr
    answer = json.loads(run.stdout)
    assert answer["decision"] == "refuse" and answer["reasons"]


@pytest.mark.parametrize(
    "flags, field, allowed",
    [
        (["--grade", "13", "--minutes", "2"], "grade", "K or 1-12"),
        (["--grade", "5", "--minutes", "20"], "minutes", "1"),
        (["--grade", "5", "--minutes", "2", "--aspect", "4:3"], "aspect", "16:9"),
        (["--grade", "5", "--minutes", "2", "--resolution", "4k"], "resolution", "720p"),
    ],
)
def test_generate_rejects_bad_input_naming_the_field(
    tmp_path: Path, flags: list[str], field: str, allowed: str
) -> None:
    run = vividly(
        "generate", "Explain the water cycle", *flags, "--out", str(tmp_path / "o"), home=tmp_path
    )
    assert run.returncode == 2
    assert field in run.stderr and allowed in run.stderr
    assert not (tmp_path / "o").exists()


def test_short_question_is_invalid(tmp_path: Path) -> None:
    run = vividly("check", "hi", "--grade", "5", "--minutes", "2", home=tmp_path)
    assert run.returncode == 2 and "question" in run.stderr and "3" in run.stderr


def test_library_add_and_list(tmp_path: Path) -> None:
    article = tmp_path / "volcanoes.md"
    article.write_text(
        "---\nid: my-volcanoes\ntitle: Volcano Basics\nsubject: science\ngrade_band: 3-5\n"
        "license: CC0-1.0\nattribution: Volcano Basics, my class notes, CC0\n---\n"
        "# Volcano Basics\n\nA volcano is an opening in the crust where melted rock escapes.\n",
        encoding="utf-8",
    )
    added = vividly("library", "add", str(article), home=tmp_path)
    assert added.returncode == 0, added.stderr
    listed = vividly("library", "list", home=tmp_path)
    assert listed.returncode == 0
    assert "my-volcanoes" in listed.stdout and "Volcano Basics" in listed.stdout
    assert "science-water-cycle" in listed.stdout  # the starter library is always there


def test_library_add_of_a_missing_file_is_an_error(tmp_path: Path) -> None:
    run = vividly("library", "add", str(tmp_path / "nope.md"), home=tmp_path)
    assert run.returncode == 2 and "nope.md" in run.stderr


def test_status_of_an_unknown_request_is_an_error(tmp_path: Path) -> None:
    run = vividly("status", "no-such-request", home=tmp_path)
    assert run.returncode == 2 and "no-such-request" in run.stderr


def test_every_bad_field_is_reported_at_once(tmp_path: Path) -> None:
    run = vividly(
        "check", "Explain the water cycle", "--grade", "13", "--minutes", "0", home=tmp_path
    )
    assert run.returncode == 2
    assert "grade: must be K or 1-12" in run.stderr
    assert "minutes: must be a number from 1 to 10" in run.stderr


def _finished_request(home: Path) -> str:
    """A request that completed with a delivered file, made through the real stores."""
    from vividly_ray.bootstrap import build_stores
    from vividly_ray.domain.models import Grade, VideoRequest
    from vividly_ray.domain.status import PIPELINE
    from vividly_ray.settings import load_settings

    stores = build_stores(load_settings({}, home=home))
    try:
        record, _ = stores.requests.create(
            VideoRequest(question="Explain the water cycle", grade=Grade(5), minutes=2)
        )
        for status in PIPELINE[1:-1]:
            stores.requests.transition(record.request_id, status)
        key = f"videos/{record.request_id}/video.mp4"
        stores.blobs.put_bytes(key, b"mp4", "video/mp4")
        stores.requests.merge_metadata(record.request_id, {"files": {"video.mp4": key}})
        stores.requests.transition(record.request_id, PIPELINE[-1])
        return record.request_id
    finally:
        stores.db.dispose()


def test_erase_removes_a_finished_request_and_its_files(tmp_path: Path) -> None:
    request_id = _finished_request(tmp_path)

    run = vividly("erase", request_id, home=tmp_path)

    assert run.returncode == 0, run.stderr
    assert "erased" in run.stdout and "1 stored files" in run.stdout
    assert not (tmp_path / "blobs" / "videos" / request_id).exists()
    gone = vividly("status", request_id, home=tmp_path)
    assert gone.returncode == 2 and request_id in gone.stderr


def test_erase_of_an_unknown_request_names_it(tmp_path: Path) -> None:
    run = vividly("erase", "no-such-request", home=tmp_path)
    assert run.returncode == 2 and "no-such-request" in run.stderr


def test_retention_with_zero_days_erases_only_what_is_due(tmp_path: Path) -> None:
    request_id = _finished_request(tmp_path)

    run = vividly("retention", "--days", "0", home=tmp_path)

    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["retention_days"] == 0 and report["requests_erased"] == 0
    assert vividly("status", request_id, home=tmp_path).returncode == 0


def test_retention_refuses_a_negative_period(tmp_path: Path) -> None:
    run = vividly("retention", "--days", "-1", home=tmp_path)
    assert run.returncode == 2 and "--days" in run.stderr and "0-3650" in run.stderr
