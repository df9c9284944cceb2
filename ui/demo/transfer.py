"""Card + PIN, transfer ¥6,000.00 to another customer (PIN re-entry above the threshold), receipt."""

from __future__ import annotations

from ui.demo import Demo, DemoFailed
from ui.demo.enquiry import finish, login

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})


def refused_amount(demo: Demo) -> str:
    """The amount screen's refusal (a message key), or "" while there is none."""
    if demo.screen != "transfer_amount":
        return ""
    return str(demo.current().data("error") or "")


def run(demo: Demo) -> None:
    login(demo)
    demo.act("transfer")
    demo.wait_screen("transfer_kind")
    demo.act("kind", {"value": "customer"})
    payee = demo.wait_screen("transfer_payee")
    payee.fields["account"].setText("0001100000010030")
    payee.fields["name"].setText("李娜")
    demo.snap("filled")
    payee.submit()
    amount = demo.wait_screen("transfer_amount")
    for key in "6000":
        amount.keypad.press(key)
    demo.snap("typed")
    amount.keypad.submitted.emit(amount.keypad.text())
    # The balance shown on the amount screen may already be spent (another terminal, the same account):
    # the terminal then refuses the amount before asking the bank, and says why on this screen.
    demo.wait_until(
        lambda: demo.screen == "transfer_confirm" or refused_amount(demo) != "",
        "the transfer_confirm screen",
    )
    if demo.screen != "transfer_confirm":
        raise DemoFailed(f"the amount was refused on screen: {refused_amount(demo)}")
    demo.act("confirm")
    pin_screen = demo.wait_screen("pin_entry")
    demo.press_keys("1234")
    demo.wait_until(lambda: pin_screen.dots().count("*") == 4, "the PIN dots")
    demo.press_keys("E")
    result = demo.wait_screen("transfer_result")
    if not result.reference().startswith("TR"):
        raise DemoFailed("the transfer result shows no reference")
    demo.act("print")
    demo.wait_screen("anything_else")
    demo.act("no")
    finish(demo)
