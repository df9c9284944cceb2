"""Bill look-up, payment through the ledger, refusals, idempotency, schedules and run_due."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bank.billing.billers import (
    BILLERS,
    AccountProblem,
    account_problem,
    mask_biller_account,
    simulated_bill,
)
from bank.billing.service import BillingService, BillPaid, BillRefusal, BillRefused
from bank.check import check_ledger
from bank.ledger import RefusalReason
from bank.models import Account, Transfer
from bank.security.vault import Vault

# Seed data: Wang Fang (customer 1) has ¥12,345.67 on 0001100000010014; Liu Yang has ¥88.00.
WANG_FANG_CURRENT = "0001100000010014"
LIU_YANG_CURRENT = "0001100000010097"
# Customer numbers with a valid Luhn check digit (the biller simulation is SHA-256 of biller|number|month):
ELEC_DUE = "1234567913"  # ¥326.60 due for 2026-03, ¥69.40 for 2026-04
ELEC_UNKNOWN = "1234567897"  # not a customer of the electricity company
ELEC_NOTHING_DUE = "1234567905"  # paid by direct debit: never anything due
PHONE = "13912345678"


class Journal:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, event: str, **fields: Any) -> int:
        self.records.append((event, fields))
        return len(self.records)


def ledger_ok(engine: Engine) -> bool:
    with engine.connect() as conn:
        return check_ledger(conn).ok


def account(engine: Engine, number: str) -> Account:
    with Session(engine) as session:
        row = session.scalar(select(Account).where(Account.number == number))
        assert row is not None
        return row


@pytest.fixture
def billing(bank: Engine, vault: Vault, clock: Any) -> BillingService:
    return BillingService(bank, vault, clock=clock, kiosk_id="KIOSK-T", journal=Journal())


def test_customer_numbers_are_checked_before_the_biller_is_asked() -> None:
    elec, phone = BILLERS["ELEC"], BILLERS["PHONE"]
    assert account_problem(elec, ELEC_DUE) is None
    assert account_problem(elec, "1234567914") is AccountProblem.CHECK_DIGIT  # last digit typed wrong
    assert account_problem(elec, "123456791") is AccountProblem.FORMAT
    assert account_problem(elec, "12345679１3") is AccountProblem.FORMAT  # a full-width digit
    assert account_problem(phone, PHONE) is None
    assert account_problem(phone, "12912345678") is AccountProblem.NOT_MOBILE
    assert mask_biller_account(PHONE) == "*******5678"


def test_simulated_bills_are_the_same_every_time() -> None:
    elec = BILLERS["ELEC"]
    assert simulated_bill(elec, ELEC_DUE, "2026-03").amount_minor == 32_660
    assert simulated_bill(elec, ELEC_DUE, "2026-04").amount_minor == 6_940
    assert not simulated_bill(elec, ELEC_UNKNOWN, "2026-03").known
    assert simulated_bill(elec, ELEC_NOTHING_DUE, "2026-03").amount_minor == 0


def test_lookup_shows_the_amount_due_and_the_due_date(billing: BillingService) -> None:
    bill = billing.lookup("ELEC", ELEC_DUE)
    assert not isinstance(bill, BillRefused)
    assert (bill.period, bill.due_minor, bill.billed_minor, str(bill.due_date)) == (
        "2026-03",
        32_660,
        32_660,
        "2026-03-25",
    )
    assert bill.account_masked == "******7913"
    assert billing.lookup("ELEC", ELEC_UNKNOWN) == BillRefused(BillRefusal.UNKNOWN_ACCOUNT)
    assert billing.lookup("ELEC", "1234567914") == BillRefused(BillRefusal.CHECK_DIGIT)
    assert isinstance(billing.lookup("NOPE", ELEC_DUE), BillRefused)
    phone = billing.lookup("PHONE", PHONE)
    assert not isinstance(phone, BillRefused)
    assert phone.topup_amounts_minor == (2_000, 5_000, 10_000, 20_000)


def test_paying_moves_the_money_to_the_billers_settlement_account_once(
    billing: BillingService, bank: Engine
) -> None:
    payer = account(bank, WANG_FANG_CURRENT)
    paid = billing.pay(
        "S1:key-1",
        customer_id=payer.customer_id or 0,
        from_account_id=payer.id,
        biller_code="ELEC",
        number=ELEC_DUE,
        amount_minor=32_660,
    )
    assert isinstance(paid, BillPaid) and not paid.replayed
    assert paid.reference == f"BP{paid.payment_id:010d}"
    assert account(bank, WANG_FANG_CURRENT).balance_minor == 1_234_567 - 32_660
    settlement = billing.settlement_account_id(BILLERS["ELEC"])
    with Session(bank) as session:
        assert session.get(Account, settlement).balance_minor == 32_660  # type: ignore[union-attr]
        transfer = session.get(Transfer, paid.transfer_id)
        assert transfer is not None and transfer.credit_account_id == settlement
    # The same key again (a retry after a lost answer) replays; nothing moves twice.
    again = billing.pay(
        "S1:key-1",
        customer_id=payer.customer_id or 0,
        from_account_id=payer.id,
        biller_code="ELEC",
        number=ELEC_DUE,
        amount_minor=32_660,
    )
    assert isinstance(again, BillPaid) and again.replayed and again.payment_id == paid.payment_id
    assert account(bank, WANG_FANG_CURRENT).balance_minor == 1_234_567 - 32_660
    # The bill now shows as paid, and a second payment with a new key is refused.
    bill = billing.lookup("ELEC", ELEC_DUE)
    assert not isinstance(bill, BillRefused) and (bill.paid_minor, bill.due_minor) == (32_660, 0)
    second = billing.pay(
        "S1:key-2",
        customer_id=payer.customer_id or 0,
        from_account_id=payer.id,
        biller_code="ELEC",
        number=ELEC_DUE,
        amount_minor=32_660,
    )
    assert second == BillRefused(BillRefusal.NOTHING_DUE)
    assert ledger_ok(bank)


def test_refusals_are_values_and_move_nothing(billing: BillingService, bank: Engine) -> None:
    poor = account(bank, LIU_YANG_CURRENT)  # ¥88.00
    refused = billing.pay(
        "S2:k",
        customer_id=poor.customer_id or 0,
        from_account_id=poor.id,
        biller_code="ELEC",
        number=ELEC_DUE,
        amount_minor=32_660,
    )
    assert isinstance(refused, BillRefused) and refused.reason is RefusalReason.INSUFFICIENT_FUNDS
    wrong_amount = billing.pay(
        "S2:k2",
        customer_id=poor.customer_id or 0,
        from_account_id=poor.id,
        biller_code="ELEC",
        number=ELEC_DUE,
        amount_minor=100,
    )
    assert isinstance(wrong_amount, BillRefused) and wrong_amount.reason is BillRefusal.AMOUNT
    odd_topup = billing.pay(
        "S2:k3",
        customer_id=poor.customer_id or 0,
        from_account_id=poor.id,
        biller_code="PHONE",
        number=PHONE,
        amount_minor=3_000,
    )
    assert isinstance(odd_topup, BillRefused) and odd_topup.reason is BillRefusal.AMOUNT
    topup = billing.pay(
        "S2:k4",
        customer_id=poor.customer_id or 0,
        from_account_id=poor.id,
        biller_code="PHONE",
        number=PHONE,
        amount_minor=5_000,
    )
    assert isinstance(topup, BillPaid) and topup.period is None
    assert account(bank, LIU_YANG_CURRENT).balance_minor == 8_800 - 5_000


def test_schedules_are_listed_cancelled_and_run_once_a_month(
    billing: BillingService, bank: Engine, clock: Any
) -> None:
    payer = account(bank, WANG_FANG_CURRENT)
    customer = payer.customer_id or 0
    elec = billing.create_schedule(
        customer_id=customer, from_account_id=payer.id, biller_code="ELEC", number=ELEC_DUE, day_of_month=12
    )
    phone = billing.create_schedule(
        customer_id=customer,
        from_account_id=payer.id,
        biller_code="PHONE",
        number=PHONE,
        day_of_month=5,
        amount_minor=10_000,
    )
    assert not isinstance(elec, BillRefused) and not isinstance(phone, BillRefused)
    assert elec.amount_minor is None and phone.amount_minor == 10_000
    assert billing.create_schedule(
        customer_id=customer, from_account_id=payer.id, biller_code="ELEC", number=ELEC_DUE, day_of_month=31
    ) == BillRefused(BillRefusal.DAY, "a day of the month from 1 to 28")
    assert [s.schedule_id for s in billing.schedules(customer)] == [elec.schedule_id, phone.schedule_id]

    # 10 March: only the top-up (day 5) is due; running twice pays once.
    first = billing.run_due()
    assert [(r.schedule_id, r.result, r.amount_minor) for r in first] == [(phone.schedule_id, "paid", 10_000)]
    assert billing.run_due() == []
    # 12 March: the electricity bill, for the amount due.
    clock.now = datetime(2026, 3, 12, 1, 0, tzinfo=UTC)
    second = billing.run_due()
    assert [(r.schedule_id, r.result, r.amount_minor) for r in second] == [(elec.schedule_id, "paid", 32_660)]
    assert account(bank, WANG_FANG_CURRENT).balance_minor == 1_234_567 - 10_000 - 32_660
    journal = billing.journal
    assert [event for event, _ in journal.records] == ["bill_schedule_run", "bill_schedule_run"]
    assert PHONE not in repr(journal.records)  # the phone number is journaled masked only

    # Cancelled: April's run pays the electricity bill only. Someone else cannot cancel it.
    assert billing.cancel_schedule(customer + 1, phone.schedule_id) == BillRefused(
        BillRefusal.UNKNOWN_SCHEDULE
    )
    cancelled = billing.cancel_schedule(customer, phone.schedule_id)
    assert not isinstance(cancelled, BillRefused) and cancelled.status == "cancelled"
    assert [s.schedule_id for s in billing.schedules(customer)] == [elec.schedule_id]
    clock.now = datetime(2026, 4, 20, 1, 0, tzinfo=UTC)
    april = billing.run_due()
    assert [(r.schedule_id, r.result, r.amount_minor) for r in april] == [(elec.schedule_id, "paid", 6_940)]
    assert ledger_ok(bank)


def test_a_scheduled_payment_refused_for_funds_is_recorded_and_not_retried_the_same_month(
    billing: BillingService, bank: Engine
) -> None:
    poor = account(bank, LIU_YANG_CURRENT)
    schedule = billing.create_schedule(
        customer_id=poor.customer_id or 0,
        from_account_id=poor.id,
        biller_code="ELEC",
        number=ELEC_DUE,
        day_of_month=1,
    )
    assert not isinstance(schedule, BillRefused)
    runs = billing.run_due()
    assert [r.result for r in runs] == ["insufficient_funds"]
    assert billing.schedules(poor.customer_id or 0)[0].last_result == "insufficient_funds"
    assert billing.run_due() == []


def test_settle_tells_recovery_whether_a_payment_posted(billing: BillingService, bank: Engine) -> None:
    payer = account(bank, WANG_FANG_CURRENT)
    assert billing.settle("never-used") == "not_posted"
    billing.pay(
        "S3:k",
        customer_id=payer.customer_id or 0,
        from_account_id=payer.id,
        biller_code="PHONE",
        number=PHONE,
        amount_minor=2_000,
    )
    assert billing.settle("S3:k") == "posted"
