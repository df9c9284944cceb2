"""Card + PIN, balance with a receipt, mini-statement, history (last 30 days), card returned."""

from __future__ import annotations

from ui.demo import Demo

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
CARD = {"pan": "43219876543210987", "name": "WANG/FANG", "expiry": "3012"}  # seed card, PIN 1234


def login(demo: Demo, card: dict[str, str] | None = None, pin: str | None = None) -> None:
    """Insert ``card`` (default: the demo's --card, else the seed card) and type its PIN."""
    if card is None:
        card, pin = demo.card if demo.card is not None else (CARD, "1234")
    assert pin is not None
    demo.start_service("insert_card")
    demo.wait_screen("card_insert")
    demo.ctl("card_reader", "insert_card", **card)
    pin_screen = demo.wait_screen("pin_entry")
    demo.press_keys(pin)
    demo.wait_until(lambda: pin_screen.dots().count("*") == len(pin), "the PIN dots")
    demo.snap("digits")
    demo.press_keys("E")
    demo.wait_screen("services_menu")


def finish(demo: Demo) -> None:
    demo.wait_screen("card_take")
    demo.wait_until(lambda: demo.ctl("card_reader", "state")["media"] == "at_gate", "the card at the gate")
    demo.ctl("card_reader", "take_card")


def run(demo: Demo) -> None:
    login(demo)
    demo.act("balance")
    balance = demo.wait_screen("balance")
    demo.wait_until(lambda: balance.buttons["print"].isEnabled(), "the printer to be ready")
    demo.act("print")
    demo.wait_screen("anything_else")
    demo.act("yes")
    demo.wait_screen("services_menu")
    demo.act("mini_statement")
    demo.wait_screen("statement")
    demo.act("done")
    demo.wait_screen("anything_else")
    demo.act("yes")
    demo.wait_screen("services_menu")
    demo.act("history")
    demo.wait_screen("history_range")
    demo.act("range", {"days": 30})
    demo.wait_screen("history")
    demo.act("done")
    demo.wait_screen("anything_else")
    demo.act("no")
    finish(demo)
