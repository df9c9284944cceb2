"""The card journeys walked in Chinese: every screen they show is audited (tests/screen_audit.py) for an
English word left untranslated, for faint text and for a full card number, so a catalogue gap or a host
text shown as it came fails here."""

from __future__ import annotations

from typing import Any

from tests.screen_audit import ALLOWED_IN_CHINESE, ScreenAudit, english_words


def walk(kiosk: Any) -> ScreenAudit:
    return ScreenAudit(
        kiosk.window, lambda: str(kiosk.window.lang), secrets=(kiosk.WANG_FANG["pan"],)
    ).start()


def test_enquiries_and_a_transfer_in_chinese_show_no_english(kiosk: Any) -> None:
    audit = walk(kiosk)
    kiosk.login(lang="zh_CN")
    kiosk.act("balance")
    balance = kiosk.wait_screen("balance")
    kiosk.wait_for(lambda: balance.buttons["print"].isEnabled())
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    kiosk.act("yes")
    kiosk.wait_screen("services_menu")
    kiosk.act("transfer")
    kiosk.wait_screen("transfer_kind")
    kiosk.act("kind", {"value": "customer"})
    payee = kiosk.wait_screen("transfer_payee")
    kiosk.act("payee", {"account": "123", "name": "李娜"})
    kiosk.wait_for(lambda: payee.error_text() != "")
    kiosk.act("payee", {"account": kiosk.LI_NA_ACCOUNT, "name": "李娜"})
    amount = kiosk.wait_screen("transfer_amount")
    for key in "6000":
        amount.keypad.press(key)
    amount.keypad._submit()
    kiosk.wait_screen("transfer_confirm")
    kiosk.act("confirm")
    pin = kiosk.wait_screen("pin_entry")
    kiosk.press("1234")
    kiosk.wait_for(lambda: pin.dots().count("*") == 4)
    kiosk.press("E")
    kiosk.wait_screen("transfer_result")
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    kiosk.act("yes")
    kiosk.wait_screen("services_menu")
    kiosk.act("mini_statement")
    statement = kiosk.wait_screen("statement")
    kiosk.wait_for(lambda: statement.buttons["print"].isEnabled())
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    # The paper says the lines in Chinese too (the host writes them in English).
    paper = kiosk.ctl("printer", "receipts")[-1]["text"]
    assert "期初余额" in paper and "转账给 ****" in paper, paper
    # The zone of the time (CST: Asia/Shanghai, kiosk/banktime.py) and the simulator's "[QR: …]" stand-in
    # for the printed code are not words to translate.
    assert english_words(paper, ALLOWED_IN_CHINESE | {"CST", "QR"}) == [], paper
    kiosk.act("yes")
    kiosk.wait_screen("services_menu")
    kiosk.act("history")
    ranges = kiosk.wait_screen("history_range")
    ranges.start_field.setText("20300102")
    ranges.end_field.setText("20300101")
    ranges.search()
    kiosk.wait_for(lambda: ranges.error_text() != "")
    kiosk.act("range", {"days": 30})
    kiosk.wait_screen("history")
    kiosk.act("done")
    kiosk.wait_screen("anything_else")
    kiosk.act("no")
    kiosk.finish_and_take_card()
    audit.check_now()
    audit.stop()
    walked = {"balance", "statement", "history_range", "history", "transfer_confirm", "transfer_result"}
    assert walked <= audit.screens, audit.screens
    assert audit.report() == [], "\n".join(audit.report())
