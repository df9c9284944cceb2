"""Card journeys when devices fail, the customer cancels, or walks away; in both languages."""

from __future__ import annotations

from typing import Any

import pytest


def journal(kiosk: Any) -> list[Any]:
    return list(kiosk.app.services.journal.records())


def test_reader_jam_when_returning_the_card_says_so_and_journals_it(kiosk: Any) -> None:
    kiosk.login()
    kiosk.ctl("card_reader", "jam")
    kiosk.act("finish")
    kiosk.wait_screen("message")
    assert kiosk.outcome().status == "failed"
    assert kiosk.message_title() == "Your card could not be returned"
    records = journal(kiosk)
    outcome = next(r for r in records if r.event == "card_eject_outcome")
    assert outcome.fields["result"] == "media_jammed"
    assert kiosk.app.services.journal.suspects() == []


def test_reader_jammed_before_a_card_goes_in_is_a_clear_message(kiosk: Any) -> None:
    kiosk.ctl("card_reader", "jam")
    kiosk.window.navigation.reset("attract")
    kiosk.window.menu.emit_action("insert_card")
    kiosk.wait_screen("message")
    assert kiosk.outcome().status == "failed"
    assert kiosk.message_title() == "The card reader is not working"


@pytest.mark.parametrize("fault", ["silent", "unplug"])
def test_pin_pad_failure_during_pin_entry_returns_the_card(kiosk: Any, fault: str) -> None:
    kiosk.start_card()
    kiosk.insert_card(kiosk.WANG_FANG)
    kiosk.wait_screen("pin_entry")
    kiosk.ctl("pin_pad", fault)
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "failed"
    assert kiosk.message_title() == "The PIN pad is not working"
    # No PIN was checked, so no try was used up.
    assert kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"]).pin_failures == 0


def test_printer_out_of_paper_mid_session_continues_without_a_receipt(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("balance")
    balance = kiosk.wait_screen("balance")
    kiosk.wait_for(lambda: balance.buttons["print"].isEnabled())
    kiosk.ctl("printer", "paper_out")
    kiosk.act("print")
    notice = kiosk.wait_screen("notice")
    assert notice.panel.title() == "The receipt could not be printed"
    assert list(notice.buttons) == ["continue"]
    kiosk.act("continue")
    kiosk.wait_screen("anything_else")
    kiosk.act("yes")
    menu = kiosk.wait_screen("services_menu")
    assert "continue without receipts" in menu._printer.text()
    kiosk.act("finish")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"
    print_outcome = next(r for r in journal(kiosk) if r.event == "print_outcome")
    assert print_outcome.fields["result"] == "paper_out"


def test_printer_down_from_the_start_offers_no_receipt(kiosk: Any) -> None:
    kiosk.ctl("printer", "paper_out")
    kiosk.login()
    menu = kiosk.current()
    kiosk.wait_for(lambda: menu._printer.text() != "")
    kiosk.act("balance")
    balance = kiosk.wait_screen("balance")
    assert not balance.buttons["print"].isEnabled()
    assert balance._printer_note.text() == "Receipt printer not available"
    kiosk.act("done")
    kiosk.wait_screen("anything_else")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_cancel_on_the_insert_card_screen_ends_without_a_card(kiosk: Any, lang: str) -> None:
    kiosk.start_card(lang)
    kiosk.act("cancel")
    kiosk.wait_for(lambda: kiosk.screen == "attract")
    assert kiosk.outcome().status == "cancelled"
    assert kiosk.ctl("card_reader", "state")["entry_permitted"] is False


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_cancel_during_pin_entry_returns_the_card(kiosk: Any, lang: str) -> None:
    kiosk.start_card(lang)
    kiosk.insert_card(kiosk.WANG_FANG)
    kiosk.wait_screen("pin_entry")
    kiosk.press("12")
    kiosk.act("cancel")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "cancelled"
    assert kiosk.message_title() == {"en": "Cancelled", "zh_CN": "已取消"}[lang]
    assert kiosk.ctl("pin_pad", "state")["mode"] == "idle"  # the pad left PIN entry


def test_cancel_on_the_pin_pad_returns_the_card(kiosk: Any) -> None:
    kiosk.start_card()
    kiosk.insert_card(kiosk.WANG_FANG)
    kiosk.wait_screen("pin_entry")
    kiosk.press("X")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "cancelled"


def _to_step(kiosk: Any, step: str) -> None:
    kiosk.act("transfer")
    kiosk.wait_screen("transfer_kind")
    if step == "transfer_kind":
        return
    kiosk.act("kind", {"value": "customer"})
    kiosk.wait_screen("transfer_payee")
    if step == "transfer_payee":
        return
    kiosk.act("payee", {"account": kiosk.LI_NA_ACCOUNT, "name": "李娜"})
    kiosk.wait_screen("transfer_amount")
    if step == "transfer_amount":
        return
    kiosk.act("amount", {"value": "10"})
    kiosk.wait_screen("transfer_confirm")


@pytest.mark.parametrize("step", ["transfer_kind", "transfer_payee", "transfer_amount", "transfer_confirm"])
def test_cancel_at_each_transfer_step_moves_no_money(kiosk: Any, step: str) -> None:
    kiosk.login()
    _to_step(kiosk, step)
    assert kiosk.screen == step
    kiosk.act("cancel")
    kiosk.wait_screen("services_menu")
    kiosk.act("finish")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"
    assert "transfer" not in [r.event for r in journal(kiosk)]
    balance = kiosk.bank.balance(kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"]).account_id)
    assert balance.ledger.minor == 1_234_567


@pytest.mark.parametrize("step", ["history_range", "balance"])
def test_cancel_in_enquiries_goes_back_to_the_menu(kiosk: Any, step: str) -> None:
    kiosk.login()
    kiosk.act("history" if step == "history_range" else "balance")
    kiosk.wait_screen(step)
    kiosk.act("cancel")
    kiosk.wait_screen("services_menu")


@pytest.mark.parametrize("idle_timeout_s", [2.0])
def test_idle_timeout_in_the_menu_returns_the_card_and_says_why(kiosk: Any) -> None:
    kiosk.login(lang="zh_CN")
    kiosk.wait_for(lambda: kiosk.window.idle.warning_visible(), timeout=10000)
    kiosk.wait_screen("card_take", timeout=10000)
    kiosk.take_card()
    kiosk.wait_screen("message")
    assert kiosk.outcome().status == "timeout"
    assert kiosk.message_title() == "本次服务已结束"


@pytest.mark.parametrize("idle_timeout_s", [2.0])
def test_idle_timeout_on_the_insert_card_screen_goes_back_to_attract(kiosk: Any) -> None:
    kiosk.start_card()
    kiosk.wait_for(lambda: kiosk.screen == "attract", timeout=10000)
    assert kiosk.outcome().status == "timeout"
