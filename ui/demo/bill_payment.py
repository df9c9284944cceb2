"""Bill payment: card login (or the customer's session directly until the services menu offers it),
an electricity bill looked up by customer number (a typo caught first), paid, a receipt, then the same
bill scheduled monthly; the scheduled payments list."""

from __future__ import annotations

from typing import Any

from ui.demo import Demo, DemoFailed
from ui.demo.enquiry import CARD, finish, login

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
DEMO_SERVICE = "bill_payment_demo"
ELEC_NUMBER = "1234567913"  # a known electricity customer (Luhn-valid; a bill every month)


def menu_offers_it() -> bool:
    import kiosk.journeys.session as session

    return hasattr(session, "register_logged_in_service")


def start_without_card_login(demo: Demo, service: str, make: Any) -> None:
    """Until the services menu has the logged-in registry: Wang Fang's session, started as the menu will
    (with the card's PAN in memory, so a PIN re-entry would still go to the PIN pad)."""
    from kiosk.journeys.session import CustomerSession, SessionConfig
    from ui.kiosk_app import JourneyStart, register_journey_factory

    bank = demo.app.services.bank
    card = bank.card_by_pan(CARD["pan"])
    if card is None or card.customer_id is None:
        raise DemoFailed("the seed card is missing")
    account = bank.account(card.account_id)

    def factory(start: JourneyStart) -> Any:
        session = CustomerSession(
            start.session_id,
            card.customer_id,
            card.account_id,
            account.masked_number if account else "",
            lang=start.lang,
            pan=CARD["pan"],
            pan_masked=card.pan_masked,
            today=start.services.today(),
        )
        return make(session, SessionConfig.from_settings(start.settings))

    register_journey_factory(service, factory)
    demo.wait_screen("attract")
    demo.window.attract.emit_action("start")
    demo.wait_screen("language")
    demo.window.language_screen.emit_action("language", demo.lang)
    demo.wait_screen("menu")
    demo.app.start_journey(service)


def type_digits(demo: Demo, screen: Any, digits: str) -> None:
    screen.keypad.clear()
    for digit in digits:
        screen.keypad.press(digit)
    demo.snap("typed")
    screen.keypad.submitted.emit(screen.keypad.text())


def run(demo: Demo) -> None:
    from kiosk.journeys.bill_payment import BillPayment

    via_menu = menu_offers_it()
    if via_menu:
        login(demo)
        demo.act("bill_payment")
    else:
        start_without_card_login(demo, DEMO_SERVICE, BillPayment)
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
    if via_menu:
        demo.wait_screen("anything_else")
        demo.act("no")
        finish(demo)
