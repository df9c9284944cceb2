"""Enrolment, request authentication, journal checkpoints and idempotent replies, all in the database.

Everything a host process knows about terminals is in these tables, so any number of host processes on
one database answer alike: a nonce one process has seen is refused by the next, and a reply one process
stored under an idempotency key is what the next one replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bank.audit import HostAudit
from bank.models import utcnow
from bank.terminals.models import IdempotentReply, JournalCheckpoint, SeenNonce, Terminal, TerminalStatus
from hostlink import signing
from hostlink.api import RefusalCode

log = logging.getLogger(__name__)

TERMINAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
# A reply stuck "in progress" this long belongs to a host process that died mid-request.
STALE_IN_PROGRESS = timedelta(seconds=30)


def _insert_for(connection: Connection) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO NOTHING (SQLite and PostgreSQL both do)."""
    if connection.dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert


JOURNAL_SEAL_DOMAIN = "journal-seal-key-v1"


def journal_seal(key: bytes, terminal_id: str, seq: int, digest: str, records: int) -> str:
    """HMAC-SHA256 under the terminal's journal key over one checkpoint (hex)."""
    message = f"smart-teller-journal-seal-v1\n{terminal_id}\n{seq}\n{digest}\n{records}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


class EnrolmentError(Exception):
    """A terminal ID that is malformed, already enrolled, or unknown."""


class AuthRefused(Exception):
    def __init__(self, code: RefusalCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TerminalInfo:
    terminal_id: str
    status: str
    enrolled_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    journal_seq: int | None
    journal_hash: str | None


@dataclass(frozen=True)
class Reservation:
    """What :meth:`TerminalRegistry.reserve` found: a stored reply to replay, or a fresh claim."""

    replay: bytes | None
    reply_id: int | None


class TerminalRegistry:
    def __init__(
        self,
        engine: Engine,
        audit: HostAudit,
        *,
        clock_skew_s: int = 300,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.audit = audit
        self.skew = timedelta(seconds=clock_skew_s)
        self.clock = clock

    # -- enrolment --
    def enrol(self, terminal_id: str, *, by: str = "cli") -> str:
        """Enrol a new terminal; returns its one-line credential. Refuses an ID already enrolled."""
        if not TERMINAL_ID.match(terminal_id):
            raise EnrolmentError(
                f"terminal ID {terminal_id!r} must be 1-32 letters, digits, '.', '_' or '-' (starting with"
                " a letter or digit)"
            )
        secret = signing.new_secret()
        try:
            with Session(self.engine) as session, session.begin():
                session.add(Terminal(terminal_id=terminal_id, secret=secret, enrolled_at=self.clock()))
        except IntegrityError:
            self.audit.record("terminal_enrol_refused", terminal_id=terminal_id, reason="duplicate", by=by)
            raise EnrolmentError(f"terminal {terminal_id} is already enrolled; IDs are unique") from None
        self.audit.record("terminal_enrolled", terminal_id=terminal_id, by=by)
        return signing.encode_credential(terminal_id, secret)

    def rotate(self, terminal_id: str, *, by: str = "cli") -> str:
        """A new secret for an enrolled terminal (re-enrolment); the old secret stops working at once."""
        secret = signing.new_secret()
        with Session(self.engine) as session, session.begin():
            terminal = session.scalars(
                select(Terminal).where(Terminal.terminal_id == terminal_id)
            ).one_or_none()
            if terminal is None:
                raise EnrolmentError(f"terminal {terminal_id} is not enrolled")
            terminal.secret = secret
            terminal.status = TerminalStatus.ACTIVE.value
            terminal.revoked_at = None
        self.audit.record("terminal_reenrolled", terminal_id=terminal_id, by=by)
        return signing.encode_credential(terminal_id, secret)

    def revoke(self, terminal_id: str, *, by: str = "cli") -> None:
        with self.engine.begin() as connection:
            result = connection.execute(
                update(Terminal)
                .where(Terminal.terminal_id == terminal_id, Terminal.status == TerminalStatus.ACTIVE.value)
                .values(status=TerminalStatus.REVOKED.value, revoked_at=self.clock())
            )
        if result.rowcount != 1:
            raise EnrolmentError(f"terminal {terminal_id} is not enrolled (or already revoked)")
        self.audit.record("terminal_revoked", terminal_id=terminal_id, by=by)

    def terminals(self) -> list[TerminalInfo]:
        with Session(self.engine) as session:
            rows = session.scalars(select(Terminal).order_by(Terminal.terminal_id)).all()
            return [
                TerminalInfo(
                    t.terminal_id,
                    t.status,
                    t.enrolled_at,
                    t.revoked_at,
                    t.last_seen_at,
                    t.journal_seq,
                    t.journal_hash,
                )
                for t in rows
            ]

    # -- authentication --
    def authenticate(self, method: str, path: str, headers: dict[str, str], body: bytes) -> str:
        """The terminal ID of a correctly signed, fresh request; raises :class:`AuthRefused` (journaled)."""
        terminal_id = headers.get(signing.TERMINAL_HEADER.lower(), "")
        timestamp = headers.get(signing.TIMESTAMP_HEADER.lower(), "")
        nonce = headers.get(signing.NONCE_HEADER.lower(), "")
        signature = headers.get(signing.SIGNATURE_HEADER.lower(), "")
        try:
            self._check_shape(terminal_id, timestamp, nonce, signature)
            secret = self._secret_of(terminal_id)
            if not signing.verify(secret, signature, method, path, terminal_id, timestamp, nonce, body):
                raise AuthRefused(RefusalCode.BAD_SIGNATURE, "the request's signature does not verify")
            now = self.clock()
            sent = datetime.fromtimestamp(int(timestamp), tz=now.tzinfo)
            if abs(now - sent) > self.skew:
                raise AuthRefused(RefusalCode.STALE_REQUEST, "the request's timestamp is too far from now")
            head = headers.get(signing.JOURNAL_HEAD_HEADER.lower(), "")
            self._use_nonce(terminal_id, nonce, now, head)
        except AuthRefused as refusal:
            self.audit.record(
                "api_refused",
                terminal_id=terminal_id[:32] if TERMINAL_ID.match(terminal_id or "-") else "<malformed>",
                code=refusal.code.value,
                path=path[:96],
            )
            raise
        return terminal_id

    @staticmethod
    def _check_shape(terminal_id: str, timestamp: str, nonce: str, signature: str) -> None:
        if not (terminal_id and timestamp and nonce and signature):
            raise AuthRefused(RefusalCode.UNAUTHENTICATED, "the request is not signed")
        if not TERMINAL_ID.match(terminal_id) or not timestamp.isdigit() or len(timestamp) > 12:
            raise AuthRefused(RefusalCode.UNAUTHENTICATED, "malformed terminal ID or timestamp")
        if not re.fullmatch(r"[0-9a-f]{16,64}", nonce) or len(signature) > 64:
            raise AuthRefused(RefusalCode.UNAUTHENTICATED, "malformed nonce or signature")

    def _secret_of(self, terminal_id: str) -> bytes:
        with Session(self.engine) as session:
            terminal = session.scalars(
                select(Terminal).where(Terminal.terminal_id == terminal_id)
            ).one_or_none()
            if terminal is None:
                raise AuthRefused(RefusalCode.UNKNOWN_TERMINAL, f"terminal {terminal_id} is not enrolled")
            if terminal.status != TerminalStatus.ACTIVE.value:
                raise AuthRefused(RefusalCode.TERMINAL_REVOKED, f"terminal {terminal_id} has been revoked")
            return bytes(terminal.secret)

    def _use_nonce(self, terminal_id: str, nonce: str, now: datetime, head: str = "") -> None:
        """Spend the nonce and keep the journal head the call carries, in one commit (each is a write on
        every call; two commits would cost two syncs)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(SeenNonce).values(terminal_id=terminal_id, nonce=nonce, seen_at=now)
                )
                connection.execute(
                    update(Terminal).where(Terminal.terminal_id == terminal_id).values(last_seen_at=now)
                )
                if head:
                    self._keep_head(connection, terminal_id, head, now)
        except IntegrityError:
            raise AuthRefused(RefusalCode.REPLAYED_REQUEST, "this request was already received") from None

    def forget_old_nonces(self) -> int:
        """Nonces older than twice the skew can no longer be replayed (the timestamp check refuses them)."""
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(SeenNonce).where(SeenNonce.seen_at < self.clock() - 2 * self.skew)
            )
        return int(result.rowcount or 0)

    # -- journal checkpoints --
    def checkpoint(self, terminal_id: str, head: str) -> None:
        """Keep a terminal's journal head (``seq:sha256hex``); a malformed or older head is ignored."""
        with self.engine.begin() as connection:
            self._keep_head(connection, terminal_id, head, self.clock())

    def _keep_head(self, connection: Connection, terminal_id: str, head: str, now: datetime) -> None:
        match = re.fullmatch(r"(\d{1,18}):([0-9a-f]{64})", head)
        if match is None:
            return
        seq, digest = int(match.group(1)), match.group(2)
        values = {"terminal_id": terminal_id, "seq": seq, "hash": digest, "received_at": now}
        # Many calls carry the same head: one already kept is left as it is (and so is the newest head).
        insert_new = _insert_for(connection)(JournalCheckpoint).values(**values).on_conflict_do_nothing()
        if connection.execute(insert_new).rowcount != 1:
            return
        connection.execute(
            update(Terminal)
            .where(
                Terminal.terminal_id == terminal_id,
                (Terminal.journal_seq.is_(None)) | (Terminal.journal_seq < seq),
            )
            .values(journal_seq=seq, journal_hash=digest)
        )

    def anchor(self, terminal_id: str, seq: int, digest: str, records: int, seal: str) -> tuple[str, bool]:
        """Keep a checkpoint the terminal anchored on purpose; returns ``(held hash, conflict)``.

        The first hash the host holds for a seq is kept. Another hash for that seq later is a conflict:
        the journal behind it was rewritten or replaced. It is refused, recorded in the audit trail and
        answered with the hash the host holds.
        """
        now = self.clock()
        with self.engine.begin() as connection:
            insert_new = (
                _insert_for(connection)(JournalCheckpoint)
                .values(
                    terminal_id=terminal_id, seq=seq, hash=digest, records=records, seal=seal, received_at=now
                )
                .on_conflict_do_nothing()
            )
            if connection.execute(insert_new).rowcount == 1:
                connection.execute(
                    update(Terminal)
                    .where(
                        Terminal.terminal_id == terminal_id,
                        (Terminal.journal_seq.is_(None)) | (Terminal.journal_seq < seq),
                    )
                    .values(journal_seq=seq, journal_hash=digest)
                )
                return digest, False
            held = connection.execute(
                select(JournalCheckpoint.hash, JournalCheckpoint.records).where(
                    JournalCheckpoint.terminal_id == terminal_id, JournalCheckpoint.seq == seq
                )
            ).one()
            if held.hash == digest:
                if held.records is None:  # a head that arrived with a call: now with its count and seal
                    connection.execute(
                        update(JournalCheckpoint)
                        .where(JournalCheckpoint.terminal_id == terminal_id, JournalCheckpoint.seq == seq)
                        .values(records=records, seal=seal)
                    )
                return digest, False
        self.audit.record(
            "journal_checkpoint_conflict", terminal_id=terminal_id, seq=seq, held=held.hash, sent=digest
        )
        log.warning("terminal %s anchored another hash for journal record %d", terminal_id, seq)
        return str(held.hash), True

    def anchors(self, terminal_id: str, limit: int = 1000) -> list[tuple[int, str, int | None, str | None]]:
        """The newest checkpoints held for a terminal, newest first: (seq, hash, records, seal)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(
                    JournalCheckpoint.seq,
                    JournalCheckpoint.hash,
                    JournalCheckpoint.records,
                    JournalCheckpoint.seal,
                )
                .where(JournalCheckpoint.terminal_id == terminal_id)
                .order_by(JournalCheckpoint.seq.desc())
                .limit(limit)
            ).all()
        return [
            (int(seq), str(digest), None if records is None else int(records), seal)
            for seq, digest, records, seal in rows
        ]

    def checkpoints(self, terminal_id: str, limit: int = 1000) -> list[tuple[int, str]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(JournalCheckpoint.seq, JournalCheckpoint.hash)
                .where(JournalCheckpoint.terminal_id == terminal_id)
                .order_by(JournalCheckpoint.seq.desc())
                .limit(limit)
            ).all()
        return [(int(seq), str(digest)) for seq, digest in rows]

    # -- idempotent replies --
    @staticmethod
    def request_hash(endpoint: str, payload: Any) -> str:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(f"{endpoint}\n{text}".encode()).hexdigest()

    def reserve(self, terminal_id: str, key: str, endpoint: str, request_hash: str) -> Reservation:
        """Claim ``key`` for this request, or find the reply already given to it.

        A key stuck "in progress" beyond :data:`STALE_IN_PROGRESS` (its host process died) is claimed again:
        every endpoint behind an idempotency key is safe to run again (the ledger replays by its own key).
        """
        now = self.clock()
        for _ in range(2):
            try:
                with self.engine.begin() as connection:
                    result = connection.execute(
                        insert(IdempotentReply)
                        .values(
                            terminal_id=terminal_id,
                            key=key,
                            endpoint=endpoint,
                            request_hash=request_hash,
                            status="in_progress",
                            created_at=now,
                            updated_at=now,
                        )
                        .returning(IdempotentReply.id)
                    )
                    return Reservation(None, int(result.scalar_one()))
            except IntegrityError:
                pass
            with self.engine.begin() as connection:
                row = (
                    connection.execute(
                        select(IdempotentReply).where(
                            IdempotentReply.terminal_id == terminal_id, IdempotentReply.key == key
                        )
                    )
                    .mappings()
                    .one_or_none()
                )
                if row is None:
                    continue  # deleted between the two statements: try to claim it again
                if row["request_hash"] != request_hash or row["endpoint"] != endpoint:
                    raise AuthRefused(
                        RefusalCode.IDEMPOTENCY_KEY_REUSED,
                        "this idempotency key was used for another request",
                    )
                if row["status"] == "done":
                    return Reservation(bytes(row["reply"]), None)
                if now - row["updated_at"] < STALE_IN_PROGRESS:
                    raise AuthRefused(
                        RefusalCode.IN_PROGRESS, "this request is being served; ask again shortly"
                    )
                claimed = connection.execute(
                    update(IdempotentReply)
                    .where(IdempotentReply.id == row["id"], IdempotentReply.updated_at == row["updated_at"])
                    .values(updated_at=now)
                )
                if claimed.rowcount == 1:
                    log.warning("idempotency key %s: taking over a request its host process left", key)
                    return Reservation(None, int(row["id"]))
        raise AuthRefused(RefusalCode.IN_PROGRESS, "this request is being served; ask again shortly")

    def complete(self, reply_id: int, reply: bytes) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                update(IdempotentReply)
                .where(IdempotentReply.id == reply_id)
                .values(status="done", reply=reply, updated_at=self.clock())
            )

    def release(self, reply_id: int) -> None:
        """The request failed before it changed anything the caller can see: the key may be used again."""
        with self.engine.begin() as connection:
            connection.execute(delete(IdempotentReply).where(IdempotentReply.id == reply_id))
