"""The Ledger: transfers (in the database's own transfer when it can, else the general path), replays,
pending → posted | voided, and the bank's internal accounts.

The general path inserts the transfer row (the idempotency guard), locks its accounts, applies the rules
(``rules``), then writes the postings and balances; its transactions run on ``transaction._Transactions``.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Engine, Row, insert, select
from sqlalchemy.exc import IntegrityError

from bank.ledger.rules import (
    _check_can_pay,
    _check_can_receive,
    _request_problem,
    _use_daily_limits,
    bank_day_of,
)
from bank.ledger.sql import ACCOUNTS, TRANSFERS, _Statements
from bank.ledger.transaction import _Locked, _Transactions, _Tx
from bank.ledger.types import (
    BANK_TIMEZONE,
    KIOSK_CHANNEL,
    PostArguments,
    RefusalReason,
    TransferOutcome,
    TransferRefused,
    TransferRequest,
    TransferResult,
    _Refusal,
)
from bank.models import AccountKind, AccountStatus, InternalAccount, TransferKind, TransferStatus, utcnow
from bank.numbers import make_account_number

INTERNAL_SERIALS = {InternalAccount.FUNDING: 1, InternalAccount.CLEARING: 2, InternalAccount.FEES: 3}


class Ledger(_Transactions):
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        server_transfers: bool = True,
        timezone: tzinfo = BANK_TIMEZONE,
    ) -> None:
        """``server_transfers``: post in one statement when the database can (migration 0009: the function
        bank_post_transfer on PostgreSQL, the view's trigger on SQLite); False keeps every transfer on the
        general path (the tests compare the two). ``timezone``: the bank's, whose midnight starts a bank day
        (the day a transfer is booked on and its daily limits count towards)."""
        self.engine = engine
        self.clock = clock
        self.timezone = timezone
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
            sql.bind_date(bank_day_of(now, self.timezone)),
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
        bank_day = bank_day_of(now, self.timezone)
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
