"""The double-entry ledger: transfers, immutable postings, pending → posted | voided, idempotency, locks.

A transfer is one ``bank_transfers`` row plus, once posted, two or more ``bank_postings`` rows whose signed
amounts sum to zero (debits equal credits). Each request carries an idempotency key (unique in the
database): a retry — even one racing the original on another kiosk — returns the original outcome and
never posts twice. A pending transfer holds the payer's funds (``pending_debits_minor``) without posting;
posting it writes the postings and releases the hold, voiding just releases the hold.

Concurrency: each transfer is one database transaction. The account rows are locked in ascending id order
(``SELECT … FOR UPDATE`` on PostgreSQL, so two kiosks never deadlock on a pair of accounts; SQLite's
``BEGIN IMMEDIATE`` serialises writers). Serialisation failures and deadlocks are retried with jitter.
The hot path uses SQLAlchemy Core on one connection: a transfer is one commit, and the benchmark holds
it against the database's raw commit rate.
"""

from __future__ import annotations

import enum
import hashlib
import random
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine, Row, Table, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from kiosk.bank.models import (
    Account,
    AccountKind,
    AccountStatus,
    InternalAccount,
    Posting,
    Transfer,
    TransferKind,
    TransferStatus,
    utcnow,
)
from kiosk.bank.numbers import make_account_number

# Bank days (daily limits, statements) are China Standard Time, which has no daylight saving.
BANK_TIMEZONE = timezone(timedelta(hours=8), "CST")
KIOSK_CHANNEL = "kiosk"
MAX_ATTEMPTS = 8

ACCOUNTS = cast(Table, Account.__table__)
TRANSFERS = cast(Table, Transfer.__table__)
POSTINGS = cast(Table, Posting.__table__)

INTERNAL_SERIALS = {InternalAccount.FUNDING: 1, InternalAccount.CLEARING: 2, InternalAccount.FEES: 3}

T = TypeVar("T")

# Statements built once: building Core constructs per call cost more than the commit itself.
INSERT_TRANSFER = insert(TRANSFERS)
INSERT_POSTINGS = insert(POSTINGS)
LOCK_ACCOUNTS = (
    select(ACCOUNTS).where(ACCOUNTS.c.id.in_(bindparam("ids", expanding=True))).order_by(ACCOUNTS.c.id)
)
# NO KEY UPDATE: the transfer row's foreign keys take KEY SHARE locks on these rows; FOR UPDATE would
# conflict with them and deadlock two kiosks paying from the same account.
LOCK_ACCOUNTS_FOR_UPDATE = LOCK_ACCOUNTS.with_for_update(key_share=True)
UPDATE_ACCOUNT = (
    update(ACCOUNTS)
    .where(ACCOUNTS.c.id == bindparam("account_id"))
    .values(
        balance_minor=bindparam("new_balance"),
        pending_debits_minor=bindparam("new_pending"),
        limit_day=bindparam("new_limit_day"),
        day_amount_minor=bindparam("new_day_amount"),
        day_count=bindparam("new_day_count"),
    )
)


class RefusalReason(enum.StrEnum):
    INVALID_AMOUNT = "invalid_amount"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_PAYEE = "unknown_payee"
    SAME_ACCOUNT = "same_account"
    NOT_OWN_ACCOUNT = "not_own_account"
    PAYEE_NAME_MISMATCH = "payee_name_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    ACCOUNT_FROZEN = "account_frozen"
    ACCOUNT_CLOSED = "account_closed"
    PAYEE_ACCOUNT_FROZEN = "payee_account_frozen"
    PAYEE_ACCOUNT_CLOSED = "payee_account_closed"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DAILY_LIMIT = "daily_limit"
    DAILY_COUNT_LIMIT = "daily_count_limit"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    NOT_PENDING = "not_pending"
    BUSY = "busy"  # the database kept failing over; nothing was posted


@dataclass(frozen=True)
class TransferRequest:
    idempotency_key: str
    kind: TransferKind
    debit_account_id: int
    credit_account_id: int
    amount_minor: int
    currency: str
    fee_minor: int = 0
    description: str = ""  # shown on the payer's statement
    payee_description: str = ""  # shown on the payee's statement
    payee_bank_code: str | None = None
    payee_account: str | None = None
    payee_name: str | None = None
    channel: str = KIOSK_CHANNEL  # kiosk transfers count towards the daily limits
    kiosk_id: str = ""

    @property
    def hold_minor(self) -> int:
        return self.amount_minor + self.fee_minor

    def fingerprint(self) -> str:
        parts: Iterable[object] = (
            self.kind.value,
            self.debit_account_id,
            self.credit_account_id,
            self.amount_minor,
            self.currency,
            self.fee_minor,
            self.payee_bank_code or "",
            self.payee_account or "",
        )
        return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()


@dataclass(frozen=True)
class TransferOutcome:
    """A transfer that exists: posted, pending (funds held) or, on a replay, possibly voided since."""

    transfer_id: int
    status: TransferStatus
    amount_minor: int
    fee_minor: int
    currency: str
    created_at: datetime
    replayed: bool = False  # True when this answers a retry of an earlier request with the same key
    void_reason: str | None = None


@dataclass(frozen=True)
class TransferRefused:
    reason: RefusalReason
    detail: str = ""


TransferResult = TransferOutcome | TransferRefused


class _Refusal(Exception):
    """Unwinds the transaction (nothing written) and becomes a TransferRefused value."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(reason.value)
        self.refused = TransferRefused(reason, detail)


def bank_day_of(moment: datetime) -> date:
    return moment.astimezone(BANK_TIMEZONE).date()


def is_retryable(exc: BaseException) -> bool:
    """Serialisation failure / deadlock (PostgreSQL) or a busy database (SQLite): try again."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):
        return True
    text = str(orig or exc).lower()
    return "database is locked" in text or "database is busy" in text


@dataclass
class _Locked:
    """Account rows read under lock, by id; mutated in memory then written back once."""

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    dirty: set[int] = field(default_factory=set)


class Ledger:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self._rng = rng or random.Random()
        self._internal: dict[InternalAccount, int] | None = None
        self._for_update = engine.dialect.name == "postgresql"
        self._local = threading.local()

    # -- internal accounts -------------------------------------------------------------------
    def internal_account_id(self, which: InternalAccount) -> int:
        if self._internal is None:
            self._internal = self._ensure_internal_accounts()
        return self._internal[which]

    def _ensure_internal_accounts(self) -> dict[InternalAccount, int]:
        for which, serial in INTERNAL_SERIALS.items():
            try:
                with self.engine.begin() as conn:
                    exists = conn.execute(
                        select(ACCOUNTS.c.id).where(ACCOUNTS.c.internal_code == which.value)
                    ).first()
                    if exists is None:
                        conn.execute(insert(ACCOUNTS).values(**_internal_account_values(which, serial)))
            except IntegrityError:
                pass  # another kiosk created it at the same moment
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ACCOUNTS.c.internal_code, ACCOUNTS.c.id).where(ACCOUNTS.c.internal_code.is_not(None))
            ).all()
        return {InternalAccount(code): account_id for code, account_id in rows}

    # -- transaction runner ------------------------------------------------------------------
    def _connection(self) -> Connection:
        """This thread's connection, kept between transfers: a pool check-out (and PostgreSQL's pre-ping
        round trip) per transfer would cost as much as the work itself."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self.engine.connect()
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Give this thread's connection back to the pool."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _run(self, work: Callable[[Connection], T]) -> T | TransferRefused:
        if self._internal is None:  # outside the transaction: SQLite allows one writer at a time
            self._internal = self._ensure_internal_accounts()
        for attempt in range(MAX_ATTEMPTS):
            conn = self._connection()
            try:
                with conn.begin():
                    return work(conn)
            except _Refusal as refusal:
                return refusal.refused
            except IntegrityError:
                raise
            except DBAPIError as exc:
                # A dropped connection is safe to retry: a commit that did land replays by its key.
                retry = is_retryable(exc) or exc.connection_invalidated
                if not retry or attempt == MAX_ATTEMPTS - 1:
                    if retry:
                        return TransferRefused(RefusalReason.BUSY, "database contention; nothing was posted")
                    raise
                time.sleep(self._rng.uniform(0.001, 0.01) * (attempt + 1))
        raise AssertionError("unreachable")

    # -- transfers ---------------------------------------------------------------------------
    def transfer(self, request: TransferRequest, *, pending: bool = False) -> TransferResult:
        """Post now (or hold as pending) in one transaction; a repeated idempotency key replays."""
        problem = _request_problem(request)
        if problem is not None:
            return problem
        fingerprint = request.fingerprint()
        try:
            return self._run(lambda conn: self._transfer_once(conn, request, fingerprint, pending))
        except IntegrityError:
            # The key exists (perhaps committed by another kiosk a moment ago): answer with it.
            replay = self.replay(request.idempotency_key, fingerprint)
            if replay is not None:
                return replay
            if not self._accounts_exist(request.debit_account_id, request.credit_account_id):
                return TransferRefused(RefusalReason.UNKNOWN_ACCOUNT, "no such account")
            raise

    def _accounts_exist(self, *ids: int) -> bool:
        with self.engine.connect() as conn:
            found = conn.execute(select(ACCOUNTS.c.id).where(ACCOUNTS.c.id.in_(ids))).all()
        return len(found) == len(set(ids))

    def replay(self, idempotency_key: str, fingerprint: str | None = None) -> TransferResult | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(TRANSFERS).where(TRANSFERS.c.idempotency_key == idempotency_key)
            ).first()
        if row is None:
            return None
        if fingerprint is not None and row.request_fingerprint != fingerprint:
            return TransferRefused(
                RefusalReason.IDEMPOTENCY_KEY_REUSED, "this key was used for a different request"
            )
        return _outcome(row, replayed=True)

    def _transfer_once(
        self, conn: Connection, request: TransferRequest, fingerprint: str, pending: bool
    ) -> TransferOutcome:
        now = self.clock()
        bank_day = bank_day_of(now)
        status = TransferStatus.PENDING if pending else TransferStatus.POSTED
        # Insert first: the unique key is the idempotency guard, and on PostgreSQL a concurrent duplicate
        # waits here for the original to commit, then fails and replays it.
        inserted = conn.execute(
            INSERT_TRANSFER,
            {
                "idempotency_key": request.idempotency_key,
                "request_fingerprint": fingerprint,
                "kind": request.kind.value,
                "status": status.value,
                "debit_account_id": request.debit_account_id,
                "credit_account_id": request.credit_account_id,
                "amount_minor": request.amount_minor,
                "fee_minor": request.fee_minor,
                "currency": request.currency,
                "payee_bank_code": request.payee_bank_code,
                "payee_account": request.payee_account,
                "payee_name": request.payee_name,
                "description": request.description[:80],
                "channel": request.channel,
                "kiosk_id": request.kiosk_id,
                "bank_day": bank_day,
                "created_at": now,
                "resolved_at": None if pending else now,
            },
        ).inserted_primary_key
        assert inserted is not None
        transfer_id: int = inserted[0]
        fee_account = self.internal_account_id(InternalAccount.FEES) if request.fee_minor else None
        ids = {request.debit_account_id, request.credit_account_id} | (
            {fee_account} if fee_account else set()
        )
        locked = self._lock_accounts(conn, ids)
        debit = locked.rows.get(request.debit_account_id)
        credit = locked.rows.get(request.credit_account_id)
        if debit is None or credit is None:
            raise _Refusal(RefusalReason.UNKNOWN_ACCOUNT, "no such account")
        _check_can_pay(debit, request)
        _check_can_receive(credit, request)
        if request.channel == KIOSK_CHANNEL:
            _use_daily_limits(debit, request.amount_minor, bank_day)
            locked.dirty.add(debit["id"])
        if pending:
            debit["pending_debits_minor"] += request.hold_minor
            locked.dirty.add(debit["id"])
        else:
            self._write_postings(conn, locked, transfer_id, request, now, fee_account)
        self._write_back(conn, locked)
        return TransferOutcome(
            transfer_id, status, request.amount_minor, request.fee_minor, request.currency, now
        )

    def _lock_accounts(self, conn: Connection, ids: set[int]) -> _Locked:
        query = LOCK_ACCOUNTS_FOR_UPDATE if self._for_update else LOCK_ACCOUNTS
        return _Locked({row.id: dict(row._mapping) for row in conn.execute(query, {"ids": sorted(ids)})})

    def _write_postings(
        self,
        conn: Connection,
        locked: _Locked,
        transfer_id: int,
        request: TransferRequest,
        now: datetime,
        fee_account: int | None,
    ) -> None:
        lines: list[tuple[int, int, str]] = [
            (request.debit_account_id, -request.amount_minor, request.description),
            (request.credit_account_id, request.amount_minor, request.payee_description),
        ]
        if request.fee_minor and fee_account is not None:
            lines.append((request.debit_account_id, -request.fee_minor, "Transfer fee"))
            lines.append((fee_account, request.fee_minor, f"Fee, transfer {transfer_id}"))
        rows = []
        for account_id, amount, description in lines:
            account = locked.rows[account_id]
            account["balance_minor"] += amount
            locked.dirty.add(account_id)
            rows.append(
                {
                    "transfer_id": transfer_id,
                    "account_id": account_id,
                    "amount_minor": amount,
                    "balance_after_minor": account["balance_minor"],
                    "currency": request.currency,
                    "description": description[:80],
                    "created_at": now,
                }
            )
        conn.execute(INSERT_POSTINGS, rows)

    def _write_back(self, conn: Connection, locked: _Locked) -> None:
        rows = [
            {
                "account_id": account_id,
                "new_balance": row["balance_minor"],
                "new_pending": row["pending_debits_minor"],
                "new_limit_day": row["limit_day"],
                "new_day_amount": row["day_amount_minor"],
                "new_day_count": row["day_count"],
            }
            for account_id in sorted(locked.dirty)
            for row in (locked.rows[account_id],)
        ]
        if rows:
            conn.execute(UPDATE_ACCOUNT, rows)

    # -- pending → posted | voided -----------------------------------------------------------
    def post_pending(self, transfer_id: int) -> TransferResult:
        """Settle a pending transfer: write its postings, release the hold. Posting twice is a no-op."""
        return self._run(lambda conn: self._resolve(conn, transfer_id, post=True, reason=None))

    def void_pending(self, transfer_id: int, reason: str) -> TransferResult:
        """Cancel a pending transfer: release the hold (and its daily-limit use); no postings."""
        return self._run(lambda conn: self._resolve(conn, transfer_id, post=False, reason=reason))

    def _resolve(
        self, conn: Connection, transfer_id: int, *, post: bool, reason: str | None
    ) -> TransferOutcome:
        query = select(TRANSFERS).where(TRANSFERS.c.id == transfer_id)
        if self._for_update:
            query = query.with_for_update(key_share=True)  # FOR NO KEY UPDATE
        row = conn.execute(query).first()
        if row is None:
            raise _Refusal(RefusalReason.NOT_PENDING, f"no transfer {transfer_id}")
        wanted = TransferStatus.POSTED if post else TransferStatus.VOIDED
        if row.status == wanted.value:
            return _outcome(row, replayed=True)
        if row.status != TransferStatus.PENDING.value:
            raise _Refusal(RefusalReason.NOT_PENDING, f"transfer {transfer_id} is {row.status}")
        now = self.clock()
        request = _request_from_row(row)
        fee_account = self.internal_account_id(InternalAccount.FEES) if request.fee_minor else None
        ids = {request.debit_account_id, request.credit_account_id} | (
            {fee_account} if fee_account else set()
        )
        locked = self._lock_accounts(conn, ids)
        debit = locked.rows[request.debit_account_id]
        debit["pending_debits_minor"] -= request.hold_minor
        locked.dirty.add(debit["id"])
        if post:
            self._write_postings(conn, locked, transfer_id, request, now, fee_account)
        elif request.channel == KIOSK_CHANNEL and debit["limit_day"] == row.bank_day:
            debit["day_amount_minor"] -= request.amount_minor
            debit["day_count"] -= 1
        self._write_back(conn, locked)
        conn.execute(
            update(TRANSFERS)
            .where(TRANSFERS.c.id == transfer_id)
            .values(status=wanted.value, resolved_at=now, void_reason=reason)
        )
        return TransferOutcome(
            transfer_id, wanted, row.amount_minor, row.fee_minor, row.currency, row.created_at, False, reason
        )

    def pending_transfers(self, kind: TransferKind | None = None) -> Sequence[Row[Any]]:
        query = select(TRANSFERS).where(TRANSFERS.c.status == TransferStatus.PENDING.value)
        if kind is not None:
            query = query.where(TRANSFERS.c.kind == kind.value)
        with self.engine.connect() as conn:
            return conn.execute(query.order_by(TRANSFERS.c.id)).all()


# -- rules ----------------------------------------------------------------------------------------
def _request_problem(request: TransferRequest) -> TransferRefused | None:
    if not isinstance(request.amount_minor, int) or request.amount_minor <= 0 or request.fee_minor < 0:
        return TransferRefused(RefusalReason.INVALID_AMOUNT, "the amount must be positive")
    if request.debit_account_id == request.credit_account_id:
        return TransferRefused(RefusalReason.SAME_ACCOUNT, "payer and payee are the same account")
    if not request.idempotency_key or len(request.idempotency_key) > 64:
        return TransferRefused(
            RefusalReason.INVALID_AMOUNT, "an idempotency key of 1-64 characters is needed"
        )
    return None


def _check_can_pay(account: dict[str, Any], request: TransferRequest) -> None:
    if account["currency"] != request.currency:
        raise _Refusal(RefusalReason.CURRENCY_MISMATCH, f"account is in {account['currency']}")
    if account["status"] == AccountStatus.FROZEN.value:
        raise _Refusal(RefusalReason.ACCOUNT_FROZEN, "the account is frozen")
    if account["status"] == AccountStatus.CLOSED.value:
        raise _Refusal(RefusalReason.ACCOUNT_CLOSED, "the account is closed")
    if account["kind"] == AccountKind.INTERNAL.value:
        return  # the bank's own books (funding, clearing) may run negative
    overdraft = account["overdraft_limit_minor"] if account["overdraft_allowed"] else 0
    available = account["balance_minor"] - account["pending_debits_minor"] + overdraft
    if request.hold_minor > available:
        raise _Refusal(
            RefusalReason.INSUFFICIENT_FUNDS, f"available {available}, needed {request.hold_minor}"
        )


def _check_can_receive(account: dict[str, Any], request: TransferRequest) -> None:
    if account["currency"] != request.currency:
        raise _Refusal(RefusalReason.CURRENCY_MISMATCH, f"payee account is in {account['currency']}")
    if account["status"] == AccountStatus.FROZEN.value:
        raise _Refusal(RefusalReason.PAYEE_ACCOUNT_FROZEN, "the payee account is frozen")
    if account["status"] == AccountStatus.CLOSED.value:
        raise _Refusal(RefusalReason.PAYEE_ACCOUNT_CLOSED, "the payee account is closed")


def _use_daily_limits(account: dict[str, Any], amount_minor: int, bank_day: date) -> None:
    if account["limit_day"] != bank_day:
        account["limit_day"], account["day_amount_minor"], account["day_count"] = bank_day, 0, 0
    if account["day_count"] + 1 > account["daily_transfer_count_limit"]:
        raise _Refusal(RefusalReason.DAILY_COUNT_LIMIT, f"{account['day_count']} transfers today already")
    if account["day_amount_minor"] + amount_minor > account["daily_transfer_limit_minor"]:
        left = account["daily_transfer_limit_minor"] - account["day_amount_minor"]
        raise _Refusal(RefusalReason.DAILY_LIMIT, f"{left} left of today's limit")
    account["day_amount_minor"] += amount_minor
    account["day_count"] += 1


def _outcome(row: Row[Any], *, replayed: bool) -> TransferOutcome:
    return TransferOutcome(
        row.id,
        TransferStatus(row.status),
        row.amount_minor,
        row.fee_minor,
        row.currency,
        row.created_at,
        replayed,
        row.void_reason,
    )


def _request_from_row(row: Row[Any]) -> TransferRequest:
    return TransferRequest(
        idempotency_key=row.idempotency_key,
        kind=TransferKind(row.kind),
        debit_account_id=row.debit_account_id,
        credit_account_id=row.credit_account_id,
        amount_minor=row.amount_minor,
        currency=row.currency,
        fee_minor=row.fee_minor,
        description=row.description,
        payee_description=_payee_side_description(row),
        channel=row.channel,
    )


def _payee_side_description(row: Row[Any]) -> str:
    if row.kind == TransferKind.OTHER_BANK.value:
        return f"Outgoing to bank {row.payee_bank_code}"
    return "Incoming transfer"


def _internal_account_values(which: InternalAccount, serial: int) -> dict[str, Any]:
    return {
        "number": make_account_number("internal", serial),
        "customer_id": None,
        "kind": AccountKind.INTERNAL.value,
        "internal_code": which.value,
        "status": AccountStatus.ACTIVE.value,
        "currency": "CNY",
        "balance_minor": 0,
        "pending_debits_minor": 0,
        "overdraft_allowed": False,
        "overdraft_limit_minor": 0,
        "daily_transfer_limit_minor": 0,
        "daily_transfer_count_limit": 0,
        "day_amount_minor": 0,
        "day_count": 0,
        "created_at": utcnow(),
    }
