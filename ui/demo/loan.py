"""Loan pre-qualification: Li Na's card login and the services menu, an application for ¥10,000 over 12
months, the summary with the instalment, the decision; the card returned."""

from __future__ import annotations

from ui.demo import Demo, DemoFailed
from ui.demo.enquiry import finish, login

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
LI_NA = {"pan": "6212340000001017", "name": "LI/NA", "expiry": "3106"}  # seed card, PIN 2468


def run(demo: Demo) -> None:
    login(demo, LI_NA, "2468")
    demo.act("loan")
    form = demo.wait_screen("loan_form")
    for name, value in (("amount", "10000"), ("income", "15000"), ("debt", "500")):
        form.focus_field(name)
        form.keypad.clear()
        for key in value:
            form.keypad.press(key)
    form.term_buttons[12].click()
    form.purpose_buttons["car"].click()
    demo.snap("filled")
    form.submit()
    demo.wait_screen("loan_confirm")
    demo.act("confirm")
    result = demo.wait_screen("loan_result")
    if result.outcome() not in ("approve", "refer", "decline"):
        raise DemoFailed("no decision shown")
    demo.act("done")
    demo.wait_screen("anything_else")
    demo.act("no")
    finish(demo)
