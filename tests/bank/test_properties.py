"""Random sequences of transfers, pending transfers, clearing outcomes, crashes and retries keep the ledger
whole: Σ postings = 0, no account below its overdraft limit, one posting set per idempotency key, and the
cached balances equal an independent model of what should have happened."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, insert, select

from bank.check import check_ledger
from bank.db.base import Base
from bank.db.engine import make_engine
from bank.ledger import ACCOUNTS, TRANSFERS, Ledger, TransferOutcome, TransferRequest
from bank.models import InternalAccount, TransferKind, TransferStatus
from bank.security.vault import Vault, install_vault

OVERDRAFTS = (0, 500, 0)  # three customer accounts; the second may go ¥5.00 below zero
OPENING = 1_000


class CrashingLedger(Ledger):
    """Dies after writing the postings but before the account rows: the transaction must roll back."""

    crash_next = False

    def _write_back(self, conn: Connection, locked: Any) -> None:
        if self.crash_next:
            self.crash_next = False
            raise RuntimeError("power cut")
        super()._write_back(conn, locked)


operations = st.lists(
    st.one_of(
        st.tuples(
            st.just("transfer"), st.integers(0, 2), st.integers(0, 2), st.integers(1, 900), st.integers(0, 12)
        ),
        st.tuples(st.just("pending"), st.integers(0, 2), st.just(0), st.integers(1, 900), st.integers(0, 12)),
        st.tuples(st.just("settle"), st.integers(0, 20), st.booleans(), st.just(0), st.just(0)),
        st.tuples(
            st.just("crash"), st.integers(0, 2), st.integers(0, 2), st.integers(1, 900), st.integers(0, 12)
        ),
    ),
    max_size=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_random_histories_keep_the_ledger_whole(ops: list[tuple[str, int, Any, int, int]]) -> None:
    install_vault(Vault.ephemeral())
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    ledger = CrashingLedger(engine)
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    clearing = ledger.internal_account_id(InternalAccount.CLEARING)
    accounts = _customer_accounts(engine, ledger)
    expected = {a: OPENING for a in accounts}
    held = dict.fromkeys(accounts, 0)
    for a in accounts:
        ledger.transfer(
            TransferRequest(f"fund{a}", TransferKind.FUNDING, funding, a, OPENING, "CNY", channel="x")
        )
    first_outcome: dict[str, TransferOutcome] = {}
    pending: list[tuple[int, int, int]] = []  # transfer id, payer, hold

    def account_may_spend(payer: int, amount: int) -> bool:
        return expected[payer] - held[payer] + OVERDRAFTS[accounts.index(payer)] >= amount

    for op, a, b, amount, key_no in ops:
        key = f"k{key_no}"
        if op in ("transfer", "crash"):
            payer, payee = accounts[a], accounts[b]
            request = TransferRequest(key, TransferKind.INTERNAL, payer, payee, amount, "CNY", channel="x")
            if (
                op == "crash"
                and payer != payee
                and key not in first_outcome
                and account_may_spend(payer, amount)
            ):
                ledger.crash_next = True
                try:
                    ledger.transfer(request)
                    raise AssertionError("the crash did not happen")
                except RuntimeError:
                    pass
            result = ledger.transfer(request)  # the retry after a crash, or a plain transfer
            if isinstance(result, TransferOutcome):
                if key in first_outcome:
                    assert result.replayed and result.transfer_id == first_outcome[key].transfer_id
                else:
                    assert account_may_spend(payer, amount)
                    first_outcome[key] = result
                    expected[payer] -= amount
                    expected[payee] += amount
            elif key not in first_outcome and payer != payee:
                assert not account_may_spend(payer, amount)
        elif op == "pending":
            payer = accounts[a]
            request = TransferRequest(
                key, TransferKind.OTHER_BANK, payer, clearing, amount, "CNY", channel="x"
            )
            result = ledger.transfer(request, pending=True)
            if isinstance(result, TransferOutcome) and not result.replayed:
                first_outcome[key] = result
                held[payer] += amount
                pending.append((result.transfer_id, payer, amount))
        elif op == "settle" and pending:
            transfer_id, payer, hold = pending.pop(a % len(pending))
            if b:
                assert isinstance(ledger.post_pending(transfer_id), TransferOutcome)
                expected[payer] -= hold
            else:
                assert isinstance(ledger.void_pending(transfer_id, "rejected"), TransferOutcome)
            held[payer] -= hold
            assert ledger.post_pending(transfer_id) is not None  # a second answer changes nothing

    with engine.connect() as conn:
        report = check_ledger(conn)
        assert report.ok, report.violations
        rows = {r.id: (r.balance_minor, r.pending_debits_minor) for r in conn.execute(select(ACCOUNTS))}
        keys = conn.execute(
            select(TRANSFERS.c.idempotency_key, func.count()).group_by(TRANSFERS.c.idempotency_key)
        ).all()
        statuses = {tid: status for tid, status in conn.execute(select(TRANSFERS.c.id, TRANSFERS.c.status))}
    for a in accounts:
        assert rows[a] == (expected[a], held[a])
        assert rows[a][0] - rows[a][1] >= -OVERDRAFTS[accounts.index(a)]
    assert all(count == 1 for _, count in keys)
    for transfer_id, _, _ in pending:
        assert statuses[transfer_id] == TransferStatus.PENDING.value
    engine.dispose()


def _customer_accounts(engine: Any, ledger: Ledger) -> list[int]:
    ids = []
    with engine.begin() as conn:
        for n, overdraft in enumerate(OVERDRAFTS):
            ids.append(
                conn.execute(
                    insert(ACCOUNTS).values(
                        number=f"P{n}",
                        kind="current",
                        status="active",
                        currency="CNY",
                        balance_minor=0,
                        pending_debits_minor=0,
                        overdraft_allowed=overdraft > 0,
                        overdraft_limit_minor=overdraft,
                        daily_transfer_limit_minor=10**9,
                        daily_transfer_count_limit=10**6,
                        day_amount_minor=0,
                        day_count=0,
                        created_at=ledger.clock(),
                    )
                ).inserted_primary_key[0]
            )
    return ids
