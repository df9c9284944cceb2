"""The ledger's transactions: one per transfer, on this thread's DBAPI connection, retried with jitter.

_Tx speaks the statements the ledger needs on the connection (in psycopg's pipeline mode on PostgreSQL, so
BEGIN travels with the first statement and COMMIT with the last). _Transactions is the Ledger's base: it
keeps that connection per thread and runs a unit of work in one transaction; serialisation failures,
deadlocks, a busy SQLite and lost connections are retried with jitter, a _Refusal unwinds the
transaction and becomes a TransferRefused value. The crash points around the commit are here
(``hostlink.chaos``).
"""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from bank.ledger.rules import is_retryable
from bank.ledger.sql import ACCOUNT_COLUMNS, DECLINED_MESSAGE, DECLINED_SQLSTATE, RESOLVE_COLUMNS, _Statements
from bank.ledger.types import AccountWrite, PostArguments, RefusalReason, TransferRefused, _Refusal
from bank.models import InternalAccount, TransferStatus
from hostlink.chaos import crash_point

MAX_ATTEMPTS = 8

T = TypeVar("T")


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


class _Transactions:
    """The Ledger's transaction runner (the Ledger sets these attributes; a base class rather than a member
    object, so a transfer pays no extra attribute hop or call)."""

    engine: Engine
    _rng: random.Random
    _sql: _Statements
    _dbapi_error: type[Exception]
    _local: threading.local
    _internal: dict[InternalAccount, int] | None

    def _ensure_internal_accounts(self) -> dict[InternalAccount, int]:
        raise NotImplementedError

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
