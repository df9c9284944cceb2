"""Shared fixtures: a throw-away PostgreSQL server for tests marked ``postgres``; the bank host as its own
process on a copy of a seeded data dir."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks._pgserver import PostgresUnavailable, ThrowawayPostgres, find_pg_bin

# Every process the test run starts inherits this mark (the value is the run's own), so a process left
# running when the run ends is found however it was started: a child, a grandchild whose parent died, a
# daemon that detached itself.
RUN_MARK = "SMART_TELLER_TEST_RUN"
LEFTOVER_GRACE_S = 15.0  # time for processes told to stop at teardown to finish exiting


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist): workers inherit it
        os.environ.setdefault(RUN_MARK, f"{os.getpid()}-{time.time_ns()}")


def _leftovers(mark: str) -> list[Any]:
    import psutil

    mine = {os.getpid(), *(p.pid for p in psutil.Process().parents())}
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        if process.pid in mine:
            continue
        cmdline = " ".join(process.info["cmdline"] or ())
        try:
            if process.ppid() == os.getpid() and "multiprocessing.resource_tracker" in cmdline:
                continue  # multiprocessing's helper of this very process: it ends when this process does
            if process.environ().get(RUN_MARK) == mark and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No process the run started outlives it: fail the run, naming each, and end them."""
    if hasattr(session.config, "workerinput"):
        return  # the controller checks once every worker has gone
    mark = os.environ.get(RUN_MARK)
    if not mark:
        return
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    left = _leftovers(mark)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = _leftovers(mark)
    if not left:
        return
    names = []
    for process in left:
        try:
            names.append(f"pid {process.pid}: {' '.join(process.cmdline())[:160]}")
            process.kill()
        except Exception:
            names.append(f"pid {process.pid}")
    sys.stderr.write("\nprocesses left running by the tests (now killed):\n  " + "\n  ".join(names) + "\n")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long runs (marked ``slow``) first: started last, one of them alone decides when the suite ends."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL (fsync on) on a loopback port; stopped when the session ends.

    Without the binaries the test is skipped locally but FAILS under CI=true: CI must test PostgreSQL.
    """
    if find_pg_bin() is None:
        message = (
            "PostgreSQL binaries (initdb/pg_ctl) not found; install postgresql (apt-get install postgresql)"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    try:
        server = ThrowawayPostgres().start()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


# -- the bank host, as its own process ------------------------------------------------------------------

TERMINAL_ID = "KIOSK-0001"


@pytest.fixture(scope="session")
def host_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A host data dir migrated, seeded and with KIOSK-0001 enrolled, made once per test process; each
    host fixture starts from a copy (database, and the token store beside it), which is what a fresh
    seeded bank is."""
    from app.hostproc import enrol, host_environment, run_host_command

    template = tmp_path_factory.mktemp("host-template")
    data = template / "data"
    env = host_environment(data)
    enrol(TERMINAL_ID, template / "credential", env)
    run_host_command(["bank", "seed"], env)
    for noise in ("logs",):
        shutil.rmtree(data / noise, ignore_errors=True)
    return template


@dataclass
class BankHost:
    """A running ``python -m bank serve`` on its own data dir, and the credential of KIOSK-0001."""

    data_dir: Path
    credential: str
    process: Any
    url: str
    _inspector: Any = None

    @property
    def iso8583(self) -> tuple[str, int]:
        """(host, port) of its ISO 8583 listener."""
        host, _, port = str(self.process.iso8583).rpartition(":")
        return host, int(port)

    def inspect(self) -> Any:
        """The bank's database and services in this test process, to check what the host did (the
        host process keeps serving; SQLite in WAL lets both read)."""
        if self._inspector is None:
            from bank.host import Host
            from bank.settings import load_host_settings

            self._inspector = Host.start(load_host_settings(data_dir=self.data_dir))
        return self._inspector

    def bank(self) -> Any:
        return self.inspect().bank_for(TERMINAL_ID)

    def close(self) -> None:
        if self._inspector is not None:
            self._inspector.close()
            self._inspector = None
        self.process.stop()

    def install_credential(self, terminal_data_dir: Path) -> Path:
        terminal_data_dir.mkdir(parents=True, exist_ok=True)
        path = terminal_data_dir / "host-credential"
        path.write_text(self.credential, encoding="utf-8")
        path.chmod(0o600)
        return path

    def command(self, *args: str) -> str:
        from app.hostproc import host_environment, run_host_command

        return run_host_command(list(args), host_environment(self.data_dir))

    def database(self) -> Path:
        return self.data_dir / "bank.db"


class HostZygote:
    """The fork server of ``tests/host_zygote.py``: a fresh ``python -m bank serve`` in about 0.1 s."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("host_zygote.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self._lock = threading.Lock()

    def spawn(self, env: dict[str, str], args: list[str], stderr: Path) -> int:
        request = json.dumps({"env": env, "args": args, "stderr": str(stderr)})
        with self._lock:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline()
        if not answer:
            raise RuntimeError("the host fork server ended")
        return int(json.loads(answer)["pid"])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


class ForkedHost:
    """A host forked by :class:`HostZygote`; the same life cycle as ``app.hostproc.HostProcess``."""

    def __init__(self, zygote: HostZygote, env: dict[str, str]) -> None:
        self.zygote = zygote
        self.env = env
        self.url = ""
        self.iso8583 = ""
        self._pid = 0

    def start(self, timeout_s: float = 60.0) -> ForkedHost:
        from app.hostproc import HostStartError, last_line

        folder = Path(tempfile.mkdtemp(prefix="st-host-"))
        ready, errors = folder / "ready.json", folder / "stderr"
        self._pid = self.zygote.spawn(self.env, ["serve", "--port", "0", "--ready-file", str(ready)], errors)
        deadline = time.monotonic() + timeout_s
        try:
            while time.monotonic() < deadline:
                if ready.exists():
                    answer = json.loads(ready.read_text())
                    self.url, self.iso8583 = str(answer["url"]), str(answer.get("iso8583", ""))
                    return self
                if not self.alive():
                    break
                time.sleep(0.02)
            why = last_line(errors.read_text(errors="replace")) if errors.exists() else ""
            self.stop()
            raise HostStartError(f"the bank host did not start: {why or 'no ready file in time'}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    @property
    def pid(self) -> int:
        return self._pid

    def alive(self) -> bool:
        if not self._pid:
            return False
        try:
            with open(f"/proc/{self._pid}/stat", encoding="ascii") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False

    def _signal_and_wait(self, signum: int, timeout_s: float) -> bool:
        try:
            os.kill(self._pid, signum)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(0.02)
        return False

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.alive():
            self._signal_and_wait(signal.SIGKILL, 10.0)

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.alive() and not self._signal_and_wait(signal.SIGTERM, timeout_s):
            self._signal_and_wait(signal.SIGKILL, timeout_s)


@pytest.fixture(scope="session")
def host_zygote() -> Iterator[HostZygote]:
    zygote = HostZygote()
    try:
        yield zygote
    finally:
        zygote.close()


def start_bank_host(template: Path, where: Path, zygote: HostZygote | None = None) -> BankHost:
    from app.hostproc import HostProcess, host_environment

    data = where / "host-data"
    shutil.copytree(template / "data", data)
    # The bank's keys: the embedded SoftHSM2 token's store beside the data dir (<data dir>-hsm).
    shutil.copytree(template / "data-hsm", data.with_name(data.name + "-hsm"))
    env = host_environment(data)
    process: Any = (
        ForkedHost(zygote, env).start() if zygote is not None else HostProcess(env, seed=False).start()
    )
    return BankHost(data, (template / "credential").read_text(encoding="utf-8"), process, process.url)


@pytest.fixture
def bank_host(tmp_path: Path, host_template: Path, host_zygote: HostZygote) -> Iterator[BankHost]:
    host = start_bank_host(host_template, tmp_path, host_zygote)
    try:
        yield host
    finally:
        host.close()
