"""The loan review queue and the security monitoring pages in maintenance mode (pytest-qt, simulators)."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from bank.loans.service import ApplicationView, LoanService
from bank.models import Account
from bank.security.vault import install_vault
from bank.seed import seed_bank
from devices.base import DeviceEvent
from hostlink.loans import LoanRequest
from kiosk.monitoring import MonitorThresholds, SecurityMonitor
from ui.app import render_offscreen
from ui.maintenance.loan_review import install_loan_review
from ui.maintenance.security_page import install_security_monitor

from .conftest import Rig, add_tech, click, login, open_kiosk  # type: ignore[import-not-found]

# Set MAINTENANCE_SCREENSHOTS=<dir> to keep renders of the pages (docs/screens/maintenance was made this way).
SHOTS = os.environ.get("MAINTENANCE_SCREENSHOTS", "")


def referred_application(rig: Rig) -> tuple[LoanService, ApplicationView]:
    install_vault(rig.runtime.vault)
    with Session(rig.runtime.engine) as session:
        seed_bank(
            session,
            rig.runtime.vault,
            pvv_for=lambda pan, pin: hashlib.sha256(f"{pan}|{pin}".encode()).hexdigest()[:16],
        )
        li_na = session.scalar(select(Account).where(Account.number == "0001100000010030"))
        assert li_na is not None and li_na.customer_id is not None
        ids = (li_na.customer_id, li_na.id)
    loans = LoanService(rig.runtime.engine, rig.runtime.vault, journal=rig.journal)
    referred = loans.apply(*ids, LoanRequest(6_000_000, 60, 2_000_000, 0, "home"))
    assert isinstance(referred, ApplicationView) and referred.status == "pending_review"
    return loans, referred


def test_a_supervisor_approves_a_referred_loan_a_technician_cannot_see_the_queue(
    qtbot: QtBot, rig: Rig
) -> None:
    loans, referred = referred_application(rig)
    window, controller = open_kiosk(qtbot, rig)
    page = install_loan_review(controller, loans)
    add_tech(controller, "tina")
    add_tech(controller, "sue", "supervisor")
    login(qtbot, controller, "tina")
    screen = controller.screen
    assert not screen.nav_buttons["loans"].isVisible() and not screen.open_page("loans")
    controller.logout()
    login(qtbot, controller, "sue")
    click(qtbot, screen.nav_buttons["loans"])
    qtbot.waitUntil(lambda: page.queue.count() == 1, timeout=5000)
    assert referred.reference in page.queue.item(0).text()
    detail = page.detail.text()
    assert "months_as_customer" in detail and "Loans of this size are always reviewed" in detail
    if SHOTS:
        render_offscreen(window, Path(SHOTS) / "maint-loans-en.png")
    page.note.setText("income confirmed by phone")
    click(qtbot, page.approve_button)
    qtbot.waitUntil(lambda: page.outcome.ok is True, timeout=5000)
    qtbot.waitUntil(lambda: page.queue.count() == 0, timeout=5000)
    done = loans.get(referred.application_id)
    assert done is not None and (done.status, done.reviewed_by) == ("review_approved", "sue")
    [review] = rig.events("loan_review")
    assert (review["technician"], review["result"], review["note"]) == (
        "sue",
        "review_approved",
        "income confirmed by phone",
    )


def test_security_alerts_arrive_live_and_are_acknowledged_by_name(qtbot: QtBot, rig: Rig) -> None:
    monitor = SecurityMonitor(MonitorThresholds(wrong_pins_per_card=2), journal=rig.journal)
    window, controller = open_kiosk(qtbot, rig, lang="zh_CN")
    page = install_security_monitor(controller, monitor)
    add_tech(controller, "tina")
    login(qtbot, controller, "tina")
    click(qtbot, controller.screen.nav_buttons["security"])
    assert page.alert_list.item(0).text() == "暂无告警。"

    def from_devices_and_journal() -> None:  # the driver's I/O thread and the journal follower's thread
        monitor.observe_device_event(DeviceEvent("pin_pad", "tamper"))
        for seq in (1001, 1002):
            monitor.observe_journal(
                {
                    "seq": seq,
                    "event": "pin_wrong",
                    "fields": {"pan_masked": "621234******1017", "tries_left": 1},
                }
            )

    worker = threading.Thread(target=from_devices_and_journal)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: len(page.shown_alerts) == 2, timeout=5000)
    assert "防拆报警" in page.alert_list.item(0).text()
    assert page.feed_list.count() == 3
    if SHOTS:
        render_offscreen(window, Path(SHOTS) / "maint-security-zh.png")
    click(qtbot, page.ack_button)
    qtbot.waitUntil(lambda: len(page.shown_alerts) == 1, timeout=5000)
    [ack] = rig.events("security_alert_acknowledged")
    assert (ack["by"], ack["rule"]) == ("tina", "tamper")
    assert [r["rule"] for r in rig.events("security_alert")] == ["tamper", "wrong_pins_card"]
