"""Technician accounts as the terminal sees them: kept and checked at the bank host, over its API.

The terminal never holds a password or a hash. A login asks the host; the session it answers with
(username, role) runs here, with the terminal's idle logout. The first supervisor is created at the host
(``smart-teller host tech add``), never from the touchscreen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hostlink import api
from hostlink.technicians import LoginOutcome, LoginResult, Role, TechError, TechInfo, TechSession
from kiosk.hostclient import HostClient, HostError, HostRefused

log = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class HostTechnicians:
    def __init__(
        self,
        host: HostClient,
        *,
        idle_minutes: int,
        new_key: Callable[[], str],
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.host = host
        self.idle = timedelta(minutes=idle_minutes)
        self.new_key = new_key
        self.clock = clock

    def has_any_technician(self) -> bool:
        try:
            return self.host.any_technician()
        except HostError:
            return True  # unknown: never offer to create the first supervisor from the touchscreen

    def add(self, username: str, password: str, role: Role | str, *, by: str | None = None) -> None:
        if by in (None, "first-start"):
            raise TechError("the first supervisor is created at the bank host: smart-teller host tech add")
        self._manage("add", username, by, password=password, role=Role(role).value)

    def authenticate(self, username: str, password: str) -> LoginResult:
        try:
            answer = self.host.tech_login(username, password)
        except HostRefused:
            return LoginResult(LoginOutcome.BAD_CREDENTIALS)
        outcome = LoginOutcome(answer.outcome)
        if outcome is LoginOutcome.OK:
            session = TechSession(answer.username, Role(answer.role), self.idle, self.clock(), self.clock)
            return LoginResult(outcome, session=session)
        locked_until = None
        if answer.locked_until:
            try:
                locked_until = datetime.fromisoformat(answer.locked_until)
            except ValueError:  # an older host answers "locked"
                locked_until = None
        return LoginResult(outcome, locked_until=locked_until, tries_left=answer.tries_left)

    def logout(self, session: TechSession, *, reason: str = "logout") -> None:
        try:
            self.host.tech_logout(session.username, reason)
        except HostError as exc:  # the session ends here whatever the host heard
            log.warning("technician logout not recorded at the host: %s", exc)

    def unlock(self, username: str, *, by: str | None = None) -> None:
        self._manage("unlock", username, by)

    def change_password(self, username: str, password: str, *, by: str | None = None) -> None:
        self._manage("password", username, by, password=password)

    def remove(self, username: str, *, by: str | None = None) -> None:
        self._manage("remove", username, by)

    def accounts(self) -> list[TechInfo]:
        return [
            TechInfo(
                t.username,
                Role(t.role),
                t.failed_logins,
                datetime.max.replace(tzinfo=UTC) if t.locked else None,
                datetime.fromisoformat(t.last_login) if t.last_login else None,
                datetime.fromisoformat(t.last_login) if t.last_login else self.clock(),
            )
            for t in self.host.technicians().technicians
        ]

    def _manage(
        self,
        action: str,
        username: str,
        by: str | None,
        *,
        password: str | None = None,
        role: str | None = None,
    ) -> None:
        order = api.TechManage(by=by or "", username=username, password=password, role=role)
        try:
            self.host.manage_technician(action, order, self.new_key())
        except HostRefused as exc:
            raise TechError(exc.message) from None
