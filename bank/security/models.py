"""Technician and supervisor accounts (maintenance mode). Passwords are argon2id hashes, never stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base, UtcDateTime


class Technician(Base):
    __tablename__ = "technicians"
    __table_args__ = (CheckConstraint("role IN ('technician', 'supervisor')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id, PHC string format
    role: Mapped[str] = mapped_column(String(16))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_login: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"Technician({self.username!r}, role={self.role})"
