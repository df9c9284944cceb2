"""Technician and supervisor accounts: argon2id passwords, lock-out, idle logout, roles → actions.

No default credentials exist: the first supervisor is made at the host with ``smart-teller host tech add``
(never from a touchscreen). After ``tech_lockout_failures`` wrong passwords in a row the account is
locked for ``tech_lockout_minutes``; while locked, even the right password is refused (and
not checked, so a locked account tells a guesser nothing). An unknown username is answered exactly as
a known one with a wrong password: the same argon2 verification (against a hash made by the same hasher),
the same tries left, and the same lock-out after the same number of tries, counted per name in
:class:`UnknownNameLockouts` (one per host process, bounded), so trying names tells a guesser nothing
about which exist. A :class:`TechSession` ends after ``tech_idle_minutes`` without input.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bank.audit import AuditPort
from bank.security.models import Technician
from bank.settings import SecuritySettings
from hostlink.technicians import (
    _USERNAME,
    Clock,
    LoginOutcome,
    LoginResult,
    Role,
    TechError,
    TechInfo,
    TechSession,
    check_password_policy,
    utc_now,
)


class UnknownNameLockouts:
    """Failed-login counters for usernames that have no account, kept like a real account's
    (``failed_logins``, ``locked_until``) so an unknown name locks after the same tries. In memory,
    shared by every :class:`TechnicianService` of one host; the oldest of more than ``capacity`` names
    is forgotten, so trying millions of names cannot exhaust memory."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[int, datetime | None]] = OrderedDict()
        self._dummy_hashes: dict[tuple[int, int, int, int, int], str] = {}

    def get(self, username: str) -> tuple[int, datetime | None]:
        with self._lock:
            return self._entries.get(username, (0, None))

    def put(self, username: str, failures: int, locked_until: datetime | None) -> None:
        with self._lock:
            self._entries[username] = (failures, locked_until)
            self._entries.move_to_end(username)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def dummy_hash(self, hasher: PasswordHasher) -> str:
        """A hash made with ``hasher``'s parameters, verified for unknown names so they cost the same."""
        key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len, hasher.salt_len)
        with self._lock:
            if key not in self._dummy_hashes:
                self._dummy_hashes[key] = hasher.hash("timing equaliser for unknown usernames")
            return self._dummy_hashes[key]


class TechnicianService:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        security: SecuritySettings,
        *,
        clock: Clock = utc_now,
        hasher: PasswordHasher | None = None,
        journal: AuditPort | None = None,
        unknown_names: UnknownNameLockouts | None = None,
    ) -> None:
        self._sessions = sessions
        self._max_failures = security.tech_lockout_failures
        self._lockout = timedelta(minutes=security.tech_lockout_minutes)
        self._idle = timedelta(minutes=security.tech_idle_minutes)
        self._clock = clock
        self._hasher = hasher or PasswordHasher()  # argon2id, RFC 9106 low-memory profile
        self._journal = journal
        self._unknown = unknown_names if unknown_names is not None else UnknownNameLockouts()
        self._dummy_hash = self._unknown.dummy_hash(self._hasher)

    def _record(self, event: str, **fields: Any) -> None:
        if self._journal is not None:
            self._journal.record(event, **fields)

    def has_any_technician(self) -> bool:
        with self._sessions() as db:
            return bool(db.scalar(select(func.count()).select_from(Technician)))

    def add(
        self, username: str, password: str, role: Role | str = Role.TECHNICIAN, *, by: str | None = None
    ) -> None:
        if not _USERNAME.match(username):
            raise TechError("username must be 3-32 characters: lower-case letters, digits, '.', '_' or '-'")
        problem = check_password_policy(password)
        if problem:
            raise TechError(problem)
        try:
            role = Role(role)
        except ValueError:
            raise TechError(f"role must be one of {', '.join(r.value for r in Role)}") from None
        try:
            with self._sessions.begin() as db:
                db.add(
                    Technician(
                        username=username,
                        password_hash=self._hasher.hash(password),
                        role=role.value,
                        failed_logins=0,
                        created=self._clock(),
                    )
                )
        except IntegrityError:
            raise TechError(f"technician {username!r} already exists") from None
        self._record("tech_added", username=username, role=role.value, by=by)

    def authenticate(self, username: str, password: str) -> LoginResult:
        now = self._clock()
        with self._sessions.begin() as db:
            tech = db.scalars(select(Technician).where(Technician.username == username)).one_or_none()
            if tech is None:
                result = self._unknown_name(username, password, now)
            elif tech.locked_until is not None and tech.locked_until > now:
                result = LoginResult(LoginOutcome.LOCKED, locked_until=tech.locked_until)
            else:
                if tech.locked_until is not None:  # the lock-out has run out: a fresh set of tries
                    tech.locked_until, tech.failed_logins = None, 0
                if self._verify(tech.password_hash, password):
                    tech.failed_logins = 0
                    tech.last_login = now
                    if self._hasher.check_needs_rehash(tech.password_hash):
                        tech.password_hash = self._hasher.hash(password)
                    session = TechSession(tech.username, Role(tech.role), self._idle, now, self._clock)
                    result = LoginResult(LoginOutcome.OK, session=session)
                else:
                    tech.failed_logins += 1
                    if tech.failed_logins >= self._max_failures:
                        tech.locked_until = now + self._lockout
                        result = LoginResult(LoginOutcome.LOCKED, locked_until=tech.locked_until)
                    else:
                        left = self._max_failures - tech.failed_logins
                        result = LoginResult(LoginOutcome.BAD_CREDENTIALS, tries_left=left)
        event = {
            LoginOutcome.OK: "tech_login",
            LoginOutcome.BAD_CREDENTIALS: "tech_login_failed",
            LoginOutcome.LOCKED: "tech_login_locked",
        }[result.outcome]
        self._record(
            event, username=username if tech is not None else "<unknown>", outcome=result.outcome.value
        )
        return result

    def _unknown_name(self, username: str, password: str, now: datetime) -> LoginResult:
        """What a known name with a wrong password gets, step for step (see :meth:`authenticate`)."""
        failures, locked_until = self._unknown.get(username)
        if locked_until is not None and locked_until > now:
            return LoginResult(LoginOutcome.LOCKED, locked_until=locked_until)
        if locked_until is not None:
            failures = 0
        self._verify(self._dummy_hash, password)  # always False: no hash of this name exists
        failures += 1
        if failures >= self._max_failures:
            locked_until = now + self._lockout
            self._unknown.put(username, failures, locked_until)
            return LoginResult(LoginOutcome.LOCKED, locked_until=locked_until)
        self._unknown.put(username, failures, None)
        return LoginResult(LoginOutcome.BAD_CREDENTIALS, tries_left=self._max_failures - failures)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def logout(self, session: TechSession, *, reason: str = "logout") -> None:
        self._record("tech_logout", username=session.username, reason=reason)

    def unlock(self, username: str, *, by: str | None = None) -> None:
        with self._sessions.begin() as db:
            tech = db.scalars(select(Technician).where(Technician.username == username)).one_or_none()
            if tech is None:
                raise TechError(f"no technician {username!r}")
            tech.locked_until, tech.failed_logins = None, 0
        self._record("tech_unlocked", username=username, by=by)

    def change_password(self, username: str, password: str, *, by: str | None = None) -> None:
        problem = check_password_policy(password)
        if problem:
            raise TechError(problem)
        with self._sessions.begin() as db:
            tech = db.scalars(select(Technician).where(Technician.username == username)).one_or_none()
            if tech is None:
                raise TechError(f"no technician {username!r}")
            tech.password_hash = self._hasher.hash(password)
        self._record("tech_password_changed", username=username, by=by)

    def remove(self, username: str, *, by: str | None = None) -> None:
        with self._sessions.begin() as db:
            tech = db.scalars(select(Technician).where(Technician.username == username)).one_or_none()
            if tech is None:
                raise TechError(f"no technician {username!r}")
            db.delete(tech)
        self._record("tech_removed", username=username, by=by)

    def accounts(self) -> list[TechInfo]:
        with self._sessions() as db:
            techs = db.scalars(select(Technician).order_by(Technician.username)).all()
            return [
                TechInfo(t.username, Role(t.role), t.failed_logins, t.locked_until, t.last_login, t.created)
                for t in techs
            ]
