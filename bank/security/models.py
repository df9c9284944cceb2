"""Technician and supervisor accounts (maintenance mode). Passwords are argon2id hashes, never stored."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Integer, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bank.db.base import Base


class _UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out; SQLite stores it naive, PostgreSQL with its zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Technician(Base):
    __tablename__ = "technicians"
    __table_args__ = (CheckConstraint("role IN ('technician', 'supervisor')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))  # argon2id, PHC string format
    role: Mapped[str] = mapped_column(String(16))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(_UtcDateTime)
    last_login: Mapped[datetime | None] = mapped_column(_UtcDateTime)
    created: Mapped[datetime] = mapped_column(_UtcDateTime)

    def __repr__(self) -> str:
        return f"Technician({self.username!r}, role={self.role})"
