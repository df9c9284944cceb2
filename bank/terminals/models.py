"""The host's tables about terminals: who is enrolled, which nonces were seen, journal heads, API replies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base, UtcDateTime
from bank.models import utcnow
from bank.security.vault import EncryptedBytes


class TerminalStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Terminal(Base):
    """One enrolled terminal. Its secret signs every request; stored encrypted under the host's vault."""

    __tablename__ = "host_terminals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=TerminalStatus.ACTIVE.value)
    secret: Mapped[bytes] = mapped_column(EncryptedBytes())
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    journal_seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    journal_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class SeenNonce(Base):
    """A request nonce already used by a terminal: the same signed request twice is a replay."""

    __tablename__ = "host_nonces"
    __table_args__ = (UniqueConstraint("terminal_id", "nonce"), Index("ix_host_nonces_seen_at", "seen_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class JournalCheckpoint(Base):
    """A terminal's journal head (sequence, hash) as it arrived with a call, or as the terminal anchored it
    on purpose (``POST /v1/journal/checkpoints``: then with its record count and the host's seal);
    verification against the host reads these."""

    __tablename__ = "host_journal_checkpoints"
    __table_args__ = (UniqueConstraint("terminal_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    records: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    seal: Mapped[str | None] = mapped_column(String(64), nullable=True)


class IdempotentReply(Base):
    """The answer to a mutating call, kept under its idempotency key so a retry gets the same answer."""

    __tablename__ = "host_idempotent_replies"
    __table_args__ = (UniqueConstraint("terminal_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(96))
    endpoint: Mapped[str] = mapped_column(String(96))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # in_progress | done
    # Encrypted: an account opening's answer carries the new card's PAN.
    reply: Mapped[bytes | None] = mapped_column(EncryptedBytes(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class AuditEvent(Base):
    """The host's own trail (refused terminals, PIN checks, technician logins, …): masked values only."""

    __tablename__ = "host_audit"
    __table_args__ = (Index("ix_host_audit_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    host_id: Mapped[str] = mapped_column(String(32))
    terminal_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    event: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text, default="{}")


class TerminalKeys(Base):
    """A terminal's key hierarchy at the host: the TMK loaded into its PIN pad at enrolment, and the TPK and
    TAK of its current ISO 8583 session (sent under the TMK at sign-on). Key values are vault-encrypted;
    the check values are public by design (they identify a key, they do not reveal it)."""

    __tablename__ = "host_terminal_keys"

    terminal_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tmk: Mapped[bytes] = mapped_column(EncryptedBytes())
    tmk_kcv: Mapped[str] = mapped_column(String(6))
    tpk: Mapped[bytes | None] = mapped_column(EncryptedBytes(), nullable=True)
    tpk_kcv: Mapped[str | None] = mapped_column(String(6), nullable=True)
    tak: Mapped[bytes | None] = mapped_column(EncryptedBytes(), nullable=True)
    tak_kcv: Mapped[str | None] = mapped_column(String(6), nullable=True)
    key_version: Mapped[int] = mapped_column(Integer, default=0)
    signed_on_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class IsoTransaction(Base):
    """One ISO 8583 request the host answered, by (terminal, STAN, transmission time): a duplicate is
    answered from here instead of acting twice, and a reversal finds what it reverses."""

    __tablename__ = "host_iso_transactions"
    __table_args__ = (UniqueConstraint("terminal_id", "stan", "transmission_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    # STAN and DE7 as numbers: stored as digits side by side, with DE3 and DE39, they made long digit runs
    # a secret scan cannot tell from a PAN glued to a neighbouring column.
    stan: Mapped[int] = mapped_column(Integer)
    transmission_time: Mapped[int] = mapped_column(BigInteger)  # MMDDhhmmss
    mti: Mapped[str] = mapped_column(String(4))
    processing_code: Mapped[str] = mapped_column(String(6))
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    response_code: Mapped[str] = mapped_column(String(2))
    auth_id: Mapped[str | None] = mapped_column(String(6), nullable=True)
    # The ledger transfer (or bill payment) it made, and the idempotency key it used there.
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # None, or what its reversal did: reversed | nothing_to_reverse | failed
    reversal: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # SHA-256 of the request without its MAC: a true duplicate matches; another request that reuses the
    # (terminal, STAN, DE7) triple does not, and is refused instead of answered as the first.
    request_hash: Mapped[str] = mapped_column(String(64))
    # The answer as sent, without its MAC: a duplicate gets it again (MACed under the current TAK).
    # Vault-encrypted: it holds balances and statement lines.
    response: Mapped[bytes] = mapped_column(EncryptedBytes())
    # The card of a PIN check (0100): a stored-and-forwarded retained-card advice names the PIN check.
    card_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
