"""The host's record of forwarding other-bank transfers to the interbank switch (one row per transfer).

``state`` moves only forward, each step a conditional UPDATE that names the state it leaves, so host
processes sharing the database never forward a transfer twice nor both post and void it::

    new ──claim──▶ sent ──0210 00──▶ approved            (then ledger.post_pending)
                    │  ──0210 other─▶ declined            (then ledger.void_pending)
                    └──no answer────▶ reversing ──0430──▶ reversed   (then ledger.void_pending)

A terminal's reversal (0420 to the host, :mod:`bank.switch.reversal`) adds three edges: new → reversed
(never sent: voided at once), sent → reversing, and approved → reversing (the 0430 then compensates the
posted transfer instead of voiding it).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base, UtcDateTime
from bank.models import utcnow


class ForwardingState(enum.StrEnum):
    NEW = "new"  # pending in the ledger, not sent yet
    SENT = "sent"  # 0200 on its way (or sent): the answer decides
    APPROVED = "approved"  # 0210 00: post the held funds
    DECLINED = "declined"  # 0210 with another code: void the hold
    REVERSING = "reversing"  # no answer in time: 0420, then 0421 until an 0430
    REVERSED = "reversed"  # 0430 came: void the hold


STATES_SQL = ", ".join(f"'{state.value}'" for state in ForwardingState)


class SwitchForwarding(Base):
    __tablename__ = "host_switch_forwarding"
    __table_args__ = (
        CheckConstraint(f"state IN ({STATES_SQL})", name="state"),
        Index("ix_host_switch_forwarding_state", "state"),
    )

    transfer_id: Mapped[int] = mapped_column(ForeignKey("bank_transfers.id"), primary_key=True)
    stan: Mapped[str | None] = mapped_column(String(6), nullable=True)  # DE11 of the 0200 (and reversals)
    transmission_time: Mapped[str | None] = mapped_column(String(10), nullable=True)  # DE7 of the 0200
    state: Mapped[str] = mapped_column(String(16), default=ForwardingState.NEW.value)
    # Messages sent for the transfer (the 0200, then each 0420/0421); also the row's version: a reversal
    # send is claimed by UPDATE ... WHERE attempts = <the value read>.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response_code: Mapped[str | None] = mapped_column(String(2), nullable=True)  # DE39 of the 0210
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
