"""``smart-teller host billing run-scheduled`` through the real entry point on a seeded data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.billing.service import BillingService
from bank.cli import main
from bank.models import Account
from bank.runtime import start_runtime
from bank.settings import load_host_settings as load_settings


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMART_TELLER_HOST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMART_TELLER_HOST_CONFIG", "/dev/null")
    from bank.host import Host

    host = Host(start_runtime(load_settings()))
    runtime = host.runtime
    try:
        host.seed_if_empty()
        billing = BillingService(runtime.engine, runtime.vault)
        plans = (
            ("0001100000010014", 5_000),  # Wang Fang: paid
            ("0001100000010097", 20_000),  # Liu Yang, ¥88.00: refused
        )
        with Session(runtime.engine) as session:  # read, then close before writing (SQLite: one writer)
            accounts = [session.scalar(select(Account).where(Account.number == n)) for n, _ in plans]
        for account, (_, amount) in zip(accounts, plans, strict=True):
            assert account is not None and account.customer_id is not None
            billing.create_schedule(
                customer_id=account.customer_id,
                from_account_id=account.id,
                biller_code="PHONE",
                number="13912345678",
                day_of_month=3,
                amount_minor=amount,
            )
    finally:
        host.close()
    return tmp_path / "data"


def test_run_scheduled_pays_once_and_names_the_refusal(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["billing", "run-scheduled", "--now", "2026-03-05T09:00+08:00"]) == 1
    out, err = capsys.readouterr()
    runs = [json.loads(line) for line in out.splitlines()]
    assert [(r["result"], r["amount_minor"]) for r in runs] == [("paid", 5_000), ("insufficient_funds", 0)]
    assert runs[0]["reference"].startswith("BP")
    assert "schedule 2: insufficient_funds" in err and "\n" not in err.strip()
    # The same month again: nothing left to run.
    assert main(["billing", "run-scheduled", "--now", "2026-03-20T09:00+08:00"]) == 0
    assert capsys.readouterr().out == ""


def test_a_bad_time_is_a_one_line_error(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["billing", "run-scheduled", "--now", "yesterday"]) == 2
    assert "--now is not an ISO time" in capsys.readouterr().err
