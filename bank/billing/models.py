"""Bill payments made (one row per ledger transfer) and scheduled monthly payments.

Biller customer numbers can be phone numbers (PII): they are kept as a keyed look-up hash and a masked
form; a schedule, which must pay the number again next month, also keeps it AES-GCM encrypted.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base, UtcDateTime
from bank.models import utcnow
from bank.security.vault import EncryptedText


class ScheduleStatus(enum.StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"


class BillPayment(Base):
    __tablename__ = "bill_payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index("ix_bill_payments_biller_account_period", "biller_code", "account_hash", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("bank_transfers.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("bank_customers.id"), index=True)
    from_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    biller_code: Mapped[str] = mapped_column(String(16))
    account_hash: Mapped[str] = mapped_column(String(64))
    account_masked: Mapped[str] = mapped_column(String(24))
    period: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM of the bill; None for a top-up
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("bill_schedules.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class BillSchedule(Base):
    __tablename__ = "bill_schedules"
    __table_args__ = (
        CheckConstraint("day_of_month BETWEEN 1 AND 28", name="day_of_month"),
        CheckConstraint("status IN ('active', 'cancelled')", name="status"),
        CheckConstraint("amount_minor IS NULL OR amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("bank_customers.id"), index=True)
    from_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    biller_code: Mapped[str] = mapped_column(String(16))
    account_number: Mapped[str] = mapped_column(EncryptedText)
    account_hash: Mapped[str] = mapped_column(String(64))
    account_masked: Mapped[str] = mapped_column(String(24))
    # None: pay whatever the biller says is due that month (utilities); a fixed amount for top-ups.
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    day_of_month: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=ScheduleStatus.ACTIVE.value)
    last_period: Mapped[str | None] = mapped_column(String(7))  # the last month run_due handled
    last_result: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:
        return f"BillSchedule(id={self.id}, biller={self.biller_code}, account={self.account_masked})"
