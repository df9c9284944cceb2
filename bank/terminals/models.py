"""The host's tables about terminals: who is enrolled, which nonces were seen, journal heads, API replies."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bank.db.base import Base
from bank.models import UtcDateTime, utcnow
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
    """A terminal's journal head (sequence, hash) as it arrived with a call; verification reads these."""

    __tablename__ = "host_journal_checkpoints"
    __table_args__ = (UniqueConstraint("terminal_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


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
