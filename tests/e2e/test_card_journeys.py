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
    assert {"card_insert", "card_wait", "pin_entry", "services_menu", "balance", "card_take"} <= set(kiosk.seen)
