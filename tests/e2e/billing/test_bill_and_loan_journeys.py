"""Bill payment and loan pre-qualification on the kiosk, against the simulators and a seeded bank.

Each test logs in with a card (Wang Fang's, Li Na's or Liu Yang's) and picks the service in the services
menu, like a customer. A service that completes brings the "anything else?" question; one the customer
cancels brings the services menu back.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.billing.service import BillingService
from bank.models import Account
from tests.screen_audit import ScreenAudit

ELEC_DUE = "1234567913"  # a known electricity customer with a bill every month (Luhn-valid)
PHONE = "13912345678"
LI_NA = {"pan": "6212340000001017", "name": "LI/NA", "expiry": "3106"}  # seed card
LI_NA_PIN = "2468"


def start(kiosk: Any, service: str, card: dict[str, str], pin: str, lang: str = "en", **config: Any) -> None:
    """Card and PIN, then ``service`` from the services menu (``config`` overrides the session clocks)."""
    if config:
        context = kiosk.app.journey_context
        context["session_config"] = {**context.get("session_config", {}), **config}
    kiosk.login(card, pin, lang)
    kiosk.act(service)


def services(kiosk: Any) -> Any:
    return kiosk.app.services


def balance(kiosk: Any, number: str) -> int:
    with Session(kiosk.host.engine) as session:
        row = session.scalar(select(Account).where(Account.number == number))
        assert row is not None
        return int(row.balance_minor)


def billing(kiosk: Any) -> BillingService:
    return kiosk.host.billing_for("KIOSK-0001")


def journal_events(kiosk: Any) -> list[Any]:
    return list(services(kiosk).journal.records())


def test_pay_an_electricity_bill_with_a_receipt_then_schedule_it_monthly(kiosk: Any) -> None:
    due = billing(kiosk).lookup("ELEC", ELEC_DUE)
    assert not hasattr(due, "reason")
    before = balance(kiosk, "0001100000010014")
    start(kiosk, "bill_payment", kiosk.WANG_FANG, kiosk.WANG_FANG_PIN)
    biller = kiosk.wait_screen("billing_biller")
    assert set(biller.biller_buttons) == {"ELEC", "WATER", "GAS", "PHONE"}
    biller.biller_buttons["ELEC"].click()
    number = kiosk.wait_screen("billing_account")
    for digit in "1234567914":  # a typo in the check digit first
        number.keypad.press(digit)
    number.keypad.submitted.emit(number.keypad.text())
    number = kiosk.wait_screen("billing_account")
    kiosk.wait_for(lambda: "not valid" in number.error_text())
    number.keypad.clear()
    for digit in ELEC_DUE:
        number.keypad.press(digit)
    number.keypad.submitted.emit(number.keypad.text())
    bill = kiosk.wait_screen("billing_bill")
    assert bill.buttons["pay"].isEnabled()
    assert "******7913" in [value for _, value in bill.rows()]
    kiosk.act("pay")
    confirm = kiosk.wait_screen("billing_confirm")
    assert not confirm.data("pin_required")
    kiosk.act("confirm")
    result = kiosk.wait_screen("billing_result")
    reference = result.reference()
    assert reference.startswith("BP")
    assert balance(kiosk, "0001100000010014") == before - due.due_minor  # type: ignore[union-attr]
    kiosk.wait_for(lambda: result.buttons["print"].isEnabled())
    # Monthly schedule on the 28th, then the receipt.
    kiosk.act("schedule")
    day = kiosk.wait_screen("billing_schedule_day")
    day.keypad.clear()
    for digit in "28":
        day.keypad.press(digit)
    day.keypad.submitted.emit(day.keypad.text())
    result = kiosk.wait_screen("billing_result")
    kiosk.wait_for(lambda: result.buttons["schedule"].isHidden())
    kiosk.act("print")
    kiosk.wait_screen("anything_else")  # the payment completed, its receipt printed (journaled below)
    customer = kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"]).customer_id
    [schedule] = billing(kiosk).schedules(customer)
    assert (schedule.biller_code, schedule.day_of_month, schedule.amount_minor) == ("ELEC", 28, None)
    records = journal_events(kiosk)
    intents = [r for r in records if r.event == "transfer" and r.fields.get("kind") == "bill_payment"]
    assert len(intents) == 1 and intents[0].fields["to"] == "******7913"
    outcomes = [r for r in records if r.ref == intents[0].seq]
    assert outcomes and outcomes[0].fields["result"] == "success"
    assert any(r.event == "bill_schedule_created" for r in records)
    assert ELEC_DUE not in services(kiosk).journal.path.read_text(encoding="utf-8")
    receipts = list(services(kiosk).receipts_dir.glob(f"bill_payment-{reference}.txt"))
    assert receipts and "BILL PAYMENT" in receipts[0].read_text(encoding="utf-8")
    [printed] = [r for r in records if r.kind == "intent" and r.event == "print"]
    assert [r.fields["result"] for r in records if r.ref == printed.seq] == ["success"]
    kiosk.act("no")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"


def test_phone_top_up_above_the_threshold_asks_for_the_pin_again_in_chinese(kiosk: Any) -> None:
    # Every screen as it shows: in Chinese no English word, readable text (tests/screen_audit.py).
    audit = ScreenAudit(kiosk.window, lambda: str(kiosk.window.lang)).start()
    before = balance(kiosk, "0001100000010014")
    start(
        kiosk,
        "bill_payment",
        kiosk.WANG_FANG,
        kiosk.WANG_FANG_PIN,
        lang="zh_CN",
        pin_reentry_threshold_minor=5_000,
    )
    kiosk.wait_screen("billing_biller").biller_buttons["PHONE"].click()
    number = kiosk.wait_screen("billing_account")
    assert "手机号码" in number._label.text()
    for digit in PHONE:
        number.keypad.press(digit)
    number.keypad.submitted.emit(number.keypad.text())
    topup = kiosk.wait_screen("billing_topup")
    assert sorted(topup.amount_buttons) == [2_000, 5_000, 10_000, 20_000]
    topup.amount_buttons[10_000].click()
    confirm = kiosk.wait_screen("billing_confirm")
    assert confirm.data("pin_required") and confirm.title_text() == "请核对并确认"
    kiosk.act("confirm")
    kiosk.wait_screen("pin_entry")
    kiosk.press(kiosk.WANG_FANG_PIN + "E")
    result = kiosk.wait_screen("billing_result")
    assert result.panel.title() == "缴费成功" and "100.00" in result.panel.body()
    kiosk.act("done")
    kiosk.wait_screen("anything_else")  # completed
    assert balance(kiosk, "0001100000010014") == before - 10_000
    found = audit.finish()
    assert found == [], "\n".join(found)


def test_insufficient_funds_is_a_clear_refusal_and_nothing_moves(kiosk: Any) -> None:
    before = balance(kiosk, "0001100000010097")  # Liu Yang, ¥88.00
    start(kiosk, "bill_payment", kiosk.LIU_YANG, kiosk.LIU_YANG_PIN)
    kiosk.wait_screen("billing_biller").biller_buttons["ELEC"].click()
    number = kiosk.wait_screen("billing_account")
    for digit in ELEC_DUE:
        number.keypad.press(digit)
    number.keypad.submitted.emit(number.keypad.text())
    kiosk.wait_screen("billing_bill")
    kiosk.act("pay")
    kiosk.wait_screen("billing_confirm")
    kiosk.act("confirm")
    notice = kiosk.wait_screen("notice")
    assert notice.data("body_key") == "billing.refused.insufficient_funds"
    kiosk.act("ok")
    kiosk.wait_screen("services_menu")  # cancelled: back to the menu
    assert balance(kiosk, "0001100000010097") == before


def test_scheduled_payments_are_listed_and_cancelled(kiosk: Any) -> None:
    card = kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"])
    created = billing(kiosk).create_schedule(
        customer_id=card.customer_id,
        from_account_id=card.account_id,
        biller_code="PHONE",
        number=PHONE,
        day_of_month=5,
        amount_minor=5_000,
    )
    start(kiosk, "bill_payment", kiosk.WANG_FANG, kiosk.WANG_FANG_PIN)
    kiosk.wait_screen("billing_biller")
    kiosk.act("scheduled")
    listing = kiosk.wait_screen("billing_schedules")
    assert listing.row_texts() == ["Mobile phone top-up · *******5678 · ¥50.00 · day 5"]
    listing.cancel_buttons[created.schedule_id].click()  # type: ignore[union-attr]
    listing = kiosk.wait_screen("billing_schedules")
    kiosk.wait_for(lambda: listing.row_texts() == [] and listing.data("cancelled") == created.schedule_id)  # type: ignore[union-attr]
    kiosk.act("done")
    kiosk.wait_screen("anything_else")  # completed
    assert billing(kiosk).schedules(card.customer_id) == []
    assert any(r.event == "bill_schedule_cancelled" for r in journal_events(kiosk))


def apply_for_loan(kiosk: Any, amount: str, income: str, debt: str, term: int, purpose: str) -> Any:
    form = kiosk.wait_screen("loan_form")
    for name, value in (("amount", amount), ("income", income), ("debt", debt)):
        form.focus_field(name)
        form.keypad.clear()
        for key in value:
            form.keypad.press(key)
    form.term_buttons[term].click()
    form.purpose_buttons[purpose].click()
    form.submit()
    return kiosk.wait_screen("loan_confirm")


def test_loan_approved_with_the_instalment_shown(kiosk: Any) -> None:
    start(kiosk, "loan", LI_NA, LI_NA_PIN)
    form = kiosk.wait_screen("loan_form")
    form.submit()  # nothing filled in
    kiosk.wait_for(lambda: kiosk.current().error_text() != "")
    confirm = apply_for_loan(kiosk, "10000", "15000", "0", 12, "car")
    assert ("Monthly repayment", "¥866.19") in confirm.rows()
    kiosk.act("confirm")
    result = kiosk.wait_screen("loan_result")
    assert result.outcome() == "approve"
    kiosk.act("done")
    kiosk.wait_screen("anything_else")  # completed
    [record] = kiosk.host.audit.events("loan_decision")  # the host decides and records
    assert record["outcome"] == "approve" and record["model"] == "GC-1"
    assert record["factors"][0][0] == "status_of_existing_checking_account"


def test_loan_declined_for_age_with_the_reason_in_plain_words_in_chinese(kiosk: Any) -> None:
    # Every screen as it shows: in Chinese no English word, readable text (tests/screen_audit.py).
    audit = ScreenAudit(kiosk.window, lambda: str(kiosk.window.lang)).start()
    start(kiosk, "loan", kiosk.WANG_FANG, kiosk.WANG_FANG_PIN, lang="zh_CN")  # born 1949
    apply_for_loan(kiosk, "5000", "8000", "0", 6, "travel")
    kiosk.act("confirm")
    result = kiosk.wait_screen("loan_result")
    assert result.outcome() == "decline"
    assert result.reason_lines() == ["自助终端个人贷款仅面向18至65岁客户。"]
    kiosk.act("done")
    kiosk.wait_screen("anything_else")  # completed
    found = audit.finish()
    assert found == [], "\n".join(found)


def test_a_big_loan_is_referred_to_the_review_queue(kiosk: Any) -> None:
    start(kiosk, "loan", LI_NA, LI_NA_PIN)
    apply_for_loan(kiosk, "60000", "20000", "0", 60, "home")
    kiosk.act("confirm")
    result = kiosk.wait_screen("loan_result")
    assert result.outcome() == "refer"
    assert result.panel.title() == "A staff member will contact you"
    assert result.reason_lines() == ["Loans of this size are always reviewed by our staff."]
    reference = result.data("reference")
    kiosk.act("done")
    pending = kiosk.host.loans_for(None).pending_reviews()
    assert [p.reference for p in pending] == [reference]
