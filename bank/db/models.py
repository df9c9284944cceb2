"""Terminal-wide tables that belong to no single area."""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base


class KioskMeta(Base):
    """Key/value facts about this database: seed version, schema notes."""

    __tablename__ = "kiosk_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(512))
