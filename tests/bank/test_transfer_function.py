"""The transfer in one statement (migration 0009: PostgreSQL's function bank_post_transfer, SQLite's trigger
on the view bank_transfer_requests) against the ledger's general path.

Both paths get the same random accounts and request, each on its own pair of fresh accounts: the result
(posted, pending, or the same refusal with the same words), the account rows after, the transfer row and the
postings must be identical. And the database must decline exactly what the rules refuse: a function that
declined everything would pass the comparison (the general path would do all the work), so the decline
count is checked case by case.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import UTC, date, datetime
from typing import Any

from alembic import command
from sqlalchemy import Engine, insert, select

from bank.check import check_ledger
from bank.db.migrate import alembic_config, upgrade
from bank.ledger import (
    ACCOUNTS,
    KIOSK_CHANNEL,
    POSTINGS,
    TRANSFERS,
    Ledger,
    RefusalReason,
    TransferOutcome,
    TransferRefused,
    TransferRequest,
)
from bank.models import InternalAccount, TransferKind, TransferStatus

MOMENT = datetime(2026, 3, 10, 17, 30, 5, tzinfo=UTC)  # 11 March in Beijing
TODAY, YESTERDAY = date(2026, 3, 11), date(2026, 3, 10)
serials = itertools.count(1)

CASES = 300
FOCUSES = ("funds", "funds", "day amount", "day count", "currency", "status", "anything")


def _account_state(rng: random.Random) -> dict[str, Any]:
    return {
        "kind": rng.choice(["current", "current", "savings", "internal"]),
        "status": rng.choice(["active"] * 10 + ["frozen", "closed"]),
        "currency": rng.choice(["CNY"] * 12 + ["USD"]),
        "balance_minor": rng.randint(-2_000, 20_000),
        "pending_debits_minor": rng.choice([0, 0, 500, 3_000]),
        "overdraft_allowed": rng.random() < 0.5,
        "overdraft_limit_minor": rng.choice([0, 1_000, 10_000]),
        "daily_transfer_limit_minor": rng.choice([0, 5_000, 50_000]),
        "daily_transfer_count_limit": rng.choice([0, 1, 3, 20]),
        "limit_day": rng.choice([None, YESTERDAY, TODAY]),
        "day_amount_minor": rng.choice([0, 2_000, 4_900]),
        "day_count": rng.choice([0, 1, 2, 3]),
    }


def _case(rng: random.Random) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], bool]:
    """Payer, payee, request and pending?. Most cases put one rule on its boundary (within a unit of the
    funds or the day's amount left, the day count at its limit, one foreign currency, one frozen or closed
    account) with everything else allowed, so a guard that is wrong about any one rule shows; "anything"
    draws every field at random."""
    focus = rng.choice(FOCUSES)
    payer, payee = _account_state(rng), _account_state(rng)
    request = {
        "amount_minor": rng.randint(1, 12_000),
        "fee_minor": rng.choice([0, 0, 150]),
        "currency": "CNY",
        "channel": rng.choice([KIOSK_CHANNEL, KIOSK_CHANNEL, "branch"]),
        "description": rng.choice(["", "Rent", "x" * 100]),
        "payee_description": rng.choice(["Incoming transfer", "y" * 90]),
    }
    pending = rng.random() < 0.3
    if focus == "anything":
        request["currency"] = rng.choice(["CNY"] * 12 + ["USD"])
        return payer, payee, request, pending
    allowed = {"status": "active", "currency": "CNY"}
    plenty = {"balance_minor": 1_000_000, "daily_transfer_limit_minor": 1_000_000}
    plenty |= {"daily_transfer_count_limit": 100, "day_count": 0}
    payer |= allowed
    payee |= allowed
    if focus == "funds":
        payer |= {"daily_transfer_limit_minor": 1_000_000, "daily_transfer_count_limit": 100}
        fee = request["fee_minor"] = rng.choice([0, 150, 150])  # the fee is held too
        available = payer["balance_minor"] - payer["pending_debits_minor"]
        available += payer["overdraft_limit_minor"] if payer["overdraft_allowed"] else 0
        request["amount_minor"] = max(1, available - fee + rng.choice([-1, 0, 1]))
        return payer, payee, request, pending
    payer |= plenty
    if focus == "day amount":
        request["channel"] = KIOSK_CHANNEL
        payer["daily_transfer_limit_minor"] = rng.choice([0, 5_000, 50_000])
        used_today = payer["day_amount_minor"] if payer["limit_day"] == TODAY else 0
        left = payer["daily_transfer_limit_minor"] - used_today
        request["amount_minor"] = max(1, left + rng.choice([-1, 0, 1]))
    elif focus == "day count":
        request["channel"] = KIOSK_CHANNEL
        limit = payer["daily_transfer_count_limit"] = rng.randint(0, 3)
        payer["day_count"] = max(0, limit + rng.choice([-1, 0, 1]))
    elif focus == "currency":
        rng.choice([payer, payee, request])["currency"] = "USD"
    else:
        rng.choice([payer, payee])["status"] = rng.choice(["frozen", "closed"])
    return payer, payee, request, pending


def _new_account(engine: Engine, state: dict[str, Any]) -> int:
    serial = next(serials)
    values = state | {"number": f"9{serial:015d}", "created_at": MOMENT}
    with engine.begin() as conn:
        return int(conn.execute(insert(ACCOUNTS).values(**values).returning(ACCOUNTS.c.id)).scalar_one())


def _account(engine: Engine, account_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == account_id)).one()._asdict()
    return {k: v for k, v in row.items() if k not in ("id", "number")}


def _written(engine: Engine, result: TransferOutcome, roles: dict[int, str]) -> dict[str, Any]:
    """The transfer row and its postings, with ids replaced by the accounts' roles."""
    with engine.connect() as conn:
        transfer = conn.execute(select(TRANSFERS).where(TRANSFERS.c.id == result.transfer_id)).one()
        postings = conn.execute(
            select(POSTINGS).where(POSTINGS.c.transfer_id == result.transfer_id).order_by(POSTINGS.c.id)
        ).all()
    row = transfer._asdict()
    for column in ("id", "idempotency_key", "request_fingerprint", "debit_account_id", "credit_account_id"):
        row.pop(column)
    return {
        "transfer": row,
        "postings": [
            (
                roles[p.account_id],
                p.amount_minor,
                p.balance_after_minor if roles[p.account_id] != "fees" else None,
                p.currency,
                p.description.replace(str(result.transfer_id), "<id>"),
                p.created_at,
            )
            for p in postings
        ],
    }


def test_the_function_and_the_general_path_agree(bank_engine: Engine) -> None:
    rng = random.Random(20261126)
    in_server = Ledger(bank_engine, clock=lambda: MOMENT)
    general = Ledger(bank_engine, clock=lambda: MOMENT, server_transfers=False)
    fees = in_server.internal_account_id(InternalAccount.FEES)
    outcomes: Counter[str] = Counter()
    try:
        for number in range(CASES):
            payer, payee, request, pending = _case(rng)
            seen = {
                name: _run_case(bank_engine, ledger, fees, payer, payee, request, pending, name)
                for name, ledger in (("server", in_server), ("general", general))
            }
            assert seen["server"] == seen["general"], (
                f"case {number}: {payer=} {payee=} {request=} {pending=}"
            )
            result = seen["general"]["result"]
            outcomes[result.reason.value if isinstance(result, TransferRefused) else result[0].value] += 1
    finally:
        in_server.close()
        general.close()
    # The cases reach every rule and both kinds of success (otherwise the comparison proves little).
    assert set(outcomes) >= {
        "posted",
        "pending",
        "insufficient_funds",
        "daily_limit",
        "daily_count_limit",
        "currency_mismatch",
        "account_frozen",
        "account_closed",
        "payee_account_frozen",
        "payee_account_closed",
    }, outcomes


def _run_case(
    engine: Engine,
    ledger: Ledger,
    fees: int,
    payer: dict[str, Any],
    payee: dict[str, Any],
    request: dict[str, Any],
    pending: bool,
    name: str,
) -> dict[str, Any]:
    """One path on a fresh pair of accounts: what it answered and what it wrote."""
    debit, credit = _new_account(engine, payer), _new_account(engine, payee)
    fee_balance = _account(engine, fees)["balance_minor"]
    declines = ledger.server_declines
    result = ledger.transfer(
        TransferRequest(f"{name}-{debit}", TransferKind.INTERNAL, debit, credit, **request), pending=pending
    )
    if name == "server":  # it declines exactly what the rules refuse: it does the work, not the general path
        assert ledger.server_declines - declines == (1 if isinstance(result, TransferRefused) else 0)
    return {
        "result": (
            result
            if isinstance(result, TransferRefused)
            else (result.status, result.amount_minor, result.fee_minor, result.created_at)
        ),
        "payer": _account(engine, debit),
        "payee": _account(engine, credit),
        "fee account gained": _account(engine, fees)["balance_minor"] - fee_balance,
        "written": (
            _written(engine, result, {debit: "payer", credit: "payee", fees: "fees"})
            if isinstance(result, TransferOutcome)
            else None
        ),
    }


def test_a_posted_transfer_is_one_statement_and_keeps_the_ledger_whole(bank_engine: Engine) -> None:
    ledger = Ledger(bank_engine, clock=lambda: MOMENT)
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    fees = ledger.internal_account_id(InternalAccount.FEES)
    state = {"kind": "current", "status": "active", "currency": "CNY", "balance_minor": 0}
    payer, payee = _new_account(bank_engine, state), _new_account(bank_engine, state)
    fund = TransferRequest("fund", TransferKind.FUNDING, funding, payer, 10_000, "CNY", channel="branch")
    assert isinstance(ledger.transfer(fund), TransferOutcome)
    pay = TransferRequest("pay-1", TransferKind.INTERNAL, payer, payee, 2_500, "CNY", fee_minor=100)
    posted = ledger.transfer(pay)
    assert isinstance(posted, TransferOutcome) and posted.status is TransferStatus.POSTED
    assert ledger.server_declines == 0
    replay = ledger.transfer(pay)
    assert isinstance(replay, TransferOutcome) and replay.replayed
    assert replay.transfer_id == posted.transfer_id
    reused = ledger.transfer(
        TransferRequest("pay-1", TransferKind.INTERNAL, payer, payee, 2_600, "CNY", fee_minor=100)
    )
    assert reused == TransferRefused(
        RefusalReason.IDEMPOTENCY_KEY_REUSED, "this key was used for a different request"
    )
    too_much = ledger.transfer(TransferRequest("pay-2", TransferKind.INTERNAL, payer, payee, 9_000, "CNY"))
    assert isinstance(too_much, TransferRefused)
    assert too_much.reason is RefusalReason.INSUFFICIENT_FUNDS
    assert ledger.server_declines == 1
    unknown = ledger.transfer(TransferRequest("pay-3", TransferKind.INTERNAL, payer, 999_999, 1, "CNY"))
    assert unknown == TransferRefused(RefusalReason.UNKNOWN_ACCOUNT, "no such account")
    # After a decline and two errors the connection is still the same one (on PostgreSQL in pipeline mode).
    connection, declines = ledger._local.tx.dbapi_conn, ledger.server_declines
    assert isinstance(
        ledger.transfer(TransferRequest("pay-4", TransferKind.OWN, payer, payee, 1, "CNY")), TransferOutcome
    )
    assert ledger._local.tx.dbapi_conn is connection and ledger.server_declines == declines
    if bank_engine.dialect.name == "postgresql":
        assert connection._pipeline is not None
    ledger.close()
    assert _account(bank_engine, payer)["balance_minor"] == 10_000 - 2_500 - 100 - 1
    assert _account(bank_engine, fees)["balance_minor"] == 100
    with bank_engine.connect() as conn:
        assert check_ledger(conn).ok


def test_migration_0009_goes_down_and_up_and_the_ledger_follows(bank_engine: Engine) -> None:
    """Below 0009 the database cannot post by itself: a new ledger takes the general path, and posts."""
    command.downgrade(alembic_config(bank_engine), "0008_ledger_indexes")
    ledger = Ledger(bank_engine, clock=lambda: MOMENT)
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    payee = _new_account(bank_engine, {"kind": "current", "status": "active", "currency": "CNY"})
    fund = TransferRequest("down-1", TransferKind.FUNDING, funding, payee, 500, "CNY", channel="branch")
    assert isinstance(ledger.transfer(fund), TransferOutcome)
    assert ledger._server_transfers is False
    ledger.close()
    upgrade(bank_engine)
    ledger = Ledger(bank_engine, clock=lambda: MOMENT)
    fund = TransferRequest("up-1", TransferKind.FUNDING, funding, payee, 500, "CNY", channel="branch")
    assert isinstance(ledger.transfer(fund), TransferOutcome)
    assert ledger._server_transfers is True and ledger.server_declines == 0
    ledger.close()
    assert _account(bank_engine, payee)["balance_minor"] == 1_000
