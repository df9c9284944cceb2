"""Loan pre-qualification: Li Na's session (card login when the services menu offers loans), an
application for ¥10,000 over 12 months, the summary with the instalment, the approval."""

from __future__ import annotations

from typing import Any

from ui.demo import Demo, DemoFailed
from ui.demo.bill_payment import menu_offers_it
from ui.demo.enquiry import finish, login

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
DEMO_SERVICE = "loan_demo"
LI_NA = {"pan": "6212340000001017", "name": "LI/NA", "expiry": "3106"}  # seed card, PIN 2468


def start_without_card_login(demo: Demo) -> None:
    from kiosk.journeys.loan import LoanApplicationJourney
    from kiosk.journeys.session import CustomerSession, SessionConfig
    from ui.kiosk_app import JourneyStart, register_journey_factory

    bank = demo.app.services.bank
    card = bank.card_by_pan(LI_NA["pan"])
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
            today=start.services.today(),
        )
        return LoanApplicationJourney(session, SessionConfig.from_settings(start.settings))

    register_journey_factory(DEMO_SERVICE, factory)
    demo.wait_screen("attract")
    demo.window.attract.emit_action("start")
    demo.wait_screen("language")
    demo.window.language_screen.emit_action("language", demo.lang)
    demo.wait_screen("menu")
    demo.app.start_journey(DEMO_SERVICE)


def run(demo: Demo) -> None:
    via_menu = menu_offers_it()
    if via_menu:
        login(demo, LI_NA, "2468")
        demo.act("loan")
    else:
        start_without_card_login(demo)
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
    if via_menu:
        demo.wait_screen("anything_else")
        demo.act("no")
        finish(demo)
