"""Bank tables: customers, accounts, cards, transfers and their immutable postings.

PII is stored as AES-GCM ciphertext (``EncryptedText``/``EncryptedBytes`` under the installed vault); the
values the kiosk must find rows by (ID number, phone, PAN) are also stored as keyed HMAC look-up hashes.
Amounts are integer minor units (``BigInteger``); a posting's sign is from the account's point of view:
positive credits it (the customer has more), negative debits it.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from bank.db.base import Base, UtcDateTime
from bank.security.vault import EncryptedBytes, EncryptedText, Vault
from hostlink.redaction import mask_pan


def utcnow() -> datetime:
    return datetime.now(UTC)


class AccountKind(enum.StrEnum):
    CURRENT = "current"
    SAVINGS = "savings"
    INTERNAL = "internal"  # the bank's own books: funding, clearing, fees


class AccountStatus(enum.StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    CLOSED = "closed"


class CardStatus(enum.StrEnum):
    ACTIVE = "active"
    RETAINED = "retained"
    BLOCKED = "blocked"
    PENDING_ISSUE = "pending_issue"


class TransferKind(enum.StrEnum):
    OWN = "own"  # between two accounts of one customer
    INTERNAL = "internal"  # to another customer of this bank
    OTHER_BANK = "other_bank"  # through the clearing house: pending until it settles or rejects
    FUNDING = "funding"  # from the bank's funding account (seed, opening deposit)


class TransferStatus(enum.StrEnum):
    PENDING = "pending"
    POSTED = "posted"
    VOIDED = "voided"


class InternalAccount(enum.StrEnum):
    """Bank-internal accounts, so every movement has two sides and the trial balance is zero."""

    FUNDING = "FUNDING"  # cash and capital that funds customer deposits (goes negative as it funds)
    CLEARING = "CLEARING"  # money owed to other banks until the clearing house settles
    FEES = "FEES"  # fee income


class Customer(Base):
    __tablename__ = "bank_customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(EncryptedText)
    id_type: Mapped[str] = mapped_column(String(16), default="resident_id")
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_number: Mapped[str] = mapped_column(EncryptedText)
    id_expiry: Mapped[date | None] = mapped_column(Date)  # None: long-term validity
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str] = mapped_column(EncryptedText)
    phone_hash: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(EncryptedText)
    occupation: Mapped[str] = mapped_column(String(64), default="")
    photo: Mapped[bytes | None] = mapped_column(EncryptedBytes)  # ID photo, JPEG
    face_template: Mapped[bytes | None] = mapped_column(EncryptedBytes)  # 128 float64 → bytes
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def __repr__(self) -> str:  # no PII in reprs (they end up in logs and tracebacks)
        return f"Customer(id={self.id})"


class Account(Base):
    __tablename__ = "bank_accounts"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'frozen', 'closed')", name="status"),
        CheckConstraint("kind IN ('current', 'savings', 'internal')", name="kind"),
        CheckConstraint("overdraft_limit_minor >= 0", name="overdraft_limit"),
        CheckConstraint("pending_debits_minor >= 0", name="pending_debits"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(19), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("bank_customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    internal_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=AccountStatus.ACTIVE.value)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    # Ledger balance (posted postings only) kept on the row for speed; `bank check` recomputes it.
    balance_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # Funds held by pending transfers: available = balance - pending debits (+ overdraft limit).
    pending_debits_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    overdraft_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    overdraft_limit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    daily_transfer_limit_minor: Mapped[int] = mapped_column(BigInteger, default=5_000_000)  # ¥50,000.00
    daily_transfer_count_limit: Mapped[int] = mapped_column(Integer, default=20)
    # Kiosk-channel usage on `limit_day` (bank-local date); reset when a transfer lands on a later day.
    limit_day: Mapped[date | None] = mapped_column(Date)
    day_amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    day_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    @property
    def available_minor(self) -> int:
        return self.balance_minor - self.pending_debits_minor

    def __repr__(self) -> str:
        return f"Account(id={self.id}, number=****{self.number[-4:]}, status={self.status})"


class Card(Base):
    __tablename__ = "bank_cards"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'retained', 'blocked', 'pending_issue')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"), index=True)
    pan_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pan_encrypted: Mapped[str] = mapped_column(EncryptedText)
    pan_masked: Mapped[str] = mapped_column(String(19))
    expiry: Mapped[str] = mapped_column(String(4))  # YYMM, as on track 2
    status: Mapped[str] = mapped_column(String(16), default=CardStatus.PENDING_ISSUE.value)
    pvv: Mapped[str | None] = mapped_column(String(64))  # PIN verification value from the HSM, never the PIN
    pin_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    def is_expired(self, today: date) -> bool:
        """A card is valid through the last day of its expiry month."""
        year, month = 2000 + int(self.expiry[:2]), int(self.expiry[2:])
        return (today.year, today.month) > (year, month)

    def __repr__(self) -> str:
        return f"Card(id={self.id}, pan={self.pan_masked}, status={self.status})"


# Partial-index predicates (the same text in the migration): only these rows are ever looked up by status.
PENDING_ONLY = "status = 'pending'"
VOIDED_ONLY = "status = 'voided'"


class Transfer(Base):
    __tablename__ = "bank_transfers"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("fee_minor >= 0", name="fee_not_negative"),
        CheckConstraint("status IN ('pending', 'posted', 'voided')", name="status"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
        # Every index here is written by every transfer's commit, so there are only the ones a query needs
        # (docs/ledger.md, "Indexes"). Look-ups by status only ever ask for pending rows (clearing, `bank
        # check`) or voided ones (loan scoring): partial indexes that a posted transfer — almost all of
        # them — never enters. No index on debit/credit_account_id: no query looks transfers up by account.
        Index(
            "ix_bank_transfers_pending_id",
            "id",
            sqlite_where=text(PENDING_ONLY),
            postgresql_where=text(PENDING_ONLY),
        ),
        Index(
            "ix_bank_transfers_voided_debit_account_id",
            "debit_account_id",
            sqlite_where=text(VOIDED_ONLY),
            postgresql_where=text(VOIDED_ONLY),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    # SHA-256 of the request: the same key with different parameters is refused, not silently answered.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    payee_bank_code: Mapped[str | None] = mapped_column(String(12))
    payee_account: Mapped[str | None] = mapped_column(String(34))
    payee_name: Mapped[str | None] = mapped_column(EncryptedText)
    description: Mapped[str] = mapped_column(String(80), default="")
    channel: Mapped[str] = mapped_column(String(16), default="kiosk")
    kiosk_id: Mapped[str] = mapped_column(String(32), default="")
    bank_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(64))

    @property
    def hold_minor(self) -> int:
        """What the transfer takes from the payer's account: amount plus fee."""
        return self.amount_minor + self.fee_minor


class Posting(Base):
    """One immutable line of the ledger. Never updated or deleted (enforced by database triggers too)."""

    __tablename__ = "bank_postings"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        # Statements and history: one account's postings, newest first (keyset-paged by id). Nothing looks
        # postings up by transfer except `bank check`, which joins the whole ledger (a hash join, or
        # SQLite's automatic index), so transfer_id has no index of its own.
        Index("ix_bank_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("bank_transfers.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("bank_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)  # + credit, - debit (account's point of view)
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)  # running balance for statements
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PostingImmutable(Exception):
    """Raised when code tries to change or delete a posting."""


@event.listens_for(Posting, "before_update")
def _refuse_posting_update(_mapper: Any, _connection: Any, target: Posting) -> None:
    raise PostingImmutable(f"posting {target.id} is immutable")


@event.listens_for(Posting, "before_delete")
def _refuse_posting_delete(_mapper: Any, _connection: Any, target: Posting) -> None:
    raise PostingImmutable(f"posting {target.id} is immutable")


# Database-level guards, so even raw SQL cannot rewrite history. The migration creates the same triggers.
SQLITE_IMMUTABLE_POSTINGS = (
    "CREATE TRIGGER IF NOT EXISTS bank_postings_no_update BEFORE UPDATE ON bank_postings "
    "BEGIN SELECT RAISE(ABORT, 'bank_postings are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS bank_postings_no_delete BEFORE DELETE ON bank_postings "
    "BEGIN SELECT RAISE(ABORT, 'bank_postings are immutable'); END",
)
POSTGRESQL_IMMUTABLE_POSTINGS = (
    "CREATE OR REPLACE FUNCTION bank_postings_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'bank_postings are immutable'; END $$",
    "CREATE TRIGGER bank_postings_no_change BEFORE UPDATE OR DELETE ON bank_postings "
    "FOR EACH ROW EXECUTE FUNCTION bank_postings_immutable()",
)


@event.listens_for(Posting.__table__, "after_create")
def _create_posting_triggers(_target: Any, connection: Any, **_kw: Any) -> None:
    statements = {"sqlite": SQLITE_IMMUTABLE_POSTINGS, "postgresql": POSTGRESQL_IMMUTABLE_POSTINGS}
    for statement in statements.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)


# -- look-ups -----------------------------------------------------------------------------------
def pan_lookup_hash(vault: Vault, pan: str) -> str:
    return vault.lookup_hash(pan, "pan")


def id_number_lookup_hash(vault: Vault, id_number: str) -> str:
    return vault.lookup_hash(id_number.strip().upper(), "id_number")


def phone_lookup_hash(vault: Vault, phone: str) -> str:
    return vault.lookup_hash("".join(ch for ch in phone if ch.isdigit() or ch == "+"), "phone")


def find_card_by_pan(session: Session, vault: Vault, pan: str) -> Card | None:
    """The card with this PAN (by keyed hash; the PAN itself is never queried in clear)."""
    return session.query(Card).filter(Card.pan_hash == pan_lookup_hash(vault, pan)).one_or_none()


def find_customer_by_id_number(session: Session, vault: Vault, id_number: str) -> Customer | None:
    return (
        session.query(Customer)
        .filter(Customer.id_number_hash == id_number_lookup_hash(vault, id_number))
        .one_or_none()
    )


def new_card(vault: Vault, *, account_id: int, pan: str, expiry: str, status: CardStatus) -> Card:
    return Card(
        account_id=account_id,
        pan_hash=pan_lookup_hash(vault, pan),
        pan_encrypted=pan,
        pan_masked=mask_pan(pan),
        expiry=expiry,
        status=status.value,
        pin_failures=0,
    )
