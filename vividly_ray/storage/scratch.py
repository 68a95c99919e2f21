"""Each process's own scratch folder, and the sweep of what processes that are gone left behind.

Every adapter that needs local scratch space (the encoder's frames, the stream's and the
assembler's mux inputs, the narration track, the cache's writes, a request's delivered files)
makes its temporary folders under one folder per process::

    <work_dir>/proc/<host>.<pid namespace>-<pid>-<start>/

``start`` is when the process started (clock ticks since boot, from ``/proc``), so a pid the
system hands out again names a different folder. The pid namespace tells apart the processes of
containers that share a host name and a volume but not their pids (the containers of one pod):
each only judges the folders of the processes it can see.

A process removes its own temporary folders when their work is done, failed or cancelled; a
process that is killed (out of memory, a node drained, a crash) cannot, and its folder would
stay on the disk for good. So each process, when it first asks for its folder, also removes
the folders of this host's processes that are no longer running. Folders of other hosts (a work
folder on a shared volume) are left to their own host.

Before each process had a folder of its own, processes made their temporary folders directly in
the work folder (``requests/``, ``stream/``, ``narration/``, ``cache-writes/``, ``assemble-*``,
``scene-*``). What is left there and has not changed for an hour is removed by the same first
call (``sweep_legacy``): no piece of work takes that long, so nothing of a process still running
an older version is touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
from pathlib import Path

log = logging.getLogger("vividly.scratch")

PROCESS_FOLDERS = "proc"
# Where processes made their temporary folders before each had a folder of its own.
LEGACY_FOLDERS = ("requests", "stream", "narration", "cache-writes")
LEGACY_PREFIXES = ("assemble-", "scene-")
LEGACY_AGE_S = 3600.0

_lock = threading.Lock()
_made: dict[Path, Path] = {}  # work folder -> this process's folder in it


def process_start(pid: int) -> str | None:
    """When ``pid`` started (clock ticks since boot), or None if no such process runs.

    Where ``/proc`` is not there, a running process reads as ``"0"``.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None  # /proc works here, so the process is gone
        return "0" if _signalable(pid) else None
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: count after it.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19]  # field 22, starttime


def _signalable(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's, but running
    return True


def owner_name(pid: int | None = None) -> str:
    """The folder name of process ``pid`` (this one by default) on this host."""
    pid = os.getpid() if pid is None else pid
    return f"{_host()}-{pid}-{process_start(pid) or '0'}"


def _host() -> str:
    """This host's name (a folder name: no separators) and the pid namespace, where it has one."""
    host = socket.gethostname().replace(os.sep, "_").replace("-", "_") or "host"
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return host
    return f"{host}.{''.join(c for c in namespace if c.isdigit())}"


def process_scratch(work_dir: Path) -> Path:
    """This process's scratch folder under ``work_dir`` (made on the first call); the first call
    for a work folder also sweeps the folders its host's dead processes left there."""
    work_dir = Path(work_dir)
    with _lock:
        mine = _made.get(work_dir)
        if mine is None:
            sweep(work_dir)
            sweep_legacy(work_dir)
            mine = work_dir / PROCESS_FOLDERS / owner_name()
            _made[work_dir] = mine
    mine.mkdir(parents=True, exist_ok=True)
    return mine


def sweep(work_dir: Path) -> list[Path]:
    """Remove the folders in ``work_dir/proc`` of this host's processes that are not running
    (or whose pid now belongs to a process started later); returns what was removed."""
    root = Path(work_dir) / PROCESS_FOLDERS
    try:
        folders = list(root.iterdir())
    except FileNotFoundError:
        return []
    host, removed = _host(), []
    for folder in folders:
        parts = folder.name.rsplit("-", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            continue  # not a process folder
        owner_host, pid, started = parts
        if owner_host != host:
            continue
        if process_start(int(pid)) == started:
            continue  # still running
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            removed.append(folder)
    if removed:
        log.info(
            "removed the scratch folders of %d processes that are gone: %s",
            len(removed),
            ", ".join(f.name for f in removed),
        )
    return removed


def sweep_legacy(work_dir: Path, *, older_than_s: float = LEGACY_AGE_S) -> list[Path]:
    """Remove the temporary folders of the layout before ``proc/`` that have not changed for
    ``older_than_s``, and the legacy folders left empty; returns what was removed."""
    work_dir = Path(work_dir)
    cutoff = time.time() - older_than_s
    candidates = [
        entry
        for name in LEGACY_FOLDERS
        if (work_dir / name).is_dir()
        for entry in (work_dir / name).iterdir()
    ]
    try:
        candidates += [
            entry
            for entry in work_dir.iterdir()
            if entry.is_dir() and entry.name.startswith(LEGACY_PREFIXES)
        ]
    except FileNotFoundError:
        return []
    removed = []
    for entry in candidates:
        try:
            if entry.lstat().st_mtime >= cutoff:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError:
            continue  # gone meanwhile, or not ours to remove
        removed.append(entry)
    for name in LEGACY_FOLDERS:
        with contextlib.suppress(OSError):
            (work_dir / name).rmdir()  # only once empty
    if removed:
        log.info("removed %d scratch entries left by an earlier version", len(removed))
    return removed
