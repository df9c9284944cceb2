"""Change PIN at the kiosk, over ISO 8583 to the host process: the new PIN works at the next login and the
old one no longer does; a weak new PIN is refused and changes nothing; three wrong current PINs retain the
card as at login. Nothing at rest on the terminal holds a PIN, a PIN block or the PAN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.i18n import tr
from kiosk.security.scan import scan_for_secrets
from tests.screen_audit import ScreenAudit

NEW_PIN = "7391"


def journal(kiosk: Any) -> list[Any]:
    return list(kiosk.app.services.journal.records())


def log_out(kiosk: Any) -> None:
    kiosk.act("finish")
    kiosk.finish_and_take_card()
    assert kiosk.outcome().status == "completed"


def test_the_new_pin_works_at_the_next_login_and_the_old_one_does_not(kiosk: Any) -> None:
    kiosk.login()
    kiosk.change_pin(kiosk.WANG_FANG_PIN, NEW_PIN)
    notice = kiosk.wait_screen("notice")
    assert notice.panel.title() == "Your PIN has been changed"
    kiosk.act("ok")
    kiosk.wait_screen("anything_else")
    kiosk.act("no")
    kiosk.finish_and_take_card()
    changed = [r for r in journal(kiosk) if r.event == "pin_changed"]
    assert len(changed) == 1 and changed[0].fields["pan_masked"] == "432198*******0987"

    kiosk.login(pin=NEW_PIN)  # reaches the services menu
    log_out(kiosk)

    kiosk.start_card()
    kiosk.insert_card(kiosk.WANG_FANG)
    screen = kiosk.wait_screen("pin_entry")
    kiosk.press(kiosk.WANG_FANG_PIN + "E")
    kiosk.wait_for(lambda: "Tries left: 2" in screen.error_text())
    kiosk.act("cancel")
    kiosk.finish_and_take_card()

    data_dir = Path(kiosk.app.services.settings.data_dir)
    pins = {kiosk.WANG_FANG_PIN, NEW_PIN}
    assert scan_for_secrets(data_dir, pins=pins, pans={kiosk.WANG_FANG["pan"]}) == []


def test_a_weak_new_pin_is_refused_and_the_old_pin_still_works(kiosk: Any) -> None:
    # Every screen as it shows: in Chinese no English word, readable text (tests/screen_audit.py).
    audit = ScreenAudit(kiosk.window, lambda: str(kiosk.window.lang)).start()
    kiosk.login(lang="zh_CN")
    assert "修改密码" in kiosk.current().service_buttons["change_pin"].title()
    kiosk.act("change_pin")
    kiosk.pin_change_step("current", kiosk.WANG_FANG_PIN + "E", "zh_CN")
    kiosk.pin_change_step("new", "1111E", "zh_CN")
    screen = kiosk.pin_change_step("confirm", "1111E", "zh_CN")
    kiosk.wait_for(lambda: screen.error_text() == tr("pin_change.weak", "zh_CN"))
    assert screen.title_text() == tr("pin_change.new.title", "zh_CN")  # asked for another new PIN
    refused = [r for r in journal(kiosk) if r.event == "pin_change_refused"]
    assert [r.fields["outcome"] for r in refused] == ["weak"]
    kiosk.act("cancel")
    kiosk.wait_screen("services_menu")
    log_out(kiosk)

    kiosk.login()  # the old PIN, 1234, still opens the session
    log_out(kiosk)
    assert not [r for r in journal(kiosk) if r.event == "pin_changed"]
    found = audit.finish()
    assert found == [], "\n".join(found)


def test_three_wrong_current_pins_retain_the_card_as_at_login(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("change_pin")
    kiosk.pin_change_step("current", "2580E")
    kiosk.pin_change_step("new", NEW_PIN + "E")
    kiosk.pin_change_step("confirm", NEW_PIN + "E")
    for left in (2, 1):
        screen = kiosk.wait_screen("pin_entry")
        kiosk.wait_for(lambda left=left, screen=screen: f"Tries left: {left}" in screen.error_text())
        kiosk.pin_change_step("current", "2580E")
    kiosk.wait_screen("message")
    assert kiosk.outcome().status == "retained"
    assert kiosk.message_title() == "Your card has been retained"
    assert kiosk.ctl("card_reader", "state")["retained"] == 1
    receipt = " ".join(kiosk.ctl("printer", "receipts")[-1]["text"].split())
    assert "CARD RETAINED" in receipt and tr("retain.pin_change", "en") in receipt
    assert kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"]).status == "retained"
