"""A throw-away PostgreSQL server for tests and benchmarks: temp dir, loopback port, stopped afterwards.

``initdb`` refuses to run as root, so as root the data directory is handed to the ``postgres`` user and
the binaries run through ``runuser -u postgres --``; as anyone else they run directly.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType


class PostgresUnavailable(Exception):
    """No PostgreSQL binaries on this machine, or the server would not start (the message says which)."""


def find_pg_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: PATH first, then /usr/lib/postgresql/<newest>/bin."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True):
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    return None


def _version_key(path: str) -> tuple[int, ...]:
    part = Path(path).parent.name
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ThrowawayPostgres:
    """``with ThrowawayPostgres() as pg: pg.url`` → ``postgresql+psycopg://postgres@127.0.0.1:PORT/postgres``."""

    def __init__(
        self, bin_dir: Path | None = None, *, fsync: bool = True, max_connections: int = 60, options: str = ""
    ) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise PostgresUnavailable("PostgreSQL binaries (initdb, pg_ctl) not found; install postgresql")
        self.bin_dir = found
        self.fsync = fsync
        self.max_connections = max_connections
        self.options = options  # more server options, e.g. "-c shared_preload_libraries=pg_stat_statements"
        self.port = 0
        self.root: Path | None = None
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / argv[0]), *argv[1:]]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> ThrowawayPostgres:
        self.root = Path(tempfile.mkdtemp(prefix="smart-teller-pg-"))
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        data = self.root / "data"
        done = self._run(
            "initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"
        )
        if done.returncode != 0:
            self._cleanup()
            raise PostgresUnavailable(f"initdb failed: {_last_line(done)}")
        self.port = free_port()
        fsync = "on" if self.fsync else "off"
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync={fsync}"
        options += f" -c max_connections={self.max_connections} {self.options}".rstrip()
        done = self._run(
            "pg_ctl",
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        if done.returncode != 0:
            log = (
                (self.root / "server.log").read_text(errors="replace")
                if (self.root / "server.log").exists()
                else ""
            )
            self._cleanup()
            raise PostgresUnavailable(f"pg_ctl start failed: {_last_line(done)} {log.strip()[-300:]}")
        return self

    def stop(self) -> None:
        if self.root is None:
            return
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop")
        self._cleanup()

    def _cleanup(self) -> None:
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    text = (done.stderr or done.stdout or "").strip().splitlines()
    return text[-1] if text else f"exit {done.returncode}"
