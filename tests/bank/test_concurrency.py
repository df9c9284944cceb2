"""Several processes transfer from one account at once: never overdrawn, no lost update, one posting set
per idempotency key, trial balance zero. SQLite (file, 2 processes) always; PostgreSQL (4 processes)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.engine import Engine

from bank.check import check_ledger
from bank.db.engine import make_engine
from bank.ledger import ACCOUNTS, TRANSFERS, Ledger, TransferRequest
from bank.models import InternalAccount, TransferKind

REPO = Path(__file__).resolve().parents[2]
FUNDS = 10_000  # ¥100.00
AMOUNT = 700  # ¥7.00: at most 14 transfers fit
PER_WORKER = 12
SHARED_KEYS = 4  # every worker also tries these keys: each must post exactly once

WORKER = r"""
import json, sys, time
from bank.ledger import Ledger, TransferOutcome, TransferRequest
from bank.models import TransferKind
from bank.db.engine import make_engine

url, worker, payer, payee, start_at, per_worker, shared, amount = sys.argv[1:9]
engine = make_engine(url)
ledger = Ledger(engine)
keys = [f"shared-{i}" for i in range(int(shared))] + [f"w{worker}-{i}" for i in range(int(per_worker))]
time.sleep(max(0.0, float(start_at) - time.time()))
outcomes = {}
for key in keys:
    request = TransferRequest(key, TransferKind.INTERNAL, int(payer), int(payee), int(amount), "CNY")
    result = ledger.transfer(request)
    if isinstance(result, TransferOutcome):
        outcomes[key] = "replayed" if result.replayed else "posted"
    else:
        outcomes[key] = result.reason.value
engine.dispose()
print(json.dumps(outcomes))
"""


def _setup(engine: Engine) -> tuple[int, int]:
    ledger = Ledger(engine)
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    values: dict[str, Any] = {
        "kind": "current",
        "status": "active",
        "currency": "CNY",
        "balance_minor": 0,
        "pending_debits_minor": 0,
        "overdraft_allowed": False,
        "overdraft_limit_minor": 0,
        "daily_transfer_limit_minor": 10**9,
        "daily_transfer_count_limit": 10**6,
        "day_amount_minor": 0,
        "day_count": 0,
        "created_at": ledger.clock(),
    }
    table: Table = ACCOUNTS
    with engine.begin() as conn:
        payer = conn.execute(insert(table).values(number="C1", **values)).inserted_primary_key[0]  # type: ignore[index]
        payee = conn.execute(insert(table).values(number="C2", **values)).inserted_primary_key[0]  # type: ignore[index]
    ledger.transfer(
        TransferRequest("fund", TransferKind.FUNDING, funding, payer, FUNDS, "CNY", channel="internal")
    )
    return int(payer), int(payee)


def _race(url: str, workers: int) -> None:
    engine = make_engine(url)
    payer, payee = _setup(engine)
    start_at = time.time() + 1.5  # all workers start together, after their imports
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WORKER,
                url,
                str(w),
                str(payer),
                str(payee),
                str(start_at),
                str(PER_WORKER),
                str(SHARED_KEYS),
                str(AMOUNT),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out))

    posted_keys = [key for result in results for key, outcome in result.items() if outcome == "posted"]
    assert len(posted_keys) == len(set(posted_keys)), "a key was posted twice"
    refusals = {outcome for result in results for outcome in result.values()} - {"posted", "replayed"}
    assert refusals <= {"insufficient_funds"}
    with engine.connect() as conn:
        balance = conn.execute(select(ACCOUNTS.c.balance_minor).where(ACCOUNTS.c.id == payer)).scalar_one()
        received = conn.execute(select(ACCOUNTS.c.balance_minor).where(ACCOUNTS.c.id == payee)).scalar_one()
        rows = conn.execute(select(func.count()).where(TRANSFERS.c.debit_account_id == payer)).scalar_one()
        shared_rows = conn.execute(
            select(TRANSFERS.c.idempotency_key, func.count())
            .where(TRANSFERS.c.idempotency_key.like("shared-%"))
            .group_by(TRANSFERS.c.idempotency_key)
        ).all()
        postings = conn.execute(text("SELECT count(*) FROM bank_postings")).scalar_one()
        report = check_ledger(conn)
    engine.dispose()
    assert report.ok, report.violations
    # Every posted transfer is in the database, and only those: no lost update, no phantom.
    assert rows == len(posted_keys)
    assert balance == FUNDS - AMOUNT * rows >= 0
    assert received == AMOUNT * rows
    assert rows == FUNDS // AMOUNT  # contention drained the account exactly to what fits
    assert postings == 2 * (rows + 1)  # + the funding transfer
    assert len(shared_rows) == SHARED_KEYS and all(count == 1 for _, count in shared_rows)
    shared_posted = [key for key in posted_keys if key.startswith("shared-")]
    assert sorted(shared_posted) == [f"shared-{i}" for i in range(SHARED_KEYS)]  # once each, by one worker
    replays = sum(1 for result in results for key, outcome in result.items() if outcome == "replayed")
    assert replays == SHARED_KEYS * (workers - 1)


def test_two_processes_on_one_sqlite_file(engine: Engine) -> None:
    _race(engine.url.render_as_string(hide_password=False), workers=2)


@pytest.mark.postgres
def test_four_processes_on_postgresql(pg_database: str) -> None:
    _race(pg_database, workers=4)
