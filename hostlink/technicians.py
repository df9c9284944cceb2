"""Technicians and supervisors as both programs know them: roles, what each role may do, sessions, logins.

The host keeps the accounts and checks passwords (``bank/security/techs.py``); the terminal's maintenance
mode asks the host to authenticate, then enforces the role's actions and the idle logout itself.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

Clock = Callable[[], datetime]
MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")


def utc_now() -> datetime:
    return datetime.now(UTC)


class Role(enum.StrEnum):
    TECHNICIAN = "technician"
    SUPERVISOR = "supervisor"


class Action(enum.StrEnum):
    """What maintenance mode can do; the screen shows only what the role permits."""

    DEVICE_STATUS = "device_status"
    DEVICE_SELFTEST = "device_selftest"
    DEVICE_RESET = "device_reset"
    PRINT_TEST = "print_test"
    REPLENISH_CARDS = "replenish_cards"
    REPLENISH_PAPER = "replenish_paper"
    EMPTY_RETAIN_BIN = "empty_retain_bin"
    VIEW_JOURNAL = "view_journal"
    OUT_OF_SERVICE = "out_of_service"
    ACCOUNT_MANAGEMENT = "account_management"
    LOAN_REVIEW = "loan_review"
    EXPORT_JOURNAL = "export_journal"
    TECH_MANAGEMENT = "tech_management"
    SECURITY_MONITOR = "security_monitor"  # the security events feed and its alerts


_DEVICE_WORK = frozenset(
    {
        Action.DEVICE_STATUS,
        Action.DEVICE_SELFTEST,
        Action.DEVICE_RESET,
        Action.PRINT_TEST,
        Action.REPLENISH_CARDS,
        Action.REPLENISH_PAPER,
        Action.EMPTY_RETAIN_BIN,
        Action.VIEW_JOURNAL,
        Action.SECURITY_MONITOR,
    }
)
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.TECHNICIAN: _DEVICE_WORK,
    Role.SUPERVISOR: _DEVICE_WORK
    | {
        Action.OUT_OF_SERVICE,
        Action.ACCOUNT_MANAGEMENT,
        Action.LOAN_REVIEW,
        Action.EXPORT_JOURNAL,
        Action.TECH_MANAGEMENT,
    },
}


def is_allowed(role: Role | str, action: Action | str) -> bool:
    return Action(action) in PERMISSIONS[Role(role)]


class TechError(Exception):
    """A bad request (duplicate or malformed username, weak password, unknown account)."""


@dataclass
class TechSession:
    """A logged-in technician; the maintenance UI calls ``touch()`` on input and checks ``expired()``."""

    username: str
    role: Role
    idle_timeout: timedelta
    last_activity: datetime
    clock: Clock = field(default=utc_now, repr=False)

    def touch(self, now: datetime | None = None) -> None:
        self.last_activity = now or self.clock()

    def remaining(self, now: datetime | None = None) -> timedelta:
        left = self.last_activity + self.idle_timeout - (now or self.clock())
        return max(left, timedelta(0))

    def expired(self, now: datetime | None = None) -> bool:
        return self.remaining(now) <= timedelta(0)

    def may(self, action: Action | str) -> bool:
        return is_allowed(self.role, action)


class LoginOutcome(enum.StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    session: TechSession | None = None
    locked_until: datetime | None = None
    tries_left: int | None = None


@dataclass(frozen=True)
class TechInfo:
    username: str
    role: Role
    failed_logins: int
    locked_until: datetime | None
    last_login: datetime | None
    created: datetime


def check_password_policy(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if password.isdigit() or password.isalpha():
        return "password must mix letters with digits or symbols"
    return None


class TechnicianDirectory(Protocol):
    """Where maintenance mode looks technicians up: the host (over the API) or, in the host's own tools,
    its database."""

    def has_any_technician(self) -> bool: ...

    def add(self, username: str, password: str, role: Role | str, *, by: str | None = None) -> None: ...

    def authenticate(self, username: str, password: str) -> LoginResult: ...

    def logout(self, session: TechSession, *, reason: str = "logout") -> None: ...

    def unlock(self, username: str, *, by: str | None = None) -> None: ...

    def change_password(self, username: str, password: str, *, by: str | None = None) -> None: ...

    def remove(self, username: str, *, by: str | None = None) -> None: ...

    def accounts(self) -> list[TechInfo]: ...
