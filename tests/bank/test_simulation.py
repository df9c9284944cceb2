"""The seeded bank simulation (VOPR-style): a slice in every test run, the ≥ 10⁵-operation runs under soak.

Each run mixes own/customer/other-bank transfers, retries, reused keys, crashes (mid-transaction, after the
commit, a lost connection), clearing runs, deposits and freezes across four kiosks; an independent model
predicts every answer and balance, and ``bank.check`` runs every ``check_every`` operations.
"""

from __future__ import annotations

import pytest

import bank.ledger as ledger_module
import bank.ledger.core as ledger_core  # where the Ledger looks its rules up, so where to patch one
from bank.models import InternalAccount
from bank.simulation import SimulationReport, run_simulation

# Every kind of operation and answer the simulation is meant to produce; a slice that missed one would
# not be testing what it claims.
OPERATIONS = {
    "own",
    "customer",
    "other_bank",
    "deposit",
    "clearing",
    "freeze_toggle",
    "key_reused",
    "crash_mid_transaction",
    "crash_after_commit",
    "crash_connection_lost",
    "retry_after_crash_mid_transaction",
    "retry_after_crash_after_commit",
    "process_killed",
    "retry_after_process_killed",
}
OUTCOMES = {
    "posted",
    "pending",
    "replayed",
    "crashed",
    "killed",
    "settled",
    "rejected_by_clearing",
    "insufficient_funds",
    "daily_limit",
    "daily_count_limit",
    "account_frozen",
    "payee_account_frozen",
    "payee_name_mismatch",
    "not_own_account",
    "idempotency_key_reused",
}


def assert_clean(report: SimulationReport, ops: int) -> None:
    assert report.failure is None, report.failure
    assert report.violations == 0
    assert report.ops == ops
    assert report.checks >= 2
    assert set(report.operations) >= OPERATIONS, OPERATIONS - set(report.operations)
    assert set(report.outcomes) >= OUTCOMES, OUTCOMES - set(report.outcomes)
    assert report.ledger["transfers"] > ops // 5


def test_three_thousand_operations_on_sqlite() -> None:
    report = run_simulation(20260310, 3_000, db="sqlite", check_every=1_000)
    assert_clean(report, 3_000)


@pytest.mark.postgres
def test_two_thousand_operations_on_postgresql(pg_database: str) -> None:
    report = run_simulation(4242, 2_000, url=pg_database, check_every=1_000)
    assert report.database == "postgresql"
    assert_clean(report, 2_000)


def test_a_seed_replays_the_same_history() -> None:
    first = run_simulation(7, 400, db="sqlite", check_every=200)
    second = run_simulation(7, 400, db="sqlite", check_every=200)
    other = run_simulation(8, 400, db="sqlite", check_every=200)
    assert first.failure is None and second.failure is None
    assert (first.operations, first.outcomes, first.ledger) == (
        second.operations,
        second.outcomes,
        second.ledger,
    )
    assert (first.operations, first.outcomes) != (other.operations, other.outcomes)


def test_a_planted_bug_is_caught_and_its_seed_reproduces_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ledger that forgets to check the payee's status pays into frozen accounts: the model notices,
    names the seed and the operation, and the same seed stops at the same operation again."""
    monkeypatch.setattr(ledger_core, "_check_can_receive", lambda account, request: None)
    first = run_simulation(11, 3_000, db="sqlite")
    again = run_simulation(11, 3_000, db="sqlite")
    assert first.failure is not None and first.violations == 1
    assert "seed 11, operation" in first.failure
    assert "expected payee_account_frozen" in first.failure
    assert first.failure == again.failure and first.ops == again.ops < 3_000


def test_a_drifting_balance_is_caught_by_the_periodic_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fee postings written but the FEES account row never updated: no answer changes (FEES never pays),
    so only the invariant check can see it — and it must."""
    original = ledger_module.Ledger._write_back

    def forget_the_fees_row(
        self: ledger_module.Ledger, tx: ledger_module._Tx, locked: ledger_module._Locked
    ) -> None:
        locked.dirty.discard(self.internal_account_id(InternalAccount.FEES))
        original(self, tx, locked)

    monkeypatch.setattr(ledger_module.Ledger, "_write_back", forget_the_fees_row)
    report = run_simulation(5, 400, db="sqlite", check_every=100)
    assert report.failure is not None and report.checks >= 1
    assert "bank check: balance_matches_postings" in report.failure
    assert (report.ops + 1) % 100 == 0  # found by the check after operation 99, not by a wrong answer


# Kiosks as threads: the database decides the order of commits; shared keys race, crashes happen mid-race.
THREAD_OPERATIONS = {"own", "customer", "other_bank", "deposit", "shared_key", "crash", "clearing"}


def assert_clean_race(report: SimulationReport, ops: int) -> None:
    assert report.failure is None, report.failure
    assert report.mode == "threads" and report.ops == ops and report.checks >= 1
    assert set(report.operations) >= THREAD_OPERATIONS, THREAD_OPERATIONS - set(report.operations)
    assert {"posted", "pending", "replayed", "crashed", "settled"} <= set(report.outcomes)


def test_kiosks_racing_as_threads_on_sqlite() -> None:
    assert_clean_race(run_simulation(31, 1_000, db="sqlite", threads=True), 1_000)


@pytest.mark.postgres
def test_kiosks_racing_as_threads_on_postgresql(pg_database: str) -> None:
    assert_clean_race(run_simulation(32, 1_000, url=pg_database, threads=True), 1_000)


def test_a_planted_bug_is_caught_in_a_race(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger_core, "_check_can_receive", lambda account, request: None)
    report = run_simulation(5, 1_000, db="sqlite", threads=True)
    assert report.failure is not None and report.failure.startswith("seed 5, operation ")
    # Racing threads decide which rule answers first (the payer's daily limit can come before the frozen
    # payee), but whatever it says, the check names the frozen payee the bank did not refuse for.
    assert "payee frozen, but the bank answered" in report.failure
    assert "answered account_frozen" not in report.failure


@pytest.mark.soak
@pytest.mark.timeout(3600)  # 5-15 minutes each on 2 shared cores
def test_a_hundred_thousand_operations_on_sqlite() -> None:
    report = run_simulation(100_000, 100_000, db="sqlite", check_every=5_000)
    assert_clean(report, 100_000)


@pytest.mark.soak
@pytest.mark.timeout(3600)  # 5-15 minutes each on 2 shared cores
@pytest.mark.postgres
def test_a_hundred_thousand_operations_on_postgresql(pg_database: str) -> None:
    report = run_simulation(100_001, 100_000, url=pg_database, check_every=5_000)
    assert_clean(report, 100_000)


@pytest.mark.soak
@pytest.mark.timeout(3600)  # 5-15 minutes each on 2 shared cores
def test_a_hundred_thousand_racing_operations_on_sqlite() -> None:
    assert_clean_race(run_simulation(100_002, 100_000, db="sqlite", threads=True, check_every=5_000), 100_000)


@pytest.mark.soak
@pytest.mark.timeout(3600)  # 5-15 minutes each on 2 shared cores
@pytest.mark.postgres
def test_a_hundred_thousand_racing_operations_on_postgresql(pg_database: str) -> None:
    report = run_simulation(100_003, 100_000, url=pg_database, threads=True, check_every=5_000)
    assert_clean_race(report, 100_000)
