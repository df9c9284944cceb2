"""Three wrong PINs: the card is captured, a retain receipt printed, the customer told where to go."""

from __future__ import annotations

from ui.demo import Demo

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"retained"})
CARD = {"pan": "6212340000001017", "name": "LI/NA", "expiry": "3106"}  # seed card, PIN 2468


def run(demo: Demo) -> None:
    demo.start_service("insert_card")
    demo.wait_screen("card_insert")
    demo.ctl("card_reader", "insert_card", **CARD)
    pin_screen = demo.wait_screen("pin_entry")
    for attempt, wrong in enumerate(("1111", "2222", "3333"), start=1):
        demo.press_keys(wrong + "E")
        if attempt < 3:
            left = 3 - attempt

            def tries_left_shown(left: int = left) -> bool:
                return f"{left}" in pin_screen.error_text()

            demo.wait_until(tries_left_shown, f"{left} tries left")
            demo.pump(0.2)
            demo.snap(f"wrong{attempt}")
    demo.wait_screen("message")
