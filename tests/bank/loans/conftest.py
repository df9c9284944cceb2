"""A migrated SQLite bank (every revision, the bill and loan tables included) with the seed customers."""

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


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Beijing, 10 March

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def vault() -> Vault:
    vault = Vault.ephemeral()
    install_vault(vault)
    return vault


@pytest.fixture
def bank(tmp_path: Path, vault: Vault) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    with Session(engine) as session:
        seed_bank(
            session, vault, pvv_for=lambda pan, pin: hashlib.sha256(f"{pan}|{pin}".encode()).hexdigest()[:16]
        )
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
