"""Each process's scratch folder, and the sweep of the folders dead processes left behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from vividly_ray.storage import scratch
from vividly_ray.storage.scratch import (
    PROCESS_FOLDERS,
    owner_name,
    process_scratch,
    process_start,
    sweep,
)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _folder(work: Path, name: str) -> Path:
    folder = work / PROCESS_FOLDERS / name / "request-1"
    folder.mkdir(parents=True)
    (folder / "segment.mp4").write_bytes(b"x" * 100)
    return folder.parent


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scratch, "_made", {})


def test_a_running_process_has_a_start_and_a_finished_one_none() -> None:
    assert process_start(os.getpid()) is not None
    assert process_start(_dead_pid()) is None


def test_the_folders_of_dead_processes_of_this_host_are_swept(tmp_path: Path) -> None:
    host = owner_name().rsplit("-", 2)[0]
    dead = _folder(tmp_path, f"{host}-{_dead_pid()}-12345")
    mine = _folder(tmp_path, owner_name())
    # The pid of a running process, but not the process that made the folder: it started later.
    reused = _folder(tmp_path, f"{host}-{os.getpid()}-1")
    elsewhere = _folder(tmp_path, f"other-host-{_dead_pid()}-12345")
    # The same host name, another pid namespace (another container of the pod): not ours to judge.
    name, _, _namespace = host.partition(".")
    other_container = _folder(tmp_path, f"{name}.1-{_dead_pid()}-12345")
    stray = tmp_path / PROCESS_FOLDERS / "notes"
    stray.mkdir()

    removed = sweep(tmp_path)

    assert sorted(removed) == sorted([dead, reused])
    assert not dead.exists() and not reused.exists()
    assert mine.exists() and elsewhere.exists() and stray.exists()
    assert other_container.exists()


def test_the_first_call_sweeps_and_gives_this_process_its_own_folder(tmp_path: Path) -> None:
    host = owner_name().rsplit("-", 2)[0]
    dead = _folder(tmp_path, f"{host}-{_dead_pid()}-12345")

    mine = process_scratch(tmp_path)

    assert not dead.exists()
    assert mine == tmp_path / PROCESS_FOLDERS / owner_name() and mine.is_dir()
    # Later calls give the same folder without sweeping again (a folder appearing meanwhile stays).
    later = _folder(tmp_path, f"{host}-{_dead_pid()}-12345")
    assert process_scratch(tmp_path) == mine
    assert later.exists()


def test_a_child_process_gets_a_folder_of_its_own(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; from vividly_ray.storage.scratch import "
        "process_scratch; print(process_scratch(Path(sys.argv[1])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True
    )
    theirs = Path(done.stdout.strip())
    assert theirs.is_dir() and theirs != process_scratch(tmp_path)
    # The child has exited: its folder goes with the next process's sweep.
    scratch._made.clear()
    process_scratch(tmp_path)
    assert not theirs.exists()


def test_no_work_folder_yet_sweeps_nothing(tmp_path: Path) -> None:
    assert sweep(tmp_path / "missing") == []


def test_the_folder_of_a_killed_process_goes_when_the_next_builds_its_adapters(
    tmp_path: Path,
) -> None:
    """A process killed mid-work (SIGKILL: no clean-up runs) leaves its scratch; the next
    process to build its adapters on the same home removes it, and works in its own."""
    from vividly_ray.bootstrap import build_cache, build_pipeline
    from vividly_ray.settings import load_settings

    settings = load_settings(home=tmp_path / "home")
    code = (
        "import sys, time; from pathlib import Path; from vividly_ray.storage.scratch import "
        "process_scratch; folder = process_scratch(Path(sys.argv[1])) / 'scene-001-x'; "
        "folder.mkdir(); (folder / 'frame.png').write_bytes(b'x' * 1000); "
        "print(folder, flush=True); time.sleep(60)"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(settings.work_dir)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())
    child.kill()
    child.wait()
    assert left.is_dir()

    cache = build_cache(settings)
    assert not left.exists() and not left.parent.exists()
    mine = settings.work_dir / PROCESS_FOLDERS / owner_name()
    assert cache.scratch == mine / "cache-writes"
    pipeline = build_pipeline(settings, executor=None, tracker=None)  # type: ignore[arg-type]
    assert pipeline._ports.scratch == mine / "requests"


def test_what_the_layout_before_proc_left_goes_once_it_is_an_hour_old(tmp_path: Path) -> None:
    old, fresh = [], []
    for place in ("requests/request-ab12-x", "stream/stream-y", "assemble-z", "scene-003-q"):
        folder = tmp_path / place
        folder.mkdir(parents=True)
        (folder / "file").write_bytes(b"x")
        os.utime(folder, (1_000_000, 1_000_000))
        old.append(folder)
    for place in ("narration/narration-new", "scene-004-new"):
        folder = tmp_path / place
        folder.mkdir(parents=True)
        fresh.append(folder)
    keep = tmp_path / "notes.txt"  # not a scratch entry of any layout
    keep.write_text("mine")
    os.utime(keep, (1_000_000, 1_000_000))

    removed = scratch.sweep_legacy(tmp_path)

    assert sorted(removed) == sorted(old)
    assert all(folder.exists() for folder in fresh) and keep.exists()
    # Emptied legacy folders go too; one still holding fresh work stays.
    assert not (tmp_path / "requests").exists() and not (tmp_path / "stream").exists()
    assert (tmp_path / "narration").is_dir()


def test_the_first_call_also_sweeps_the_layout_before_proc(tmp_path: Path) -> None:
    stale = tmp_path / "cache-writes" / "segment-abc"
    stale.mkdir(parents=True)
    os.utime(stale, (1_000_000, 1_000_000))
    process_scratch(tmp_path)
    assert not stale.exists() and not stale.parent.exists()
