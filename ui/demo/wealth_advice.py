"""Wealth advice: card login (or the customer's session directly until the services menu offers it),
ten answers, the result with its chart, a refused product, cooling-off, an interest registered."""

from __future__ import annotations

from typing import Any

from ui.demo import Demo, DemoFailed
from ui.demo.enquiry import CARD, finish, login

DEVICES = ("card_reader", "pin_pad", "printer")
EXPECTED = frozenset({"completed"})
GROWTH = (
    "31_45",
    "over_5y",
    "stable",
    "10_25",
    "funds",
    "balanced",
    "up_to_15",
    "hold",
    "not_needed",
    "good",
)
DEMO_SERVICE = "wealth_advice_demo"


def _menu_offers_it() -> bool:
    import kiosk.journeys.session as session

    return hasattr(session, "register_logged_in_service")


def _start_without_card(demo: Demo) -> None:
    """Until the lead's services-menu registry exists: Wang Fang's session, started as the menu will."""
    from kiosk.journeys.session import CustomerSession, SessionConfig
    from kiosk.journeys.wealth_advice import WealthAdvice
    from ui.kiosk_app import JourneyStart, register_journey_factory

    bank = demo.app.services.bank
    card = bank.card_by_pan(CARD["pan"])
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
        return WealthAdvice(session, SessionConfig.from_settings(start.settings))

    register_journey_factory(DEMO_SERVICE, factory)
    demo.wait_screen("attract")
    demo.window.attract.emit_action("start")
    demo.wait_screen("language")
    demo.window.language_screen.emit_action("language", demo.lang)
    demo.wait_screen("menu")
    demo.app.start_journey(DEMO_SERVICE)


def run(demo: Demo) -> None:
    via_menu = _menu_offers_it()
    if via_menu:
        login(demo)
        demo.act("wealth_advice")
    else:
        _start_without_card(demo)
    demo.wait_screen("advice_intro")
    demo.act("start")
    for n, option in enumerate(GROWTH):
        screen = demo.wait_screen("advice_question")
        demo.wait_until(lambda n=n, s=screen: s.data("index") == n, f"question {n + 1}")
        screen.option_buttons[option].click()
    amounts = demo.wait_screen("advice_amount")
    amounts.amount_buttons[5_000_000].click()
    demo.wait_screen("advice_result")
    demo.act("shelf")
    shelf = demo.wait_screen("advice_shelf")
    shelf.product_buttons["equity_fund"].click()
    product = demo.wait_screen("advice_product")
    demo.act("interest")
    demo.wait_until(lambda: product.error_text() != "", "the refusal")
    demo.snap("refused")
    demo.act("back")
    shelf = demo.wait_screen("advice_shelf")
    shelf.product_buttons["index_fund"].click()
    demo.wait_screen("advice_product")
    demo.act("interest")
    demo.wait_screen("advice_cooling_off")
    demo.act("acknowledge")
    demo.wait_screen("advice_registered")
    demo.act("done")
    if via_menu:
        demo.wait_screen("anything_else")
        demo.act("no")
        finish(demo)
    elif demo.screen == "advice_registered":
        raise DemoFailed("the journey did not end after Done")
