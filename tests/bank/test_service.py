from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from bank.check import check_ledger
from bank.clearing import ClearingHouse, ClearingRules
from bank.ledger import RefusalReason, TransferOutcome, TransferRefused
from bank.models import Card, CardStatus, Customer, TransferStatus
from bank.security.vault import Vault
from bank.seed import SEED_CARDS, seed_bank
from bank.service import Balance, BankService, EnquiryRefused, HistoryPage, MiniStatement
from hostlink.money import Money

WANG_CURRENT, WANG_SAVINGS, LI_CURRENT = "0001100000010014", "0001200000010020", "0001100000010030"


@pytest.fixture
def bank(seeded: Engine, vault: Vault, clock: Any) -> BankService:
    return BankService(seeded, vault, kiosk_id="KIOSK-T1", clock=clock)


def ids(bank: BankService, pan: str) -> tuple[int, int]:
    card = bank.card_by_pan(pan)
    assert card is not None and card.customer_id is not None
    return card.account_id, card.customer_id


def test_seed_is_complete_encrypted_and_idempotent(seeded: Engine, vault: Vault, pvv_for: Any) -> None:
    with Session(seeded) as session:
        again = seed_bank(session, vault, pvv_for=pvv_for)
        assert not again.created
        assert session.query(Customer).count() == 5
        cards = session.query(Card).all()
    assert len(cards) == len(SEED_CARDS) == 5
    assert {c.pan_masked for c in cards} >= {"432198*******0987"}
    for spec in SEED_CARDS:
        card = next(c for c in cards if c.pan_encrypted == spec.pan)
        assert card.pvv == pvv_for(spec.pan, spec.pin) and card.pan_hash == vault.lookup_hash(spec.pan, "pan")
    with seeded.connect() as conn:
        raw_name = conn.execute(text("SELECT name FROM bank_customers ORDER BY id LIMIT 1")).scalar_one()
        assert "王芳".encode() not in bytes(raw_name)  # PII is ciphertext at rest
        assert check_ledger(conn).ok


def test_balance_and_card_context(bank: BankService) -> None:
    account_id, customer_id = ids(bank, "43219876543210987")
    balance = bank.balance(account_id)
    assert isinstance(balance, Balance)
    assert balance.ledger == Money(1_234_567) and balance.available == Money(1_234_567)
    assert balance.masked_number == "****0014"
    accounts = bank.accounts_of_customer(customer_id)
    assert [a.number for a in accounts] == [WANG_CURRENT, WANG_SAVINGS]
    assert bank.card_by_pan("6212340000009999") is None
    expired = bank.card_by_pan("6212340000002023")
    assert expired is not None and expired.expiry == "2301"
    li = bank.balance(ids(bank, "6212340000001017")[0])
    assert isinstance(li, Balance) and li.available == Money(400_000) and li.overdraft_limit == Money(100_000)
    assert isinstance(bank.balance(999), EnquiryRefused)


def test_own_transfer_statement_and_history_paging(bank: BankService, clock: Any) -> None:
    current, customer = ids(bank, "43219876543210987")
    savings = bank.accounts_of_customer(customer)[1].account_id
    for n in range(12):
        clock.now += timedelta(hours=6)
        result = bank.transfer_own(f"own-{n}", current, savings, Money(1_000 + n))
        assert isinstance(result, TransferOutcome) and result.status is TransferStatus.POSTED
    statement = bank.mini_statement(current)
    assert isinstance(statement, MiniStatement) and len(statement.lines) == 10
    newest = statement.lines[0]
    assert newest.amount == Money(-1_011) and newest.description == "To own account ****0020"
    assert newest.balance_after == Money(1_234_567 - sum(1_000 + n for n in range(12)))
    for earlier, later in zip(statement.lines[1:], statement.lines, strict=False):
        assert later.balance_after == earlier.balance_after + later.amount  # running balance chains

    # History: transfers every 6 h from 16:00 on 10 March (Beijing) to 10:00 on 13 March; the seed funding
    # ran on the real clock, outside this range.
    pages, cursor = [], None
    while True:
        page = bank.history(current, date(2026, 3, 10), date(2026, 3, 13), page_size=5, before=cursor)
        assert isinstance(page, HistoryPage)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            break
    lines = [line for page in pages for line in page.lines]
    assert [len(p.lines) for p in pages] == [5, 5, 2]
    assert [line.posting_id for line in lines] == sorted((line.posting_id for line in lines), reverse=True)
    one_day = bank.history(current, date(2026, 3, 11), date(2026, 3, 11))
    assert isinstance(one_day, HistoryPage)
    assert all(line.when.date() in (date(2026, 3, 10), date(2026, 3, 11)) for line in one_day.lines)
    assert len(one_day.lines) == 4  # 04:00, 10:00, 16:00, 22:00 on the 11th, Beijing time
    assert isinstance(bank.history(current, date(2026, 3, 12), date(2026, 3, 11)), EnquiryRefused)


def test_own_transfer_refuses_someone_elses_account(bank: BankService) -> None:
    wang, _ = ids(bank, "43219876543210987")
    li, _ = ids(bank, "6212340000001017")
    refused = bank.transfer_own("x", wang, li, Money(100))
    assert isinstance(refused, TransferRefused) and refused.reason is RefusalReason.NOT_OWN_ACCOUNT


def test_transfer_to_customer_checks_the_name(bank: BankService) -> None:
    wang, _ = ids(bank, "43219876543210987")
    wrong = bank.transfer_to_customer("c1", wang, LI_CURRENT, "李四", Money(100))
    assert isinstance(wrong, TransferRefused) and wrong.reason is RefusalReason.PAYEE_NAME_MISMATCH
    unknown = bank.transfer_to_customer("c2", wang, "0001100000099999", "李娜", Money(100))
    assert isinstance(unknown, TransferRefused) and unknown.reason is RefusalReason.UNKNOWN_PAYEE
    done = bank.transfer_to_customer("c3", wang, LI_CURRENT, " 李 娜 ", Money(50_000))
    assert isinstance(done, TransferOutcome) and done.status is TransferStatus.POSTED
    li = bank.balance(ids(bank, "6212340000001017")[0])
    assert isinstance(li, Balance) and li.ledger == Money(350_000)
    poor, _ = ids(bank, "6212340000004045")
    refused = bank.transfer_to_customer("c4", poor, LI_CURRENT, "李娜", Money(8_801))
    assert isinstance(refused, TransferRefused) and refused.reason is RefusalReason.INSUFFICIENT_FUNDS
    frozen, _ = ids(bank, "6212340000003039")
    refused = bank.transfer_to_customer("c5", frozen, LI_CURRENT, "李娜", Money(1))
    assert isinstance(refused, TransferRefused) and refused.reason is RefusalReason.ACCOUNT_FROZEN


def test_other_bank_transfers_wait_for_the_clearing_house(bank: BankService, clock: Any) -> None:
    wang, _ = ids(bank, "43219876543210987")
    settles = bank.transfer_other_bank("o1", wang, "105", "6227001234567890", "Zhao Lei", Money(100_000))
    rejected = bank.transfer_other_bank("o2", wang, "102", "6222020000000000", "Qian Duo", Money(20_000))
    unknown = bank.transfer_other_bank("o3", wang, "999", "6222020000001234", "Sun Li", Money(30_000))
    for result in (settles, rejected, unknown):
        assert isinstance(result, TransferOutcome) and result.status is TransferStatus.PENDING
    held = bank.balance(wang)
    assert isinstance(held, Balance)
    assert held.ledger == Money(1_234_567) and held.pending == Money(150_600)
    assert held.available == Money(1_234_567 - 150_600)
    assert len(bank.pending_transfers_of(wang)) == 3

    house = ClearingHouse(bank.ledger, ClearingRules(settle_after=timedelta(minutes=5)), clock=clock)
    early = house.run_cycle()
    assert early.settled == [] and early.waiting == 3
    clock.now += timedelta(minutes=5)
    report = house.run_cycle()
    assert isinstance(settles, TransferOutcome) and isinstance(rejected, TransferOutcome)
    assert isinstance(unknown, TransferOutcome)
    assert report.settled == [settles.transfer_id]
    assert sorted(report.rejected) == sorted(
        [(rejected.transfer_id, "payee_account_closed"), (unknown.transfer_id, "unknown_bank")]
    )
    after = bank.balance(wang)
    assert (
        isinstance(after, Balance)
        and after.pending == Money(0)
        and after.ledger == Money(1_234_567 - 100_200)
    )
    statement = bank.mini_statement(wang)
    assert isinstance(statement, MiniStatement)
    assert [line.amount for line in statement.lines[:2]] == [Money(-200), Money(-100_000)]  # fee, then amount
    assert house.run_cycle().settled == []  # nothing left
    with bank.engine.connect() as conn:
        assert check_ledger(conn).ok


def test_other_bank_input_refusals(bank: BankService) -> None:
    wang, _ = ids(bank, "43219876543210987")
    for code, account, name in [
        ("888", "6227001234567890", "A"),
        ("1a5", "6227001234567890", "A"),
        ("105", "12ab", "A"),
        ("105", "6227001234567890", " "),
    ]:
        refused = bank.transfer_other_bank(f"bad-{code}-{account}", wang, code, account, name, Money(100))
        assert isinstance(refused, TransferRefused) and refused.reason is RefusalReason.UNKNOWN_PAYEE


def test_card_status_and_pin_failures(bank: BankService) -> None:
    card = bank.card_by_pan("6212340000001017")
    assert card is not None and card.status == CardStatus.ACTIVE.value
    assert bank.record_pin_failure(card.card_id) == 1
    assert bank.record_pin_failure(card.card_id) == 2
    assert bank.record_pin_failure(card.card_id, reset=True) == 0
    assert bank.set_card_status(card.card_id, CardStatus.RETAINED)
    again = bank.card_by_pan("6212340000001017")
    assert again is not None and again.status == "retained"
    assert not bank.set_card_status(12345, CardStatus.BLOCKED)
