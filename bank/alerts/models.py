"""Staff alerts: a customer pressed "call staff" (or the assistant could not help)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base, UtcDateTime


class StaffAlert(Base):
    __tablename__ = "staff_alerts"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'acknowledged', 'resolved')", name="status"),
        Index("ix_staff_alerts_status_raised", "status", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "call_staff", "help_not_sure", "assisted_mode" …
    kiosk_id: Mapped[str] = mapped_column(String(32))
    session_id: Mapped[str | None] = mapped_column(String(32))
    lang: Mapped[str] = mapped_column(String(8))
    topic: Mapped[str] = mapped_column(String(64))  # the FAQ entry or topic in view, "" if none
    status: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(32))
    handled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"StaffAlert({self.id}, {self.kind}, {self.status})"
