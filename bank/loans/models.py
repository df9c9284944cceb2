"""Loan applications with their full explanation, and the blacklist the hard rules consult.

An application row keeps everything needed to explain the decision later: the inputs, each model
attribute with its value and points, the probability of default and the model version, every hard rule
that fired, the reasons shown to the customer and the attributes that cost the most points (as catalogue
keys), and the bank's own facts about the customer for the reviewer. Referred applications wait in the
supervisor's review queue (``status = pending_review``).
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base, UtcDateTime
from bank.models import utcnow


class LoanOutcome(enum.StrEnum):
    APPROVE = "approve"
    DECLINE = "decline"
    REFER = "refer"


class LoanStatus(enum.StrEnum):
    DECIDED = "decided"  # approved or declined by the model; final at the kiosk
    PENDING_REVIEW = "pending_review"  # referred: waits for a supervisor
    REVIEW_APPROVED = "review_approved"
    REVIEW_DECLINED = "review_declined"


class LoanApplication(Base):
    __tablename__ = "loan_applications"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("term_months > 0", name="term_positive"),
        CheckConstraint("outcome IN ('approve', 'decline', 'refer')", name="outcome"),
        CheckConstraint(
            "status IN ('decided', 'pending_review', 'review_approved', 'review_declined')", name="status"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("bank_customers.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    session_id: Mapped[str] = mapped_column(String(32), default="")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    term_months: Mapped[int] = mapped_column(Integer)
    monthly_income_minor: Mapped[int] = mapped_column(BigInteger)
    monthly_debt_minor: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(32))
    instalment_minor: Mapped[int] = mapped_column(BigInteger)
    score: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    factors: Mapped[list[Any]] = mapped_column(JSON)  # [[attribute, value, points], ...]
    rule_hits: Mapped[list[Any]] = mapped_column(JSON)  # [[rule, detail], ...]
    reasons: Mapped[list[Any]] = mapped_column(JSON)  # catalogue keys shown to the customer
    model_version: Mapped[str] = mapped_column(String(16))  # the artefact that scored it (e.g. GC-1)
    # Since model GC-1 (migration 0010); empty on older rows.
    default_probability: Mapped[float | None] = mapped_column(Float)
    adverse_reasons: Mapped[list[Any] | None] = mapped_column(JSON)  # catalogue keys, most points lost first
    bank_history: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the bank's facts, for the reviewer
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(32))
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    review_note: Mapped[str | None] = mapped_column(String(200))

    def __repr__(self) -> str:
        return f"LoanApplication(id={self.id}, ref={self.reference}, outcome={self.outcome})"


class LoanBlacklist(Base):
    """People the bank will not lend to (fraud, written-off debt), by keyed hash of the ID number."""

    __tablename__ = "loan_blacklist"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
