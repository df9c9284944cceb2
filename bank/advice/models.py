"""The advice record: every questionnaire a customer completed, what was shown and what was refused.

Kept as evidence of suitability (who was assessed, with which questionnaire version and answers, which
level, which allocation was shown, which products were refused and which interests were registered with
their cooling-off). The customer id is not a foreign key on purpose: advice records are retained for the
regulator's period even after the customer's accounts are closed and removed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base, UtcDateTime


class AdviceRecord(Base):
    __tablename__ = "advice_records"
    __table_args__ = (
        CheckConstraint("level IN ('C1', 'C2', 'C3', 'C4', 'C5')", name="level"),
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        Index("ix_advice_records_customer_created", "customer_id", "created"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32))
    kiosk_id: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[int] = mapped_column(Integer)
    questionnaire_version: Mapped[str] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    band_level: Mapped[str] = mapped_column(String(2))
    level: Mapped[str] = mapped_column(String(2))
    caps: Mapped[list[Any]] = mapped_column(JSON)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    horizon_years: Mapped[int] = mapped_column(Integer)
    allocation: Mapped[list[Any]] = mapped_column(JSON)  # [{"product", "weight_bps", "minor"}]
    projection: Mapped[dict[str, Any]] = mapped_column(JSON)  # the final year's percentiles shown
    products_refused: Mapped[list[Any]] = mapped_column(JSON)  # [{"product", "risk", "reason", "at"}]
    products_interest: Mapped[list[Any]] = mapped_column(JSON)  # [{"product", "risk", "cooling_off_until"}]
    created: Mapped[datetime] = mapped_column(UtcDateTime)
    updated: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"AdviceRecord({self.id}, customer={self.customer_id}, level={self.level})"
