"""A `vividly serve` stack for the reliability scenarios: the serving process and every Ray
process it starts, found, measured and killed as one.

Ray puts each worker (every Serve replica) in a process group of its own, so killing the serving
process's group reaches only the serving process, GCS, the raylet and the agents; a worker
outlives them for a moment and its children (ffmpeg) longer. Each stack therefore gets a Ray
temp folder of its own (``RAY_TMPDIR``, short: Ray's Unix sockets live under it and their paths
are limited to 107 bytes). Every process of the stack inherits that variable, so a stack's
processes are those of its process group (while the serving process is not yet reaped, so the
group id cannot have been reused), those whose command line or environment names its folder,
and their descendants. Nothing else is ever signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.serve_process import ServeProcess

_PAGE = os.sysconf("SC_PAGE_SIZE")


class Stack:
    """One `vividly serve` on a local Ray instance under a Ray temp folder of its own."""

    def __init__(self, name: str, env: dict[str, str], log: Path, port: int | None = None) -> None:
        self.name = name
        self.ray_tmp = Path(tempfile.mkdtemp(prefix=f"{name}-", dir="/tmp"))
        self.env = {**env, "RAY_TMPDIR": str(self.ray_tmp)}
        self.server = ServeProcess(self.env, log, port)
        self.startup_s = 0.0
        self._pgid: int | None = None
        self._known: set[int] = set()

    @property
    def url(self) -> str:
        return self.server.url

    def start(self, timeout_s: float = 300) -> Stack:
        try:
            self.server.start(timeout_s=timeout_s)
        finally:
            process = self.server._process
            # The group id stays ours while the serving process is unreaped (started with
            # start_new_session: it leads a group of its own).
            if process is not None and process.poll() is None:
                self._pgid = process.pid
        self.startup_s = self.server.startup_s
        self.refresh()
        return self

    def processes(self) -> dict[int, str]:
        """pid -> command line (shortened) of every live process of this stack."""
        marker = f"RAY_TMPDIR={self.ray_tmp}".encode()
        folder = str(self.ray_tmp)
        table: dict[int, tuple[int, str, bool]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if fields[0] in ("Z", "X"):
                    continue  # dead already; its parent reaps it
                command = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
                )
                ours = (
                    self._pgid is not None and int(fields[2]) == self._pgid
                ) or folder in command
                if not ours:
                    with contextlib.suppress(OSError):
                        ours = marker in (entry / "environ").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            table[int(entry.name)] = (int(fields[1]), command[:160], ours)
        found = {pid for pid, (_, _, ours) in table.items() if ours}
        while True:  # and every descendant of one of them
            more = {pid for pid, (ppid, _, _) in table.items() if ppid in found} - found
            if not more:
                break
            found |= more
        return {pid: table[pid][1] for pid in sorted(found)}

    def refresh(self) -> None:
        """Remember the stack's current processes, so that a kill reaches them at once."""
        self._known = set(self.processes())

    def rss_bytes(self) -> int:
        """The resident memory of every process of the stack, summed."""
        total = 0
        for pid in self.processes():
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int((Path(f"/proc/{pid}/statm")).read_text().split()[1]) * _PAGE
        return total

    def kill(self, settle_s: float = 20) -> dict[int, str]:
        """SIGKILL every process of the stack (a crashed node); what is still alive after
        ``settle_s`` (empty when the stack is gone)."""
        if self._pgid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pgid, signal.SIGKILL)
        self._signal(self._known)
        deadline = time.monotonic() + settle_s
        while (left := self.processes()) and time.monotonic() < deadline:
            self._signal(set(left))
            time.sleep(0.1)
        self._reap()
        return self.processes()

    def stop(self, grace_s: float = 30) -> dict[int, str]:
        """SIGTERM as an orchestrator would, then SIGKILL whatever of the stack remains."""
        with contextlib.suppress(Exception):
            self.server.stop(grace_s)
        return self.kill()

    def close(self) -> dict[int, str]:
        """Kill the stack and remove its Ray folder; what survived (should be nothing)."""
        left = self.kill()
        shutil.rmtree(self.ray_tmp, ignore_errors=True)
        return left

    def _signal(self, pids: set[int]) -> None:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)

    def _reap(self) -> None:
        process = self.server._process
        if process is not None:
            with contextlib.suppress(Exception):
                process.wait(30)
        self._pgid = None  # reaped: the group id may now belong to someone else

    def log_records(self) -> Iterator[dict[str, object]]:
        """Every JSON log line the stack's Ray workers wrote (their stderr files)."""
        sessions = [d for d in self.ray_tmp.glob("ray/session_*") if not d.is_symlink()]
        for path in sorted(p for d in sessions for p in d.glob("logs/worker-*.err")):
            with (
                contextlib.suppress(OSError),
                path.open(encoding="utf-8", errors="replace") as lines,
            ):
                for line in lines:
                    if line.startswith("{"):
                        with contextlib.suppress(json.JSONDecodeError):
                            record = json.loads(line)
                            if isinstance(record, dict):
                                yield record


def leftover_ray_processes(prefix: str) -> dict[int, str]:
    """Processes of any stack whose Ray folder starts with ``/tmp/<prefix>`` (a last check)."""
    marker = f"/tmp/{prefix}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, IndexError):
            continue
        if any(v.startswith(b"RAY_TMPDIR=" + marker) for v in environ) or marker in command:
            found[int(entry.name)] = command.decode("utf-8", "replace")[:160]
    return found
