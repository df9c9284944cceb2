"""Fixtures for the bank tests: a migrated SQLite bank with an ephemeral vault and the seed data."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from bank.security.vault import Vault, install_vault
from bank.seed import seed_bank


def stand_in_pvv(pan: str, pin: str) -> str:
    """Tests' stand-in for the HSM: a keyed hash of PAN and PIN (the real one lives in kiosk.security)."""
    return hashlib.sha256(f"test-hsm|{pan}|{pin}".encode()).hexdigest()[:16]


class FakeClock:
    """A settable UTC clock so bank days and clearing delays are under the test's control."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def vault() -> Vault:
    vault = Vault.ephemeral()
    install_vault(vault)
    return vault


@pytest.fixture
def engine(tmp_path: Path, vault: Vault) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded(engine: Engine, vault: Vault) -> Engine:
    with Session(engine) as session:
        seed_bank(session, vault, pvv_for=stand_in_pvv)
    return engine


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pvv_for() -> object:
    return stand_in_pvv


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """A fresh, migrated database on the session's PostgreSQL server; dropped afterwards."""
    import uuid

    name = f"bank_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"CREATE DATABASE {name}")
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def bank_engine(request: pytest.FixtureRequest, engine: Engine) -> Iterator[Engine]:
    """A migrated, empty bank: on SQLite, and on a fresh database of the session's PostgreSQL."""
    if request.param == "sqlite":
        yield engine
        return
    pg = make_engine(request.getfixturevalue("pg_database"))
    yield pg
    pg.dispose()
