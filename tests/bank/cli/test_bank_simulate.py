"""``smart-teller host bank simulate``: a JSON report from a throw-away database; failures name the seed."""

from __future__ import annotations

import json

import pytest

import bank.ledger.core as ledger_core  # where the Ledger looks its rules up, so where to patch one
from bank.cli import main


def test_simulate_prints_a_clean_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bank", "simulate", "--seed", "3", "--ops", "300", "--check-every", "100"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["seed"] == 3 and report["ops"] == 300 and report["database"] == "sqlite"
    assert report["violations"] == 0 and report["failure"] is None
    assert report["invariant_checks"] == 4  # after operations 100, 200, 300 and at the end


def test_simulate_failure_exits_1_with_the_seed_to_reproduce(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_core, "_check_can_receive", lambda account, request: None)
    assert main(["bank", "simulate", "--seed", "11", "--ops", "3000"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("smart-teller: simulation failed: seed 11, operation ")
    assert "smart-teller host bank simulate --seed 11 --ops 3000 --db sqlite" in err


def test_simulate_refuses_an_unknown_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bank", "simulate", "--db", "mysql"]) == 2
    assert capsys.readouterr().err.strip() == "smart-teller: --db must be sqlite or postgresql, not 'mysql'"
