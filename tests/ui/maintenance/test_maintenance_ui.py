"""Maintenance mode on the kiosk's screen, driven with pytest-qt against real simulators on loopback.

Each action is pressed as a technician would and checked where it lands: the simulator's state or output,
the dashboard, the journal (who, what, how it ended) and the persisted maintenance state.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from kiosk.banktime import format_bank_time, parse_instant
from kiosk.maintenance.store import MaintenanceStore

from .conftest import PASSWORD, Rig, add_tech, click, login, open_kiosk  # type: ignore[import-not-found]


def test_first_start_creates_the_first_supervisor_on_the_on_screen_keyboard(qtbot: QtBot, rig: Rig) -> None:
    window, controller = open_kiosk(qtbot, rig)
    assert controller.request_entry()
    screen = controller.login_screen
    assert window.current_state() == "maint_login" and screen.setup_mode
    assert screen.confirm.isVisible() and screen.keyboard.isVisible()
    # typed key by key on the on-screen keyboard, as on the kiosk
    screen.username.setFocus()
    for key in "chief":
        screen.keyboard.press(key)
    screen.keyboard.press("enter")  # moves on to the password field
    qtbot.waitUntil(lambda: screen.password.hasFocus(), timeout=2000)
    screen.keyboard.set_target(screen.password)
    for key in PASSWORD:
        screen.keyboard.press(key)
    screen.confirm.setText("something-else-1")
    click(qtbot, screen.submit_button)
    assert screen.message.ok is False and "differ" in screen.message.text()
    assert screen.password.text() == PASSWORD  # a mismatch keeps the first password for a retry
    screen.confirm.setText(PASSWORD)
    click(qtbot, screen.submit_button)
    qtbot.waitUntil(lambda: not screen.setup_mode and "chief" in screen.message.text(), timeout=5000)
    assert screen.password.text() == "" and screen.confirm.text() == ""
    [added] = rig.events("tech_added")
    assert added["username"] == "chief" and added["role"] == "supervisor" and added["by"] == "first-start"
    assert not controller.service.needs_first_supervisor()
    screen.username.setText("chief")
    screen.password.setText(PASSWORD)
    click(qtbot, screen.submit_button)
    qtbot.waitUntil(lambda: window.current_state() == "maintenance", timeout=5000)
    assert controller.session is not None and controller.session.role.value == "supervisor"
    # the first-start form cannot be used again once an account exists
    assert controller.service.create_first_supervisor("intruder", PASSWORD).code == "refused"


def test_a_customer_session_is_never_interrupted(qtbot: QtBot, rig: Rig) -> None:
    window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    window.show_state("menu")
    window.maintenanceRequested.emit()  # the hidden gesture while a customer uses the kiosk
    assert window.current_state() == "menu"
    [refused] = rig.events("maintenance_entry_refused")
    assert refused["reason"] == "customer_session" and refused["screen"] == "menu"
    window.end_session("done")
    window.maintenanceRequested.emit()
    assert window.current_state() == "maint_login"
    click(qtbot, controller.login_screen.cancel_button)
    assert window.current_state() == "attract"


def test_five_wrong_passwords_lock_the_account(qtbot: QtBot, rig: Rig) -> None:
    window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    assert controller.request_entry()
    screen = controller.login_screen
    messages = []
    for attempt in range(5):
        screen.username.setText("tina")
        screen.password.setText(f"wrong-password-{attempt}")
        click(qtbot, screen.submit_button)
        qtbot.waitUntil(lambda: screen.submit_button.isEnabled() and screen.message.ok is False, timeout=5000)
        messages.append(screen.message.text())
    assert "4 tries left" in messages[0] and "1 tries left" in messages[3]
    assert "locked" in messages[4] and "30 min" in messages[4]
    screen.username.setText("tina")
    screen.password.setText(PASSWORD)  # even the right password is refused while locked
    click(qtbot, screen.submit_button)
    qtbot.waitUntil(lambda: screen.submit_button.isEnabled(), timeout=5000)
    assert "locked" in screen.message.text() and window.current_state() == "maint_login"
    kinds = [e["event"] for e in rig.events() if e["event"].startswith("tech_login")]
    assert kinds == ["tech_login_failed"] * 4 + ["tech_login_locked"] * 2


def test_test_print_renders_a_receipt_in_the_printer_simulator(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    login(qtbot, controller, "tina")
    page = controller.screen.devices_page
    click(qtbot, page.device_buttons["printer"])
    click(qtbot, page.print_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok, page.outcome.text()
    assert "Test receipt printed" in page.outcome.text()
    [receipt] = rig.ctl["printer"].call("receipts")
    assert (
        "TEST-" in receipt["text"] and "tina" in receipt["text"] and rig.settings.kiosk_id in receipt["text"]
    )
    assert Path(receipt["png"]).stat().st_size > 1000
    # Bank time with the zone, as customers' receipts print it (the default zone is Asia/Shanghai).
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} CST", receipt["text"]), receipt["text"]
    intent, outcome = rig.events("maintenance_print_test"), rig.events("maintenance_print_test_outcome")
    assert (
        intent[0]["technician"] == "tina"
        and intent[0]["device"] == "printer"
        and intent[0]["kind"] == "intent"
    )
    assert outcome[0]["result"] == "success" and outcome[0]["technician"] == "tina"
    # the dashboard shows the driver's counter going up
    assert page.facts["Receipts printed"] == "1"


def test_clear_a_jammed_card_after_the_technician_frees_it(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    reader = rig.devices.card_reader
    assert reader is not None
    waiting = reader.wait_for_card(5)
    rig.ctl["card_reader"].call("insert_card", pan="6217000000000000004", name="TEST/CARD")
    assert waiting.result(5).ok
    rig.ctl["card_reader"].call("jam")
    login(qtbot, controller, "tina")
    page = controller.screen.devices_page
    click(qtbot, page.device_buttons["card_reader"])
    # the dashboard follows the driver's own status (adapter signals): the jam shows without asking
    qtbot.waitUntil(lambda: "Hardware error" in page.device_buttons["card_reader"].hint(), timeout=5000)
    assert "A card is stuck inside the card reader." in page.details.text()
    click(qtbot, page.clear_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok is False and "remove the card by hand" in page.outcome.text()
    rig.ctl["card_reader"].call("jam", on=False)  # the technician's hands
    click(qtbot, page.clear_button)
    qtbot.waitUntil(lambda: page.outcome.ok is True, timeout=10_000)
    assert "at the gate" in page.outcome.text()
    assert rig.ctl["card_reader"].call("state")["media"] == "at_gate"
    qtbot.waitUntil(lambda: page.device_buttons["card_reader"].hint() == "Online", timeout=5000)
    results = [e["result"] for e in rig.events("maintenance_clear_card_outcome")]
    assert results == ["media_jammed", "success"]


def test_retain_bin_count_mismatch_is_shown_and_journaled(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    login(qtbot, controller, "tina")
    page = controller.screen.devices_page
    click(qtbot, page.device_buttons["card_reader"])
    assert page.facts["Cards in retain bin"] == "3"
    rig.ctl["card_reader"].call("empty_bin")  # the technician opens the bin and takes the cards out
    page.count_field.setText("2")  # ... but counts only two
    click(qtbot, page.bin_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok is False
    assert "MISMATCH" in page.outcome.text() and "counted 3" in page.outcome.text()
    [mismatch] = rig.events("retain_bin_mismatch")
    assert (mismatch["expected"], mismatch["counted"], mismatch["technician"]) == (3, 2, "tina")
    record = MaintenanceStore(rig.settings.data_dir / "maintenance").last_record("retain_bin_emptied")
    assert record is not None and record["verdict"] == "mismatch" and record["device_after"] == 0
    # the next emptying, with the right count, reconciles cleanly
    page.count_field.setText("0")
    click(qtbot, page.bin_button)
    qtbot.waitUntil(lambda: page.outcome.ok is True, timeout=10_000)


def test_replenish_cards_and_paper_check_the_sensors(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    rig.ctl["card_dispenser"].call("stock_empty")
    rig.ctl["printer"].call("paper_out")
    login(qtbot, controller, "tina")
    page = controller.screen.devices_page
    click(qtbot, page.device_buttons["card_dispenser"])
    page.count_field.setText("40")
    click(qtbot, page.cards_button)  # recorded, but the cassette is not seated yet
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok is False and "still reports no cards" in page.outcome.text()
    rig.ctl["card_dispenser"].call("set_stock", count=40)
    page.count_field.setText("40")
    click(qtbot, page.cards_button)
    qtbot.waitUntil(lambda: page.outcome.ok is True, timeout=10_000)
    assert "stock ok" in page.outcome.text() and page.facts["Cards loaded (total)"] == "80"

    click(qtbot, page.device_buttons["printer"])
    click(qtbot, page.paper_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok is False and "no paper" in page.outcome.text()
    rig.ctl["printer"].call("refill")
    click(qtbot, page.paper_button)
    qtbot.waitUntil(lambda: page.outcome.ok is True, timeout=10_000)
    assert page.facts["Paper rolls loaded (total)"] == "2"
    verdicts = [r["verdict"] for r in controller.service.store.records()]
    assert verdicts == ["still_empty", "success", "paper_out", "success"]
    # a count that is not a number never reaches the service
    click(qtbot, page.device_buttons["card_dispenser"])
    page.count_field.setText("")
    click(qtbot, page.cards_button)
    assert page.outcome.ok is False and "whole number" in page.outcome.text()


def test_self_test_and_driver_restart(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    login(qtbot, controller, "tina")
    page = controller.screen.devices_page
    click(qtbot, page.device_buttons["card_reader"])
    click(qtbot, page.self_test_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok and "all 5 checks" in page.outcome.text()
    rig.ctl["card_dispenser"].call("jam")
    click(qtbot, page.device_buttons["card_dispenser"])
    click(qtbot, page.self_test_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok is False and "A card is stuck in the card dispenser." in page.outcome.text()
    [failed] = [e for e in rig.events("maintenance_self_test_outcome") if e["device"] == "card_dispenser"]
    assert failed["failed_checks"] == ["no card jam"]
    click(qtbot, page.device_buttons["printer"])
    click(qtbot, page.restart_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok and "online" in page.outcome.text()


def test_out_of_service_survives_a_restart_and_is_lifted_by_a_supervisor(qtbot: QtBot, rig: Rig) -> None:
    window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "sam", "supervisor")
    login(qtbot, controller, "sam")
    assert controller.screen.open_page("service")
    service_page = controller.screen.pages["service"]
    service_page.reason.setText("printer cover broken")
    click(qtbot, service_page.take_out_button)
    qtbot.waitUntil(lambda: controller.screen.oos_label.isVisible(), timeout=5000)
    assert "printer cover broken" in controller.screen.oos_label.text()
    click(qtbot, controller.screen.logout_button)
    assert window.current_state() == "out_of_service"
    assert window.out_of_service.reason == "printer cover broken"

    # a restarted kiosk (new window, same data dir) comes up out of service at once
    window2, controller2 = open_kiosk(qtbot, rig)
    assert window2.current_state() == "out_of_service"
    login(qtbot, controller2, "sam")
    assert controller2.screen.open_page("service")
    page2 = controller2.screen.pages["service"]
    click(qtbot, page2.return_button)
    qtbot.waitUntil(lambda: not controller2.screen.oos_label.isVisible(), timeout=5000)
    click(qtbot, controller2.screen.logout_button)
    assert window2.current_state() == "attract"
    changes = [(e["active"], e["technician"]) for e in rig.events("maintenance_out_of_service")]
    assert changes == [(True, "sam"), (False, "sam")]


def test_a_technician_cannot_reach_supervisor_actions(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    login(qtbot, controller, "tina")
    screen = controller.screen
    assert not screen.nav_buttons["techs"].isVisible() and not screen.nav_buttons["service"].isVisible()
    assert screen.nav_buttons["journal"].isVisible() and screen.nav_buttons["devices"].isVisible()
    assert not screen.open_page("service") and not screen.open_page("techs")
    assert screen.open_page("journal")
    journal_page = screen.pages["journal"]
    assert not journal_page.export_row.isVisible()  # exporting evidence is a supervisor's call
    # the service refuses even when asked directly, and journals the attempt
    session = controller.session
    assert session is not None
    outcome = controller.service.set_out_of_service(session, True, "just because")
    assert outcome.code == "refused" and not controller.service.out_of_service().active
    export = controller.service.export_journal(session, None, None, rig.tmp)
    assert export.code == "refused"
    refusals = rig.events("maintenance_refused")
    assert [(r["action"], r["role"]) for r in refusals] == [
        ("out_of_service_on", "technician"),
        ("export_journal", "technician"),
    ]


def test_idle_logout_shows_a_countdown_first(qtbot: QtBot, rig: Rig) -> None:
    window, controller = open_kiosk(qtbot, rig, idle_timeout_s=2.5, idle_warning_s=1.5)
    add_tech(controller, "tina")
    login(qtbot, controller, "tina")
    banner = controller.screen.idle_banner
    qtbot.waitUntil(banner.is_running, timeout=4000)
    assert "logging out" in banner.text()
    click(qtbot, banner.findChildren(type(controller.screen.logout_button).__mro__[1])[0])  # "Stay logged in"
    assert not banner.is_running() and window.current_state() == "maintenance"
    qtbot.waitUntil(lambda: window.current_state() == "attract", timeout=6000)
    assert controller.session is None
    [logout] = rig.events("tech_logout")
    assert logout["reason"] == "idle" and logout["username"] == "tina"


def test_journal_view_verify_and_export_to_a_usb_folder(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "sam", "supervisor")
    login(qtbot, controller, "sam")
    screen = controller.screen
    assert screen.open_page("journal")
    page = screen.pages["journal"]
    qtbot.waitUntil(lambda: any(row.kind == "tech_login" for row in page.rows), timeout=5000)
    # Times in bank time with the zone, the zone named above the list: the journal itself keeps UTC.
    zone = rig.settings.bank_timezone
    login_record = next(r for r in rig.journal.records() if r.event == "tech_login")
    shown = format_bank_time(parse_instant(login_record.ts), zone)
    times = [row.time for row in page.rows]
    assert shown.endswith(" CST") and shown in times
    assert not any(login_record.ts[11:19] in time for time in times)  # the UTC wall time is not shown
    assert "Asia/Shanghai" in page.zone_note.text()
    click(qtbot, page.verify_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=5000)
    assert page.outcome.ok and "intact" in page.outcome.text()

    usb = rig.tmp / "usb"
    usb.mkdir()
    page.from_field.setText("1")
    page.to_field.setText("3")
    page.path_field.setText(str(usb))
    click(qtbot, page.export_button)
    qtbot.waitUntil(lambda: "written to" in page.outcome.text(), timeout=5000)
    [exported] = list(usb.iterdir())
    assert [json.loads(line)["seq"] for line in exported.read_text().splitlines()] == [1, 2, 3]

    # someone edits record 2 on disk: verify names it
    path = rig.journal.path
    rows = path.read_text(encoding="utf-8").splitlines()
    assert '"seq":2' in rows[1]
    rows[1] = rows[1].replace('"kiosk_id":"KIOSK-0001"', '"kiosk_id":"KIOSK-0666"')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    page.outcome.show_info("")
    click(qtbot, page.verify_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=5000)
    assert page.outcome.ok is False and "BROKEN at record 2" in page.outcome.text()


def test_settings_hide_secrets_and_logs_are_tailed_redacted(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    login(qtbot, controller, "tina")
    screen = controller.screen
    assert screen.open_page("settings")
    settings_text = screen.pages["settings"].text
    qtbot.waitUntil(lambda: "pin_tries" in settings_text.toPlainText(), timeout=5000)
    credential = rig.settings.host_credential_path
    if credential.exists():  # the page names the credential file, never shows what is in it
        assert credential.read_text(encoding="utf-8").strip() not in settings_text.toPlainText()
    assert "pin_key" not in settings_text.toPlainText()
    assert screen.open_page("logs")
    logs_text = screen.pages["logs"].text
    qtbot.waitUntil(lambda: "declined" in logs_text.toPlainText(), timeout=5000)
    lines = logs_text.toPlainText().splitlines()
    assert len(lines) == 300 and "line 499" in lines[-2]
    assert "6217001234567890123" not in lines[-1] and "621700" in lines[-1]


def test_supervisor_manages_technicians(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "sam", "supervisor")
    login(qtbot, controller, "sam")
    assert controller.screen.open_page("techs")
    page = controller.screen.pages["techs"]
    qtbot.waitUntil(lambda: page.list.count() == 1, timeout=5000)
    page.username.setText("bob")
    page.password.setText("short")
    click(qtbot, page.add_button)
    qtbot.waitUntil(lambda: page.outcome.ok is False, timeout=5000)
    assert "at least 10 characters" in page.outcome.text()
    page.password.setText(PASSWORD)
    click(qtbot, page.add_button)
    qtbot.waitUntil(lambda: page.list.count() == 2, timeout=5000)
    for _ in range(5):
        controller.service.login("bob", "wrong-password-1")
    page.load()
    qtbot.waitUntil(lambda: "locked" in page.list.item(0).text(), timeout=5000)
    page.list.setCurrentRow(0)
    click(qtbot, page.unlock_button)
    qtbot.waitUntil(lambda: "locked" not in page.list.item(0).text(), timeout=5000)
    page.list.setCurrentRow(0)
    click(qtbot, page.remove_button)
    qtbot.waitUntil(lambda: page.list.count() == 1, timeout=5000)
    assert [(e["username"], e["by"]) for e in rig.events("tech_removed")] == [("bob", "sam")]
