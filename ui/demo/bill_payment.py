"""Bill payment: card login and the services menu, an electricity bill looked up by customer number (a
typo caught first), paid, a receipt, then the same bill scheduled monthly; the card returned."""

from __future__ import annotations

from typing import Any

from ui.demo import Demo, DemoFailed
from ui.demo.enquiry import finish, login

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
ELEC_NUMBER = "1234567913"  # a known electricity customer (Luhn-valid; a bill every month)


def type_digits(demo: Demo, screen: Any, digits: str) -> None:
    screen.keypad.clear()
    for digit in digits:
        screen.keypad.press(digit)
    demo.snap("typed")
    screen.keypad.submitted.emit(screen.keypad.text())


def run(demo: Demo) -> None:
    login(demo)
    demo.act("bill_payment")
    billers = demo.wait_screen("billing_biller")
    billers.biller_buttons["ELEC"].click()
    number = demo.wait_screen("billing_account")
    type_digits(demo, number, ELEC_NUMBER[:-1] + "4")  # a typo in the check digit
    number = demo.wait_screen("billing_account")
    demo.wait_until(lambda: number.error_text() != "", "the check-digit error")
    demo.snap("typo")
    type_digits(demo, number, ELEC_NUMBER)
    demo.wait_screen("billing_bill")
    demo.act("pay")
    demo.wait_screen("billing_confirm")
    demo.act("confirm")
    result = demo.wait_screen("billing_result")
    if not result.reference().startswith("BP"):
        raise DemoFailed("the payment result shows no reference")
    demo.wait_until(lambda: result.buttons["print"].isEnabled(), "the printer to be ready")
    demo.act("schedule")
    day = demo.wait_screen("billing_schedule_day")
    type_digits(demo, day, "15")
    result = demo.wait_screen("billing_result")
    demo.wait_until(lambda: result.buttons["schedule"].isHidden(), "the schedule confirmation")
    demo.snap("scheduled")
    demo.act("print")
    demo.wait_screen("anything_else")
    demo.act("no")
    finish(demo)
