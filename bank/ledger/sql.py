"""The hot path's SQL, written once per dialect, and the binders that put values in the database's types.

A transfer runs on the DBAPI cursor with SQL text written once per dialect: through SQLAlchemy's execution
machinery each statement cost 50-80 µs, several times a WAL commit on this hardware. Column types (UTC
datetimes, dates, encrypted payee names) go through the same SQLAlchemy type processors, so the rows are
byte-for-byte what the ORM writes and reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Dialect

from bank.models import Account, Posting, Transfer

ACCOUNTS = cast(Table, Account.__table__)
TRANSFERS = cast(Table, Transfer.__table__)
POSTINGS = cast(Table, Posting.__table__)

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
            # The same text as SQLAlchemy's SQLite processors (tests/bank/test_ledger_hot_path.py
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
