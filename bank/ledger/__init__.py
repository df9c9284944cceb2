"""The double-entry ledger: transfers, immutable postings, pending → posted | voided, idempotency, locks.

A transfer is one ``bank_transfers`` row plus, once posted, two or more ``bank_postings`` rows whose signed
amounts sum to zero (debits equal credits). Each request carries an idempotency key (unique in the
database): a retry — even one racing the original on another kiosk — returns the original outcome and
never posts twice. A pending transfer holds the payer's funds (``pending_debits_minor``) without posting;
posting it writes the postings and releases the hold, voiding just releases the hold.

Concurrency: each transfer is one database transaction. The transfer row is inserted first (the unique
key is the idempotency guard), then the account rows are locked in ascending id order (``SELECT … FOR NO
KEY UPDATE`` on PostgreSQL, so two kiosks never deadlock on a pair of accounts; SQLite's ``BEGIN
IMMEDIATE`` serialises writers). Serialisation failures, deadlocks, a busy SQLite and lost connections are
retried with jitter.

The hot path (transfer, post, void) runs on this thread's DBAPI connection with SQL text written once per
dialect, kept between transfers: a transfer is one commit, and ``benchmarks/ledger.py`` holds it against
the database's raw commit rate. A transfer is run by the database itself (migration 0009): on PostgreSQL
a call to the function ``bank_post_transfer`` sent together with COMMIT in psycopg's pipeline mode (one
round trip); on SQLite the transfer row's INSERT … RETURNING id, then an INSERT into the view
``bank_transfer_requests``, whose trigger does the rest in SQLite's C. Either posts only what every rule
below clearly allows and declines anything else; a declined transfer runs again on the general path —
insert + lock, then the rules here, then postings + balances (two round trips on PostgreSQL) — which names
the refusal. Everything else (look-ups, replays, internal accounts) uses SQLAlchemy Core.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, NamedTuple, TypeVar, cast

from sqlalchemy import Connection, Engine, Row, Table, insert, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError

from bank.models import (
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
from bank.numbers import make_account_number
from hostlink.chaos import crash_point

# Bank days (daily limits, statements) are China Standard Time, which has no daylight saving.
BANK_TIMEZONE = timezone(timedelta(hours=8), "CST")
KIOSK_CHANNEL = "kiosk"
MAX_ATTEMPTS = 8

ACCOUNTS = cast(Table, Account.__table__)
TRANSFERS = cast(Table, Transfer.__table__)
POSTINGS = cast(Table, Posting.__table__)

INTERNAL_SERIALS = {InternalAccount.FUNDING: 1, InternalAccount.CLEARING: 2, InternalAccount.FEES: 3}

T = TypeVar("T")


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
        """SHA-256 of the fields that make the request what it is, separated by US (0x1f); stored with the
        transfer, so this text must never change."""
        text = (
            f"{self.kind.value}\x1f{self.debit_account_id}\x1f{self.credit_account_id}\x1f"
            f"{self.amount_minor}\x1f{self.currency}\x1f{self.fee_minor}\x1f"
            f"{self.payee_bank_code or ''}\x1f{self.payee_account or ''}"
        )
        return hashlib.sha256(text.encode()).hexdigest()


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


# -- the hot path's SQL ---------------------------------------------------------------------------
# A transfer runs on the DBAPI cursor with SQL text written once per dialect: through SQLAlchemy's
# execution machinery each statement cost 50-80 µs, several times a WAL commit on this hardware. Column
# types (UTC datetimes, dates, encrypted payee names) go through the same SQLAlchemy type processors, so the
# rows are byte-for-byte what the ORM writes and reads.
TRANSFER_COLUMNS = (
    "idempotency_key",
    "request_fingerprint",
    "kind",
    "status",
    "debit_account_id",
    "credit_account_id",
    "amount_minor",
    "fee_minor",
    "currency",
    "payee_bank_code",
    "payee_account",
    "payee_name",
    "description",
    "channel",
    "kiosk_id",
    "bank_day",
    "created_at",
    "resolved_at",
)
# What the rules need from a locked account row.
ACCOUNT_COLUMNS = (
    "id",
    "kind",
    "status",
    "currency",
    "balance_minor",
    "pending_debits_minor",
    "overdraft_allowed",
    "overdraft_limit_minor",
    "daily_transfer_limit_minor",
    "daily_transfer_count_limit",
    "limit_day",
    "day_amount_minor",
    "day_count",
)
POSTING_COLUMNS = (
    "transfer_id",
    "account_id",
    "amount_minor",
    "balance_after_minor",
    "currency",
    "description",
    "created_at",
)
# What settling or voiding a pending transfer needs from its row.
RESOLVE_COLUMNS = (
    "id",
    "idempotency_key",
    "kind",
    "status",
    "debit_account_id",
    "credit_account_id",
    "amount_minor",
    "fee_minor",
    "currency",
    "payee_bank_code",
    "description",
    "channel",
    "bank_day",
    "created_at",
    "void_reason",
)
# (id, balance, pending holds, limit day, day amount, day count) written back per touched account.
AccountWrite = tuple[int, int, int, Any, int, int]
# bank_post_transfer's parameters, typed so PostgreSQL resolves the call without guessing from the values.
POST_TRANSFER_ARGUMENTS = tuple(
    f"%s::{kind}"
    for kind in (
        "text",  # idempotency key
        "text",  # request fingerprint
        "text",  # kind
        "boolean",  # pending
        "integer",  # debit account
        "integer",  # credit account
        "bigint",  # amount
        "bigint",  # fee
        "text",  # currency
        "text",  # payee bank code
        "text",  # payee account
        "bytea",  # payee name (ciphertext)
        "text",  # payer's description
        "text",  # payee's description
        "text",  # channel
        "text",  # kiosk id
        "date",  # bank day
        "timestamptz",  # now
        "integer",  # fee account
        "boolean",  # count towards the daily limits
    )
)


class PostArguments(NamedTuple):
    """A transfer for the database to post by itself, in bank_post_transfer's parameter order (migration
    0009); values already in the database's types (see _Statements' binders)."""

    idempotency_key: str
    fingerprint: str
    kind: str
    pending: bool
    debit: int
    credit: int
    amount: int
    fee: int
    currency: str
    payee_bank_code: str | None
    payee_account: str | None
    payee_name: Any  # ciphertext
    description: str
    payee_description: str
    channel: str
    kiosk_id: str
    bank_day: Any
    now: Any
    fee_account: int | None
    use_daily_limits: bool

    def transfer_row(self) -> tuple[Any, ...]:
        """The bank_transfers row these arguments make, in TRANSFER_COLUMNS order."""
        return (
            self.idempotency_key,
            self.fingerprint,
            self.kind,
            TransferStatus.PENDING.value if self.pending else TransferStatus.POSTED.value,
            self.debit,
            self.credit,
            self.amount,
            self.fee,
            self.currency,
            self.payee_bank_code,
            self.payee_account,
            self.payee_name,
            self.description,
            self.channel,
            self.kiosk_id,
            self.bank_day,
            self.now,
            None if self.pending else self.now,
        )


# What bank_post_transfer raises when a rule does not clearly allow the transfer (migration 0009).
DECLINED_SQLSTATE = "ST001"  # PostgreSQL
DECLINED_MESSAGE = "bank_post_transfer: declined"  # SQLite's RAISE(ABORT, ...)


def _identity(value: Any) -> Any:
    return value


def sqlite_utc_text(value: datetime | None) -> str | None:
    """An aware moment as SQLite stores it (UtcDateTime, then SQLAlchemy's DATETIME): naive UTC text."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def sqlite_date_text(value: date | None) -> str | None:
    """A date as SQLAlchemy's SQLite DATE stores it."""
    return None if value is None else value.isoformat()


def _bind(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any]:
    processor = table.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    return processor or _identity


def _result(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any]:
    processor = table.c[column].type.dialect_impl(dialect).result_processor(dialect, None)
    return processor or _identity


class _Statements:
    """The ledger's SQL for one dialect, built once per Ledger; placeholders in the driver's style."""

    def __init__(self, dialect: Dialect) -> None:
        self.postgresql = dialect.name == "postgresql"
        mark = "%s" if self.postgresql else "?"
        self.mark = mark
        # Column type processors (datetime → UTC text on SQLite, payee name → ciphertext, ...).
        self.bind_datetime = _bind(TRANSFERS, "created_at", dialect)
        self.bind_date = _bind(TRANSFERS, "bank_day", dialect)
        if not self.postgresql:
            # The same text as SQLAlchemy's SQLite processors (tests/kiosk/bank/test_ledger_hot_path.py
            # compares them), from the C-coded isoformat: a transfer binds a moment and three dates.
            self.bind_datetime = sqlite_utc_text
            self.bind_date = sqlite_date_text
        self.bind_payee_name = _bind(TRANSFERS, "payee_name", dialect)
        self.read_date = _result(ACCOUNTS, "limit_day", dialect)
        self.read_bool = _result(ACCOUNTS, "overdraft_allowed", dialect)
        self.read_datetime = _result(TRANSFERS, "created_at", dialect)
        marks = ", ".join([mark] * len(TRANSFER_COLUMNS))
        self.insert_transfer = f"INSERT INTO bank_transfers ({', '.join(TRANSFER_COLUMNS)}) VALUES ({marks})"
        account_columns = ", ".join(f"a.{c}" for c in ACCOUNT_COLUMNS)
        if self.postgresql:
            # NO KEY UPDATE: the transfer row's foreign keys take KEY SHARE locks on these rows; FOR UPDATE
            # would conflict with them and deadlock two kiosks paying from the same account.
            lock = "FOR NO KEY UPDATE OF a"
            # One round trip: insert the transfer (the idempotency guard: a concurrent duplicate waits on
            # the unique index, then fails and replays) and lock its accounts in ascending id order.
            self.insert_and_lock = (
                f"WITH new_transfer AS ({self.insert_transfer} RETURNING id) "
                f"SELECT (SELECT id FROM new_transfer), {account_columns} FROM bank_accounts AS a "
                f"WHERE a.id = ANY({mark}::integer[]) ORDER BY a.id {lock}"
            )
            self.lock_accounts = (
                f"SELECT {account_columns} FROM bank_accounts AS a "
                f"WHERE a.id = ANY({mark}::integer[]) ORDER BY a.id {lock}"
            )
            self.read_transfer = (
                f"SELECT {', '.join(RESOLVE_COLUMNS)} FROM bank_transfers WHERE id = {mark} FOR NO KEY UPDATE"
            )
            # The whole transfer in the server (migration 0009_transfer_function): one round trip.
            self.post_transfer = f"SELECT bank_post_transfer({', '.join(POST_TRANSFER_ARGUMENTS)})"
            self.insert_transfer_returning_id = ""  # the function inserts it
        else:
            self.insert_and_lock = ""  # SQLite: two statements, BEGIN IMMEDIATE already holds the lock
            self.lock_accounts = ""  # per id count, see lock_sql
            self.read_transfer = f"SELECT {', '.join(RESOLVE_COLUMNS)} FROM bank_transfers WHERE id = {mark}"
            # The whole transfer in SQLite's C (the view's INSTEAD OF trigger, migration 0009): one statement.
            # SQLite: the transfer row from here (RETURNING its id), then the rest in SQLite's C (the view's
            # INSTEAD OF trigger, migration 0009): two statements.
            self.post_transfer = f"INSERT INTO bank_transfer_requests VALUES ({', '.join([mark] * 13)})"
            self.insert_transfer_returning_id = f"{self.insert_transfer} RETURNING id"
        self.account_columns = account_columns
        self.update_account = (
            f"UPDATE bank_accounts SET balance_minor = {mark}, pending_debits_minor = {mark}, "
            f"limit_day = {mark}, day_amount_minor = {mark}, day_count = {mark} WHERE id = {mark}"
        )
        self.update_transfer = (
            f"UPDATE bank_transfers SET status = {mark}, resolved_at = {mark}, void_reason = {mark} "
            f"WHERE id = {mark}"
        )
        self._lock_sql: dict[int, str] = {}
        self._postings_sql: dict[int, str] = {}
        self._write_sql: dict[tuple[int, int], str] = {}

    def lock_sql(self, count: int) -> str:
        """SQLite: the account rows by id, ascending (the write lock is already held)."""
        sql = self._lock_sql.get(count)
        if sql is None:
            marks = ", ".join([self.mark] * count)
            sql = (
                f"SELECT {self.account_columns} FROM bank_accounts AS a WHERE a.id IN ({marks}) ORDER BY a.id"
            )
            self._lock_sql[count] = sql
        return sql

    def postings_sql(self, count: int) -> str:
        sql = self._postings_sql.get(count)
        if sql is None:
            row = "(" + ", ".join([self.mark] * len(POSTING_COLUMNS)) + ")"
            sql = (
                f"INSERT INTO bank_postings ({', '.join(POSTING_COLUMNS)}) VALUES {', '.join([row] * count)}"
            )
            self._postings_sql[count] = sql
        return sql

    def write_sql(self, postings: int, accounts: int) -> str:
        """PostgreSQL: the postings and the account rows' new balances in one statement (one round trip)."""
        key = (postings, accounts)
        sql = self._write_sql.get(key)
        if sql is None:
            m = self.mark
            row = f"({m}::integer, {m}::bigint, {m}::bigint, {m}::date, {m}::bigint, {m}::integer)"
            sql = (
                "UPDATE bank_accounts AS a SET balance_minor = v.balance, pending_debits_minor = v.pending, "
                "limit_day = v.limit_day, day_amount_minor = v.day_amount, day_count = v.day_count "
                f"FROM (VALUES {', '.join([row] * accounts)}) "
                "AS v(id, balance, pending, limit_day, day_amount, day_count) WHERE a.id = v.id"
            )
            if postings:
                sql = f"WITH new_postings AS ({self.postings_sql(postings)}) {sql}"
            self._write_sql[key] = sql
        return sql


class _Tx:
    """One transaction on this thread's DBAPI connection, in the statements the ledger needs."""

    def __init__(self, sql: _Statements, pooled: Any, dbapi_error: type[Exception]) -> None:
        self.sql = sql
        # The pool's handle on the connection: while this object lives the connection stays checked out, so
        # pipeline mode is always left (close / __del__) before the pool can hand the connection to anyone.
        self._pooled = pooled
        self.dbapi_conn: Any = pooled.driver_connection
        self.dbapi_error = dbapi_error
        self.cursor = self.dbapi_conn.cursor()
        self._staged_postings: list[Any] = []  # PostgreSQL: sent with the account writes, one round trip
        self._posted_id = 0  # SQLite: the transfer post_transfer inserted
        self._pipeline: Any = None
        self._pipeline_aborted: type[Exception] = dbapi_error
        if sql.postgresql:
            from psycopg.errors import PipelineAborted  # the driver of every PostgreSQL URL we make

            self._pipeline_aborted = PipelineAborted
            # Pipeline mode: BEGIN travels with the first statement and COMMIT with the last, so a transfer
            # is two round trips (insert + lock; postings + balances + commit) instead of four.
            self._pipeline = self.dbapi_conn.pipeline()
            self._pipeline.__enter__()

    def close(self) -> None:
        """Leave pipeline mode before the connection goes back to the pool (other users expect plain mode).
        On a connection that is already gone there is nothing to leave."""
        if self._pipeline is not None:
            pipeline, self._pipeline = self._pipeline, None
            with contextlib.suppress(self.dbapi_error):
                pipeline.__exit__(None, None, None)

    def __del__(self) -> None:
        # A Ledger dropped without close(): leave pipeline mode while the connection is still ours.
        self.close()

    def begin(self) -> None:
        if not self.sql.postgresql:
            self.cursor.execute("BEGIN IMMEDIATE")  # take SQLite's write lock now, not on first write
        # psycopg opens the transaction itself with the first statement.

    def commit(self) -> None:
        if self.sql.postgresql:
            self.dbapi_conn.commit()
        else:
            self.cursor.execute("COMMIT")

    def rollback(self) -> None:
        self._staged_postings.clear()
        if self.sql.postgresql:
            try:
                self.dbapi_conn.rollback()
            except self.dbapi_error as exc:
                # After an error in pipeline mode the statements queued behind it (the COMMIT) answer
                # "pipeline aborted" first; once they are read, the ROLLBACK goes through.
                if not isinstance(exc, self._pipeline_aborted):
                    raise
                self.dbapi_conn.rollback()
        elif self.dbapi_conn.in_transaction:
            self.cursor.execute("ROLLBACK")

    def _account_row(self, row: Sequence[Any]) -> dict[str, Any]:
        account = dict(zip(ACCOUNT_COLUMNS, row, strict=True))
        account["limit_day"] = self.sql.read_date(account["limit_day"])
        account["overdraft_allowed"] = self.sql.read_bool(account["overdraft_allowed"])
        return account

    def insert_transfer_and_lock(self, values: Sequence[Any], ids: list[int]) -> tuple[int, _Locked]:
        """Insert the transfer row first (the idempotency guard), then lock its accounts by ascending id."""
        cursor = self.cursor
        if self.sql.postgresql:
            cursor.execute(self.sql.insert_and_lock, (*values, ids))
            rows = cursor.fetchall()
            if not rows:  # no such accounts: the foreign keys would have failed; refuse before that
                raise _Refusal(RefusalReason.UNKNOWN_ACCOUNT, "no such account")
            return int(rows[0][0]), _Locked({row[1]: self._account_row(row[1:]) for row in rows})
        cursor.execute(self.sql.insert_transfer, values)
        transfer_id = int(cursor.lastrowid)
        return transfer_id, self.lock(ids)

    def lock(self, ids: list[int]) -> _Locked:
        if self.sql.postgresql:
            self.cursor.execute(self.sql.lock_accounts, (ids,))
        else:
            self.cursor.execute(self.sql.lock_sql(len(ids)), ids)
        return _Locked({row[0]: self._account_row(row) for row in self.cursor.fetchall()})

    def insert_postings(self, rows: list[tuple[Any, ...]]) -> None:
        flat = [value for row in rows for value in row]
        if self.sql.postgresql:
            self._staged_postings.append((len(rows), flat))
        else:
            self.cursor.execute(self.sql.postings_sql(len(rows)), flat)

    def write_accounts(self, accounts: list[AccountWrite]) -> None:
        bind_date = self.sql.bind_date
        staged, self._staged_postings = self._staged_postings, []
        if self.sql.postgresql:
            postings = sum(count for count, _ in staged)
            params = [value for _, flat in staged for value in flat]
            params += [value for account in accounts for value in account]
            if accounts:
                self.cursor.execute(self.sql.write_sql(postings, len(accounts)), params)
            elif postings:
                self.cursor.execute(self.sql.postings_sql(postings), params)
            return
        self.cursor.executemany(
            self.sql.update_account,
            [
                (balance, pending, bind_date(day), amount, count, i)
                for i, balance, pending, day, amount, count in accounts
            ],
        )

    def post_transfer(self, arguments: PostArguments) -> None:
        """The transfer in the database. PostgreSQL: queue the call to bank_post_transfer (it leaves with
        the COMMIT). SQLite: insert the transfer row (the idempotency guard), then hand the rest to the
        view's trigger."""
        if self.sql.postgresql:
            self.cursor.execute(self.sql.post_transfer, arguments)
            return
        a = arguments
        self.cursor.execute(self.sql.insert_transfer_returning_id, a.transfer_row())
        self._posted_id = int(self.cursor.fetchone()[0])
        self.cursor.execute(
            self.sql.post_transfer,
            (
                self._posted_id,
                a.pending,
                a.debit,
                a.credit,
                a.amount,
                a.fee,
                a.currency,
                a.description,
                a.payee_description,
                a.bank_day,
                a.now,
                a.fee_account,
                a.use_daily_limits,
            ),
        )

    def posted_transfer_id(self) -> int:
        """After the commit: the new transfer's id (PostgreSQL: bank_post_transfer's answer, which arrived
        with the COMMIT's; SQLite: from the transfer row's RETURNING)."""
        if not self.sql.postgresql:
            return self._posted_id
        row = self.cursor.fetchone()
        return int(row[0])

    def declined(self, exc: Exception) -> bool:
        """Whether ``exc`` is bank_post_transfer declining (nothing written; the general path decides)."""
        if self.sql.postgresql:
            return getattr(exc, "sqlstate", None) == DECLINED_SQLSTATE
        return str(exc) == DECLINED_MESSAGE

    def read_transfer(self, transfer_id: int) -> dict[str, Any] | None:
        self.cursor.execute(self.sql.read_transfer, (transfer_id,))
        row = self.cursor.fetchone()
        if row is None:
            return None
        transfer = dict(zip(RESOLVE_COLUMNS, row, strict=True))
        transfer["bank_day"] = self.sql.read_date(transfer["bank_day"])
        transfer["created_at"] = self.sql.read_datetime(transfer["created_at"])
        return transfer

    def set_transfer_status(
        self, transfer_id: int, status: TransferStatus, now: datetime, reason: str | None
    ) -> None:
        self.cursor.execute(
            self.sql.update_transfer, (status.value, self.sql.bind_datetime(now), reason, transfer_id)
        )


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
        server_transfers: bool = True,
    ) -> None:
        """``server_transfers``: post in one statement when the database can (migration 0009: the function
        bank_post_transfer on PostgreSQL, the view's trigger on SQLite); False keeps every transfer on the
        general path (the tests compare the two)."""
        self.engine = engine
        self.clock = clock
        self._rng = rng or random.Random()
        self._internal: dict[InternalAccount, int] | None = None
        self._for_update = engine.dialect.name == "postgresql"
        self._server_transfers: bool | None = None if server_transfers else False
        self.server_declines = (
            0  # transfers bank_post_transfer handed to the general path (a refusal, mostly)
        )
        self._sql = _Statements(engine.dialect)
        dbapi = engine.dialect.loaded_dbapi
        self._dbapi_error: type[Exception] = dbapi.Error
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
            self.close()
            conn = self.engine.connect()
            self._local.conn = conn
            self._local.tx = _Tx(self._sql, conn.connection, self._dbapi_error)
        return conn

    def _transaction(self) -> tuple[Connection, _Tx]:
        conn = self._connection()
        tx: _Tx = self._local.tx
        return conn, tx

    def close(self) -> None:
        """Give this thread's connection back to the pool."""
        conn: Connection | None = getattr(self._local, "conn", None)
        tx: _Tx | None = getattr(self._local, "tx", None)
        if tx is not None:
            tx.close()
        if conn is not None:
            conn.close()
        self._local.conn = None
        self._local.tx = None

    def _uses_server_transfers(self) -> bool:
        """Whether this database can post a transfer by itself (migrated to 0009 or later; a schema made
        with ``create_all`` cannot)."""
        if self._server_transfers is None:
            probe = (
                "SELECT to_regproc('bank_post_transfer') IS NOT NULL"
                if self._for_update
                else "SELECT count(*) FROM sqlite_master WHERE name = 'bank_transfer_requests_post'"
            )
            with self.engine.connect() as conn:
                self._server_transfers = bool(conn.exec_driver_sql(probe).scalar())
        return self._server_transfers

    def _run(self, work: Callable[[_Tx], T], *, commit: bool = True) -> T | TransferRefused:
        """``work`` in one transaction, retried on contention; ``commit=False``: work commits itself."""
        if self._internal is None:  # outside the transaction: SQLite allows one writer at a time
            self._internal = self._ensure_internal_accounts()
        for attempt in range(MAX_ATTEMPTS):
            conn, tx = self._transaction()
            try:
                tx.begin()
                result = work(tx)
                if commit:
                    self._commit(tx)
                return result
            except _Refusal as refusal:
                self._rollback(conn, tx)
                return refusal.refused
            except self._dbapi_error as orig:
                error = self._translate(conn, tx, orig)
                if isinstance(error, IntegrityError):
                    raise error from orig
                # A dropped connection is safe to retry: a commit that did land replays by its key.
                retry = is_retryable(error) or error.connection_invalidated
                if not retry or attempt == MAX_ATTEMPTS - 1:
                    if retry:
                        return TransferRefused(RefusalReason.BUSY, "database contention; nothing was posted")
                    raise error from orig
                time.sleep(self._rng.uniform(0.001, 0.01) * (attempt + 1))
            except BaseException:
                self._rollback(conn, tx)  # whatever went wrong, nothing half-done stays behind
                raise
        raise AssertionError("unreachable")

    def _commit(self, tx: _Tx) -> None:
        crash_point("ledger.before_commit")
        tx.commit()
        crash_point("ledger.after_commit")

    def _rollback(self, conn: Connection, tx: _Tx) -> None:
        try:
            tx.rollback()
        except self._dbapi_error:
            conn.invalidate()  # the connection is gone; the server rolled the transaction back

    def _translate(self, conn: Connection, tx: _Tx, orig: Exception) -> DBAPIError:
        """The driver's error as SQLAlchemy's (IntegrityError, OperationalError, ...), the connection
        rolled back, or dropped and marked invalid when it was lost."""
        dialect = self.engine.dialect
        lost = dialect.is_disconnect(orig, conn.connection, tx.cursor)  # type: ignore[arg-type]
        if lost:
            conn.invalidate()
        else:
            self._rollback(conn, tx)
            lost = conn.invalidated
        error = DBAPIError.instance(
            None, None, orig, self._dbapi_error, connection_invalidated=lost, dialect=dialect
        )
        return cast(DBAPIError, error)

    # -- transfers ---------------------------------------------------------------------------
    def transfer(self, request: TransferRequest, *, pending: bool = False) -> TransferResult:
        """Post now (or hold as pending) in one transaction; a repeated idempotency key replays."""
        problem = _request_problem(request)
        if problem is not None:
            return problem
        fingerprint = request.fingerprint()
        try:
            if self._uses_server_transfers():
                done = self._run(
                    lambda tx: self._transfer_in_server(tx, request, fingerprint, pending), commit=False
                )
                if done is not None:
                    return done
                # Declined: the general path below decides, and names the reason if it refuses.
            return self._run(lambda tx: self._transfer_once(tx, request, fingerprint, pending))
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

    def _post_arguments(
        self, request: TransferRequest, fingerprint: str, pending: bool, now: datetime
    ) -> PostArguments:
        """The request in the database's types: the transfer row for both paths, and the whole call for
        bank_post_transfer (texts cut to their columns, the fee account only when there is a fee)."""
        sql = self._sql
        return PostArguments(
            request.idempotency_key,
            fingerprint,
            request.kind.value,
            pending,
            request.debit_account_id,
            request.credit_account_id,
            request.amount_minor,
            request.fee_minor,
            request.currency,
            request.payee_bank_code,
            request.payee_account,
            sql.bind_payee_name(request.payee_name),
            request.description[:80],
            request.payee_description[:80],
            request.channel,
            request.kiosk_id,
            sql.bind_date(bank_day_of(now)),
            sql.bind_datetime(now),
            self.internal_account_id(InternalAccount.FEES) if request.fee_minor else None,
            request.channel == KIOSK_CHANNEL,
        )

    def _transfer_in_server(
        self, tx: _Tx, request: TransferRequest, fingerprint: str, pending: bool
    ) -> TransferOutcome | None:
        """The transfer as one statement: bank_post_transfer sent with COMMIT (PostgreSQL, one round trip),
        the view's trigger (SQLite). None when it declined (nothing written): a rule did not clearly allow
        it."""
        now = self.clock()
        try:
            tx.post_transfer(self._post_arguments(request, fingerprint, pending, now))
            self._commit(tx)
        except self._dbapi_error as exc:
            if not tx.declined(exc):
                raise
            tx.rollback()
            self.server_declines += 1
            return None
        status = TransferStatus.PENDING if pending else TransferStatus.POSTED
        return TransferOutcome(
            tx.posted_transfer_id(),
            status,
            request.amount_minor,
            request.fee_minor,
            request.currency,
            now,
        )

    def _transfer_once(
        self, tx: _Tx, request: TransferRequest, fingerprint: str, pending: bool
    ) -> TransferOutcome:
        now = self.clock()
        bank_day = bank_day_of(now)
        status = TransferStatus.PENDING if pending else TransferStatus.POSTED
        arguments = self._post_arguments(request, fingerprint, pending, now)
        stored_now, fee_account = arguments.now, arguments.fee_account
        values = arguments.transfer_row()
        ids = {request.debit_account_id, request.credit_account_id} | (
            {fee_account} if fee_account else set()
        )
        transfer_id, locked = tx.insert_transfer_and_lock(values, sorted(ids))
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
            self._write_postings(tx, locked, transfer_id, request, stored_now, fee_account)
        self._write_back(tx, locked)
        return TransferOutcome(
            transfer_id, status, request.amount_minor, request.fee_minor, request.currency, now
        )

    def _write_postings(
        self,
        tx: _Tx,
        locked: _Locked,
        transfer_id: int,
        request: TransferRequest,
        stored_now: Any,
        fee_account: int | None,
    ) -> None:
        """``stored_now``: the moment as the database stores it (bound once per transfer)."""
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
                (
                    transfer_id,
                    account_id,
                    amount,
                    account["balance_minor"],
                    request.currency,
                    description[:80],
                    stored_now,
                )
            )
        tx.insert_postings(rows)

    def _write_back(self, tx: _Tx, locked: _Locked) -> None:
        """Write the touched account rows (and, on PostgreSQL, the postings staged with them)."""
        tx.write_accounts(
            [
                (
                    account_id,
                    row["balance_minor"],
                    row["pending_debits_minor"],
                    row["limit_day"],
                    row["day_amount_minor"],
                    row["day_count"],
                )
                for account_id in sorted(locked.dirty)
                for row in (locked.rows[account_id],)
            ]
        )

    # -- pending → posted | voided -----------------------------------------------------------
    def post_pending(self, transfer_id: int) -> TransferResult:
        """Settle a pending transfer: write its postings, release the hold. Posting twice is a no-op."""
        return self._run(lambda tx: self._resolve(tx, transfer_id, post=True, reason=None))

    def void_pending(self, transfer_id: int, reason: str) -> TransferResult:
        """Cancel a pending transfer: release the hold (and its daily-limit use); no postings."""
        return self._run(lambda tx: self._resolve(tx, transfer_id, post=False, reason=reason))

    def _resolve(self, tx: _Tx, transfer_id: int, *, post: bool, reason: str | None) -> TransferOutcome:
        row = tx.read_transfer(transfer_id)  # FOR NO KEY UPDATE on PostgreSQL
        if row is None:
            raise _Refusal(RefusalReason.NOT_PENDING, f"no transfer {transfer_id}")
        wanted = TransferStatus.POSTED if post else TransferStatus.VOIDED
        if row["status"] == wanted.value:
            return _outcome_of(row, replayed=True)
        if row["status"] != TransferStatus.PENDING.value:
            raise _Refusal(RefusalReason.NOT_PENDING, f"transfer {transfer_id} is {row['status']}")
        now = self.clock()
        request = _request_from_row(row)
        fee_account = self.internal_account_id(InternalAccount.FEES) if request.fee_minor else None
        ids = {request.debit_account_id, request.credit_account_id} | (
            {fee_account} if fee_account else set()
        )
        locked = tx.lock(sorted(ids))
        debit = locked.rows[request.debit_account_id]
        debit["pending_debits_minor"] -= request.hold_minor
        locked.dirty.add(debit["id"])
        if post:
            self._write_postings(tx, locked, transfer_id, request, self._sql.bind_datetime(now), fee_account)
        elif request.channel == KIOSK_CHANNEL and debit["limit_day"] == row["bank_day"]:
            debit["day_amount_minor"] -= request.amount_minor
            debit["day_count"] -= 1
        self._write_back(tx, locked)
        tx.set_transfer_status(transfer_id, wanted, now, reason)
        return TransferOutcome(
            transfer_id,
            wanted,
            row["amount_minor"],
            row["fee_minor"],
            row["currency"],
            row["created_at"],
            False,
            reason,
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
    if account["status"] == AccountStatus.FROZEN:
        raise _Refusal(RefusalReason.ACCOUNT_FROZEN, "the account is frozen")
    if account["status"] == AccountStatus.CLOSED:
        raise _Refusal(RefusalReason.ACCOUNT_CLOSED, "the account is closed")
    if account["kind"] == AccountKind.INTERNAL:
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
    if account["status"] == AccountStatus.FROZEN:
        raise _Refusal(RefusalReason.PAYEE_ACCOUNT_FROZEN, "the payee account is frozen")
    if account["status"] == AccountStatus.CLOSED:
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


def _outcome_of(row: dict[str, Any], *, replayed: bool) -> TransferOutcome:
    return TransferOutcome(
        row["id"],
        TransferStatus(row["status"]),
        row["amount_minor"],
        row["fee_minor"],
        row["currency"],
        row["created_at"],
        replayed,
        row["void_reason"],
    )


def _request_from_row(row: dict[str, Any]) -> TransferRequest:
    return TransferRequest(
        idempotency_key=row["idempotency_key"],
        kind=TransferKind(row["kind"]),
        debit_account_id=row["debit_account_id"],
        credit_account_id=row["credit_account_id"],
        amount_minor=row["amount_minor"],
        currency=row["currency"],
        fee_minor=row["fee_minor"],
        description=row["description"],
        payee_description=_payee_side_description(row),
        channel=row["channel"],
    )


def _payee_side_description(row: dict[str, Any]) -> str:
    if row["kind"] == TransferKind.OTHER_BANK.value:
        return f"Outgoing to bank {row['payee_bank_code']}"
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
