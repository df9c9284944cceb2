"""Alerts for branch staff: raised from the kiosk, listed and acknowledged in maintenance.

Stored in the bank database (so the maintenance console, another process or another screen of the branch
sees them) and journaled. A customer pressing "call staff" twice in one session does not page twice: a
pending alert of the same kind for the same session is returned instead of a new one.

Wiring to the maintenance dashboard: ``StaffAlerts(engine, journal, kiosk_id).pending()`` polled every
few seconds (or after ``subscribe`` callbacks in the same process) and ``acknowledge(alert_id, by=...)``
when a technician or supervisor takes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bank.alerts.models import StaffAlert
from bank.models import utcnow

ALERT_KINDS = frozenset({"call_staff", "help_not_sure", "assisted_mode"})


class JournalLike(Protocol):
    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int: ...


@dataclass(frozen=True)
class Alert:
    id: int
    kind: str
    kiosk_id: str
    session_id: str | None
    lang: str
    topic: str
    status: str
    raised_at: datetime
    handled_by: str | None
    handled_at: datetime | None


def _alert(row: StaffAlert) -> Alert:
    return Alert(
        row.id,
        row.kind,
        row.kiosk_id,
        row.session_id,
        row.lang,
        row.topic,
        row.status,
        row.raised_at,
        row.handled_by,
        row.handled_at,
    )


class StaffAlerts:
    def __init__(
        self,
        engine: Engine,
        journal: JournalLike,
        kiosk_id: str = "",
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._journal = journal
        self._kiosk_id = kiosk_id
        self._clock = clock
        self._listeners: list[Callable[[Alert], None]] = []

    def subscribe(self, listener: Callable[[Alert], None]) -> None:
        """Called (on the raising thread) for every new alert in this process."""
        self._listeners.append(listener)

    def raise_alert(
        self,
        kind: str,
        kiosk_id: str | None = None,
        session_id: str | None = None,
        *,
        lang: str = "en",
        topic: str = "",
    ) -> Alert:
        if kind not in ALERT_KINDS:
            raise ValueError(f"unknown alert kind {kind!r}")
        kiosk = kiosk_id or self._kiosk_id
        with Session(self._engine) as session, session.begin():
            if session_id:
                existing = session.scalars(
                    select(StaffAlert).where(
                        StaffAlert.kind == kind,
                        StaffAlert.session_id == session_id,
                        StaffAlert.status == "pending",
                    )
                ).first()
                if existing is not None:
                    return _alert(existing)
            row = StaffAlert(
                kind=kind,
                kiosk_id=kiosk,
                session_id=session_id,
                lang=lang,
                topic=topic[:64],
                status="pending",
                raised_at=self._clock(),
            )
            session.add(row)
            session.flush()
            alert = _alert(row)
        self._journal.record(
            "staff_alert_raised",
            session_id=session_id,
            alert_id=alert.id,
            kind=kind,
            kiosk=kiosk,
            topic=topic,
        )
        for listener in list(self._listeners):
            listener(alert)
        return alert

    def pending(self) -> list[Alert]:
        """Alerts nobody has taken yet, oldest first."""
        with Session(self._engine) as session:
            rows = session.scalars(
                select(StaffAlert)
                .where(StaffAlert.status == "pending")
                .order_by(StaffAlert.raised_at, StaffAlert.id)
            )
            return [_alert(row) for row in rows]

    def get(self, alert_id: int) -> Alert | None:
        with Session(self._engine) as session:
            row = session.get(StaffAlert, alert_id)
            return _alert(row) if row is not None else None

    def acknowledge(self, alert_id: int, by: str) -> Alert:
        return self._handle(alert_id, by, "acknowledged")

    def resolve(self, alert_id: int, by: str) -> Alert:
        return self._handle(alert_id, by, "resolved")

    def _handle(self, alert_id: int, by: str, status: str) -> Alert:
        with Session(self._engine) as session, session.begin():
            row = session.get(StaffAlert, alert_id)
            if row is None:
                raise KeyError(f"no staff alert {alert_id}")
            if row.status == "resolved":
                return _alert(row)
            row.status = status
            row.handled_by = by
            row.handled_at = self._clock()
            session.flush()
            alert = _alert(row)
        self._journal.record(
            f"staff_alert_{status}", session_id=alert.session_id, alert_id=alert.id, kind=alert.kind, by=by
        )
        return alert
