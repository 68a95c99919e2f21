"""A PostgreSQL server of the test's own, to stop and start again without touching the shared one.

``initdb`` makes a fresh cluster in a temporary folder and ``pg_ctl`` runs it on a free loopback
port. PostgreSQL refuses to run as root, so as root (CI) every command runs as the ``postgres``
system user through ``runuser`` (or ``su``), in a folder that user owns. When none of that is
possible, ``postgres_instance`` skips the test and says why.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.pubsub_emulator import free_port

SYSTEM_USER = "postgres"


def server_binaries() -> Path | None:
    """The folder holding ``initdb`` and ``pg_ctl`` (the newest installed version), or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_user_prefix() -> tuple[list[str] | None, str]:
    """How to run a server command (a prefix for argv), or None and why it cannot run."""
    if os.geteuid() != 0:
        return [], ""
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        return None, f"running as root and there is no {SYSTEM_USER!r} user to run PostgreSQL"
    if shutil.which("runuser"):
        return ["runuser", "-u", SYSTEM_USER, "--"], ""
    if shutil.which("su"):
        return ["su", SYSTEM_USER, "-s", "/bin/sh", "-c"], ""
    return None, "running as root and neither runuser nor su can switch to the postgres user"


class PostgresInstance:
    """One cluster in ``root``: ``start``, ``stop`` (as an outage would) and ``destroy``."""

    def __init__(self, bin_dir: Path, root: Path, prefix: list[str], port: int) -> None:
        self.bin_dir = bin_dir
        self.root = root
        self.data = root / "data"
        self.sockets = root / "sockets"
        self.log = root / "server.log"
        self.port = port
        self._prefix = prefix
        self.starts = 0
        self.stops = 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / argv[0]), *argv[1:]]
        if self._prefix and self._prefix[-1] == "-c":  # su takes one shell command line
            full = [*self._prefix, shlex.join(command)]
        else:
            full = [*self._prefix, *command]
        return subprocess.run(full, capture_output=True, text=True, timeout=timeout, check=False)

    def init(self) -> subprocess.CompletedProcess[str]:
        return self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.sockets} -c fsync=off "
            "-c max_connections=50"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
            "start",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr or done.stdout}\n{self.tail()}")
        self.starts += 1

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: ``fast`` ends every session at once (clients see their connections
        cut), as a crash or a failover would from the client's side."""
        done = self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr or done.stdout}")
        self.stops += 1

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status").returncode == 0

    def tail(self, chars: int = 2000) -> str:
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def destroy(self) -> None:
        """Stop the server if it runs (killing it if pg_ctl cannot) and remove the cluster."""
        with contextlib.suppress(Exception):
            if self.running():
                self.stop("immediate")
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError):
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGKILL)  # the postmaster this instance started
            time.sleep(0.5)
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def postgres_instance() -> Iterator[PostgresInstance]:
    """A fresh, started PostgreSQL cluster on a free port; stopped and removed afterwards.
    Skips the test (with the reason) when no server can be run here."""
    bin_dir = server_binaries()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        pytest.skip("needs the PostgreSQL server binaries (initdb, pg_ctl)")
    prefix, why = _as_user_prefix()
    if prefix is None:
        pytest.skip(why)
    root = Path(tempfile.mkdtemp(prefix="vividly-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(SYSTEM_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    instance = PostgresInstance(bin_dir, root, prefix, free_port())
    try:
        made = instance.init()
        if made.returncode != 0:
            pytest.skip(
                f"initdb could not make a cluster here: {(made.stderr or made.stdout)[-500:]}"
            )
        instance.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(instance.sockets, SYSTEM_USER, SYSTEM_USER)
        instance.start()
        yield instance
    finally:
        instance.destroy()
