"""Shared fixtures: a throw-away PostgreSQL server for tests marked ``postgres``; the bank host as its own
process on a copy of a seeded data dir."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks._pgserver import PostgresUnavailable, ThrowawayPostgres, find_pg_bin


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
    host fixture starts from a copy (database and keys), which is what a fresh seeded bank is."""
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


def start_bank_host(template: Path, where: Path) -> BankHost:
    from app.hostproc import HostProcess, host_environment

    data = where / "host-data"
    shutil.copytree(template / "data", data)
    process = HostProcess(host_environment(data), seed=False).start()
    return BankHost(data, (template / "credential").read_text(encoding="utf-8"), process, process.url)


@pytest.fixture
def bank_host(tmp_path: Path, host_template: Path) -> Iterator[BankHost]:
    host = start_bank_host(host_template, tmp_path)
    try:
        yield host
    finally:
        host.close()
