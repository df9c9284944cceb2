"""Card journeys end to end: the kiosk window, real drivers, simulators in-process, a seeded bank."""

from __future__ import annotations

from typing import Any


def grid_text(screen: Any) -> str:
    """All label text on a screen (what the customer reads)."""
    from PySide6.QtWidgets import QLabel

    return " | ".join(label.text() for label in screen.findChildren(QLabel) if not label.isHidden())


def test_balance_enquiry_with_receipt_then_card_returned(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("balance")
    balance = kiosk.wait_screen("balance")
    assert "¥12,345.67" in grid_text(balance)
    kiosk.wait_for(lambda: balance.buttons["print"].isEnabled())
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    receipts = kiosk.ctl("printer", "receipts")
    assert len(receipts) == 1 and "12,345.67" in receipts[0]["text"]
    assert "43219876543210987" not in receipts[0]["text"]
    kiosk.act("no")
    kiosk.finish_and_take_card()
    outcome = kiosk.outcome()
    assert outcome.status == "completed"
    assert kiosk.message_title() == "Thank you"
    assert {"card_insert", "card_wait", "pin_entry", "services_menu", "balance", "card_take"} <= set(
        kiosk.seen
    )


def journal_events(kiosk: Any) -> list[str]:
    return [record.event for record in kiosk.app.services.journal.records()]


def test_mini_statement_without_printing_in_chinese(kiosk: Any) -> None:
    kiosk.login(lang="zh_CN")
    assert kiosk.current().title_text() == "请选择您要办理的业务"
    kiosk.act("mini_statement")
    statement = kiosk.wait_screen("statement")
    text = grid_text(statement)
    assert "迷你对账单" in text and "12,345.67 元" in text  # the seed funding line, formatted in Chinese
    kiosk.act("done")
    kiosk.wait_screen("anything_else")
    kiosk.act("no")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"
    assert kiosk.message_title() == "谢谢"
    assert kiosk.ctl("printer", "receipts") == []


def test_history_by_preset_and_custom_range_with_paging(kiosk: Any) -> None:
    config = kiosk.app.journey_context["session_config"]
    kiosk.app.journey_context["session_config"] = {**config, "history_page_size": 2}
    kiosk.login()
    # Three own transfers so the current account has four lines: two pages of two.
    from hostlink.money import Money

    bank = kiosk.bank
    accounts = bank.accounts_of_customer(kiosk.app.runner.journey.session.customer_id)
    current, savings = accounts[0].account_id, accounts[1].account_id
    for n in range(3):
        bank.transfer_own(f"test-history-{n}", current, savings, Money(100 + n, "CNY"))
    kiosk.act("history")
    ranges = kiosk.wait_screen("history_range")
    # A custom range in the wrong order is refused on the same screen, nothing asked of the bank.
    ranges.start_field.setText("20300102")
    ranges.end_field.setText("20300101")
    ranges.search()
    kiosk.wait_for(lambda: ranges.error_text() != "")
    assert "end date" in ranges.error_text()
    kiosk.act("range", {"days": 7})
    history = kiosk.wait_screen("history")
    assert history.buttons["next"].isEnabled() and not history.buttons["previous"].isEnabled()
    first_page = grid_text(history)
    assert "Page 1" in first_page and "-¥1.02" in first_page  # newest first
    kiosk.act("next")
    kiosk.wait_for(lambda: "Page 2" in grid_text(kiosk.current()))
    second = grid_text(kiosk.current())
    assert "Opening balance" in second or "Seed" in second
    assert not kiosk.current().buttons["next"].isEnabled()
    kiosk.act("previous")
    kiosk.wait_for(lambda: "Page 1" in grid_text(kiosk.current()))
    kiosk.act("done")
    kiosk.wait_screen("anything_else")
    kiosk.act("no")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"


def test_transfer_to_another_customer_with_pin_reentry_and_receipt(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("transfer")
    kiosk.wait_screen("transfer_kind")
    kiosk.act("kind", {"value": "customer"})
    payee = kiosk.wait_screen("transfer_payee")
    assert payee.fields["bank_code"].isHidden()
    kiosk.act("payee", {"account": "123", "name": "李娜"})
    kiosk.wait_for(lambda: "16 digits" in payee.error_text())
    kiosk.act("payee", {"account": kiosk.LI_NA_ACCOUNT, "name": "李娜"})
    amount = kiosk.wait_screen("transfer_amount")
    for key in "6000":
        amount.keypad.press(key)
    amount.keypad._submit()
    confirm = kiosk.wait_screen("transfer_confirm")
    text = grid_text(confirm)
    for expected in (
        "****0014",
        kiosk.LI_NA_ACCOUNT,
        "李娜",
        "¥6,000.00",
        "¥0.00",
        "asked for your PIN again",
    ):
        assert expected in text, expected
    kiosk.act("confirm")
    pin = kiosk.wait_screen("pin_entry")
    assert pin.title_text() == "Please enter your PIN again"
    kiosk.press("1234")
    kiosk.wait_for(lambda: pin.dots().count("*") == 4)
    kiosk.press("E")
    result = kiosk.wait_screen("transfer_result")
    reference = result.reference()
    assert reference.startswith("TR")
    assert reference in result.panel.body()
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    receipts = kiosk.ctl("printer", "receipts")
    assert reference in receipts[-1]["text"] and "6,000.00" in receipts[-1]["text"]
    kiosk.act("no")
    kiosk.finish_and_take_card()
    # The money moved exactly once and the intent/outcome pair is in the journal.
    balance = kiosk.bank.balance(kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"]).account_id)
    assert balance.ledger.minor == 1_234_567 - 600_000
    events = journal_events(kiosk)
    assert events.count("transfer") == 1 and events.count("transfer_outcome") == 1  # intent, then outcome
    assert kiosk.app.services.journal.suspects() == []  # every intent has its outcome
    assert "pin_verified" in events


def test_transfer_to_own_account_below_threshold_needs_no_pin(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("transfer")
    kiosk.wait_screen("transfer_kind")
    kiosk.act("kind", {"value": "own"})
    own = kiosk.wait_screen("transfer_own_account")
    (account_id,) = own.account_buttons
    kiosk.act("account", {"value": account_id})
    kiosk.wait_screen("transfer_amount")
    kiosk.act("amount", {"value": "99999999"})
    kiosk.wait_for(lambda: "limit per transfer" in kiosk.current().error_text())
    kiosk.act("amount", {"value": "100.50"})
    kiosk.wait_screen("transfer_confirm")
    kiosk.act("confirm")
    result = kiosk.wait_screen("transfer_result")
    assert "¥100.50" in result.panel.body()
    kiosk.act("done")
    kiosk.wait_screen("anything_else")
    kiosk.act("no")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"


def test_transfer_to_another_bank_amount_on_the_pin_pad(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("transfer")
    kiosk.wait_screen("transfer_kind")
    kiosk.act("kind", {"value": "other_bank"})
    payee = kiosk.wait_screen("transfer_payee")
    assert not payee.fields["bank_code"].isHidden()
    kiosk.act("payee", {"bank_code": "888", "account": "62220000111122223333", "name": "Zhao Lei"})
    kiosk.wait_for(lambda: "our own bank code" in payee.error_text())
    kiosk.act("payee", {"bank_code": "102", "account": "62220000111122223333", "name": "Zhao Lei"})
    amount = kiosk.wait_screen("transfer_amount")
    kiosk.act("use_pin_pad")
    kiosk.wait_for(lambda: amount.keypad.isEnabled() is False)
    kiosk.press("250", mode="clear")
    kiosk.wait_for(lambda: amount.amount_field.text() == "250")
    kiosk.press("E", mode="clear")
    confirm = kiosk.wait_screen("transfer_confirm")
    text = grid_text(confirm)
    # The pad's clear-text entry is in whole yuan: "250" is ¥250.00; plus the ¥2.00 other-bank fee.
    assert "102" in text and "¥250.00" in text and "¥2.00" in text and "¥252.00" in text
    kiosk.act("confirm")
    result = kiosk.wait_screen("transfer_result")
    assert "other bank" in result.panel.body()
    kiosk.act("done")
    kiosk.wait_screen("anything_else")
    kiosk.act("no")
    kiosk.finish_and_take_card()


def test_transfer_refused_for_insufficient_funds_moves_nothing(kiosk: Any) -> None:
    kiosk.login(kiosk.LIU_YANG, kiosk.LIU_YANG_PIN)
    kiosk.act("transfer")
    kiosk.wait_screen("transfer_kind")
    kiosk.act("kind", {"value": "own"})
    own = kiosk.wait_screen("transfer_own_account")
    kiosk.act("account", {"value": next(iter(own.account_buttons))})
    kiosk.wait_screen("transfer_amount")
    kiosk.act("amount", {"value": "88.01"})
    kiosk.wait_for(lambda: "money available" in kiosk.current().error_text())
    assert kiosk.screen == "transfer_amount"
    kiosk.act("cancel")
    kiosk.wait_screen("services_menu")
    kiosk.act("finish")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"
    assert "transfer" not in journal_events(kiosk)


def test_three_wrong_pins_retain_the_card_with_a_receipt(kiosk: Any) -> None:
    kiosk.start_card()
    kiosk.insert_card(kiosk.WANG_FANG)
    pin = kiosk.wait_screen("pin_entry")
    kiosk.press("1111E")
    kiosk.wait_for(lambda: "Tries left: 2" in kiosk.current().error_text())
    kiosk.press("2222E")
    kiosk.wait_for(lambda: "Tries left: 1" in pin.error_text())
    kiosk.press("3333E")
    kiosk.wait_screen("message")
    outcome = kiosk.outcome()
    assert outcome.status == "retained"
    assert kiosk.message_title() == "Your card has been retained"
    assert kiosk.ctl("card_reader", "state")["retained"] == 1
    receipts = kiosk.ctl("printer", "receipts")
    assert "CARD RETAINED" in receipts[-1]["text"] and "432198*******0987" in receipts[-1]["text"]
    card = kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"])
    assert card.status == "retained"
    events = journal_events(kiosk)
    assert "card_retained_pin_tries_exceeded" in events and events.count("card_capture_outcome") == 1


def test_card_not_taken_is_captured_after_the_countdown(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("finish")
    take = kiosk.wait_screen("card_take")
    assert take.countdown.is_running()
    kiosk.wait_for(lambda: take.beeps == 1)
    kiosk.wait_screen("message")
    assert kiosk.outcome().status == "card_not_taken"
    assert kiosk.message_title() == "Your card has been retained"
    assert kiosk.ctl("card_reader", "state")["retained"] == 1


def test_expired_card_is_returned_with_a_message(kiosk: Any) -> None:
    kiosk.start_card()
    kiosk.insert_card(kiosk.ZHANG_MIN)
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "expired"
    assert kiosk.message_title() == "Your card has expired"
