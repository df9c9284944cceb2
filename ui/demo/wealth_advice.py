"""Wealth advice: card login and the services menu, ten answers, the result with its chart, a refused
product, cooling-off, an interest registered; the card returned."""

from __future__ import annotations

from ui.demo import Demo
from ui.demo.enquiry import finish, login
from ui.screens.advice_questionnaire import AdviceQuestionScreen

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


def run(demo: Demo) -> None:
    login(demo)
    demo.act("wealth_advice")
    demo.wait_screen("advice_intro")
    demo.act("start")
    for n, option in enumerate(GROWTH):
        screen = demo.wait_screen("advice_question")

        def question_shown(n: int = n, s: AdviceQuestionScreen = screen) -> bool:
            return bool(s.data("index") == n)

        demo.wait_until(question_shown, f"question {n + 1}")
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
    demo.wait_screen("anything_else")
    demo.act("no")
    finish(demo)
