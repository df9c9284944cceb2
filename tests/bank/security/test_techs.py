"""Technician accounts: argon2id, lock-out after 5 failures for 30 minutes, idle logout, roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bank.db.base import Base
from bank.db.engine import make_engine, session_factory
from bank.security.models import Technician
from bank.security.techs import TechnicianService
from hostlink.technicians import Action, LoginOutcome, Role, TechError, TechSession, is_allowed
from kiosk.settings import SecuritySettings

PASSWORD = "correct-horse-7"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'techs.db'}")
    Base.metadata.create_all(engine, tables=[Technician.__table__])  # type: ignore[list-item]
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(sessions: sessionmaker[Session], clock: Clock) -> TechnicianService:
    # Small argon2 cost keeps the test fast; the hash is still argon2id.
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    return TechnicianService(sessions, SecuritySettings(), clock=clock, hasher=hasher)


def test_no_default_account_and_argon2id_storage(
    service: TechnicianService, sessions: sessionmaker[Session]
) -> None:
    assert not service.has_any_technician()
    service.add("alice", PASSWORD, Role.SUPERVISOR)
    assert service.has_any_technician()
    with sessions() as db:
        stored = db.scalars(select(Technician.password_hash)).one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(TechError):
        service.add("alice", PASSWORD)
    with pytest.raises(TechError):
        service.add("bob", "short1")
    with pytest.raises(TechError):
        service.add("Bad Name", PASSWORD)
    with pytest.raises(TechError):
        service.add("carol", PASSWORD, "admin")


def test_lockout_after_five_failures_for_thirty_minutes(service: TechnicianService, clock: Clock) -> None:
    service.add("tom", PASSWORD)
    for left in (4, 3, 2, 1):
        result = service.authenticate("tom", "wrong-password-1")
        assert (result.outcome, result.tries_left) == (LoginOutcome.BAD_CREDENTIALS, left)
    fifth = service.authenticate("tom", "wrong-password-1")
    assert fifth.outcome is LoginOutcome.LOCKED
    assert fifth.locked_until == clock.now + timedelta(minutes=30)
    clock.now += timedelta(minutes=29, seconds=59)
    assert service.authenticate("tom", PASSWORD).outcome is LoginOutcome.LOCKED  # right password refused
    clock.now += timedelta(seconds=2)
    ok = service.authenticate("tom", PASSWORD)
    assert ok.outcome is LoginOutcome.OK and ok.session is not None
    assert [t.failed_logins for t in service.accounts()] == [0]


def test_unlock_and_unknown_user(service: TechnicianService) -> None:
    service.add("tom", PASSWORD)
    for _ in range(5):
        service.authenticate("tom", "nope-nope-1")
    assert service.authenticate("tom", PASSWORD).outcome is LoginOutcome.LOCKED
    service.unlock("tom", by="alice")
    assert service.authenticate("tom", PASSWORD).outcome is LoginOutcome.OK
    assert service.authenticate("nobody", PASSWORD).outcome is LoginOutcome.BAD_CREDENTIALS
    with pytest.raises(TechError):
        service.unlock("nobody")


def test_idle_session_expires_after_fifteen_minutes(service: TechnicianService, clock: Clock) -> None:
    service.add("tom", PASSWORD)
    session = service.authenticate("tom", PASSWORD).session
    assert isinstance(session, TechSession)
    clock.now += timedelta(minutes=10)
    assert session.remaining() == timedelta(minutes=5) and not session.expired()
    session.touch()
    clock.now += timedelta(minutes=14, seconds=59)
    assert not session.expired()
    clock.now += timedelta(seconds=1)
    assert session.expired() and session.remaining() == timedelta(0)


def test_roles_decide_the_actions(service: TechnicianService) -> None:
    service.add("tech1", PASSWORD, Role.TECHNICIAN)
    service.add("boss1", PASSWORD, Role.SUPERVISOR)
    tech = service.authenticate("tech1", PASSWORD).session
    boss = service.authenticate("boss1", PASSWORD).session
    assert tech is not None and boss is not None
    assert tech.may(Action.DEVICE_SELFTEST) and tech.may(Action.REPLENISH_PAPER)
    for action in (
        Action.OUT_OF_SERVICE,
        Action.ACCOUNT_MANAGEMENT,
        Action.LOAN_REVIEW,
        Action.TECH_MANAGEMENT,
    ):
        assert not tech.may(action)
        assert boss.may(action)
    assert all(is_allowed(Role.SUPERVISOR, action) for action in Action)
