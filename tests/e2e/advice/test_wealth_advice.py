"""Wealth advice end to end: the kiosk window, the runner, the advice record in the bank DB, the journal.

The customer logs in with Wang Fang's card and picks wealth advice in the services menu.
"""

from __future__ import annotations

from typing import Any

from bank.advice.store import AdviceStore
from tests.screen_audit import ScreenAudit

# A C4 profile (score 76): may register interest up to R4; the R5 equity fund is refused.
GROWTH_ANSWERS = (
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


def start(kiosk: Any, lang: str = "en") -> None:
    kiosk.login(lang=lang)
    kiosk.act("wealth_advice")
    kiosk.wait_screen("advice_intro")


def answer_all(kiosk: Any, answers: tuple[str, ...] = GROWTH_ANSWERS) -> None:
    kiosk.act("start")
    for n, option in enumerate(answers):
        screen = kiosk.wait_screen("advice_question")
        kiosk.wait_for(lambda n=n, s=screen: s.data("index") == n)
        screen.option_buttons[option].click()
    amounts = kiosk.wait_screen("advice_amount")
    amounts.amount_buttons[5_000_000].click()


def store(kiosk: Any) -> AdviceStore:
    return kiosk.host.advice_for("KIOSK-0001")


def test_questionnaire_result_refusal_cooling_off_and_interest(kiosk: Any) -> None:
    start(kiosk)
    answer_all(kiosk)
    result = kiosk.wait_screen("advice_result")
    assert result.title_text() == "Your risk level: C4 Growth"
    assert "In 10 years" in result.range_text()
    assert len(result.chart.points) == 11
    shown = result.context["projection"]["points"][-1]
    assert shown["p5"] < 5_000_000 < shown["p50"] < shown["p95"]
    kiosk.act("shelf")
    shelf = kiosk.wait_screen("advice_shelf")
    assert "Above your level" in shelf.product_buttons["equity_fund"].hint()
    shelf.product_buttons["equity_fund"].click()
    product = kiosk.wait_screen("advice_product")
    kiosk.act("interest")
    kiosk.wait_for(lambda: "Refused" in product.error_text())
    assert "R5" in product.error_text() and "C4" in product.error_text()
    kiosk.act("back")
    shelf = kiosk.wait_screen("advice_shelf")
    shelf.product_buttons["index_fund"].click()
    kiosk.wait_screen("advice_product")
    kiosk.act("interest")
    cooling = kiosk.wait_screen("advice_cooling_off")
    assert "24 hours" in cooling.body_text()
    kiosk.act("acknowledge")
    registered = kiosk.wait_screen("advice_registered")
    assert registered.title_text() == "Interest registered"
    kiosk.act("done")
    kiosk.wait_screen("anything_else")  # the advice journey completed; the menu asks what next
    card = kiosk.bank.card_by_pan(kiosk.WANG_FANG["pan"])
    [record] = store(kiosk).for_customer(card.customer_id)
    assert (
        record["level"] == "C4" and record["score"] == 76 and record["questionnaire_version"] == "RQ-2025.1"
    )
    assert record["amount_minor"] == 5_000_000 and sum(r["minor"] for r in record["allocation"]) == 5_000_000
    assert [r["product"] for r in record["products_refused"]] == ["equity_fund"]
    assert [r["product"] for r in record["products_interest"]] == ["index_fund"]
    assert record["products_interest"][0]["cooling_off_until"]
    assert record["session_id"] == kiosk.app.session_id
    events = [e["event"] for e in kiosk.host.audit.events()]  # recorded at the host, which keeps advice
    assert events.count("advice_assessed") == 1
    assert "advice_refused" in events and "advice_interest" in events


def test_elderly_customer_is_capped_and_sees_the_reason_in_chinese(kiosk: Any) -> None:
    # Every screen as it shows: in Chinese no English word, readable text (tests/screen_audit.py).
    audit = ScreenAudit(kiosk.window, lambda: str(kiosk.window.lang)).start()
    start(kiosk, "zh_CN")
    answers = ("over_65", *GROWTH_ANSWERS[1:])
    answer_all(kiosk, answers)
    result = kiosk.wait_screen("advice_result")
    assert result.title_text() == "您的风险等级：C3 平衡型"
    assert "65岁以上" in result._caps.text()
    kiosk.act("done")
    kiosk.wait_screen("anything_else")  # completed
    found = audit.finish()
    assert found == [], "\n".join(found)


def test_back_keeps_answers_and_cancel_at_a_question_ends_with_nothing_recorded(kiosk: Any) -> None:
    start(kiosk)
    kiosk.act("start")
    screen = kiosk.wait_screen("advice_question")
    screen.option_buttons["18_30"].click()
    kiosk.wait_for(lambda: screen.data("index") == 1)
    kiosk.act("back")
    kiosk.wait_for(lambda: screen.data("index") == 0)
    assert screen.option_buttons["18_30"].title().startswith("✓")
    kiosk.act("cancel")
    kiosk.wait_screen("services_menu")  # cancelled: back to the menu
    assert "advice_assessed" not in [e["event"] for e in kiosk.host.audit.events()]


def test_no_advice_is_shown_when_the_record_cannot_be_written(kiosk: Any) -> None:
    from sqlalchemy import text

    with kiosk.host.engine.begin() as conn:
        conn.execute(text("DROP TABLE advice_records"))
    start(kiosk)
    answer_all(kiosk)
    kiosk.finish_and_take_card()  # the session ends with the card given back first
    kiosk.wait_screen("message")
    assert kiosk.outcome().status == "failed"
    assert kiosk.message_title() == "Advice is not available right now"
    assert "advice_result" not in kiosk.seen


def test_from_the_services_menu_after_card_login(kiosk: Any) -> None:
    kiosk.login()
    kiosk.act("wealth_advice")
    kiosk.wait_screen("advice_intro")
    kiosk.act("cancel")
    kiosk.wait_screen("services_menu")
