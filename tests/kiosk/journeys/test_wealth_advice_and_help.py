"""The wealth-advice and help journeys as state machines: events in, views and effects out."""

from __future__ import annotations

from kiosk.journeys.core import Event, Step
from kiosk.journeys.help import HelpJourney
from kiosk.journeys.session import CustomerSession, SessionConfig
from kiosk.journeys.wealth_advice import WealthAdvice

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


def advice() -> WealthAdvice:
    journey = WealthAdvice(CustomerSession("S1", 7, 70, "****0070"), SessionConfig())
    journey.start()
    return journey


def through_questions(journey: WealthAdvice, answers: tuple[str, ...] = GROWTH) -> Step:
    journey.handle(Event.ui("start"))
    for option in answers:
        journey.handle(Event.ui("answer", option=option))
    return journey.handle(Event.ui("amount", minor=1_000_000))


def saved(journey: WealthAdvice) -> Step:
    step = through_questions(journey)
    (effect,) = step.effects
    assert effect.kind == "advice.save" and effect.params["customer_id"] == 7
    assert effect.params["answers"]["age"] == "31_45" and effect.params["years"] == 10
    return journey.handle(Event.done(effect, True, {"record_id": 11}))


def test_result_only_after_the_record_is_saved() -> None:
    journey = advice()
    step = through_questions(journey)
    assert step.view is not None and step.view.screen == "card_wait"
    step = journey.handle(Event.done(step.effects[0], True, {"record_id": 11}))
    assert step.view is not None and step.view.screen == "advice_result"
    assert (
        step.view.data["level"] == "C4" and sum(r["minor"] for r in step.view.data["allocation"]) == 1_000_000
    )


def test_save_failure_ends_with_a_message_and_no_result() -> None:
    journey = advice()
    step = through_questions(journey)
    step = journey.handle(Event.done(step.effects[0], False, code="error"))
    assert step.outcome is not None and step.outcome.status == "failed"
    assert step.outcome.data["message"]["title_key"] == "advice.error.title"


def test_invalid_answer_and_amount_stay_on_the_screen() -> None:
    journey = advice()
    journey.handle(Event.ui("start"))
    step = journey.handle(Event.ui("answer", option="nonsense"))
    assert step.view is not None and step.view.data["error"] == "advice.error.choose" and journey.index == 0
    for option in GROWTH:
        journey.handle(Event.ui("answer", option=option))
    step = journey.handle(Event.ui("amount", minor=123))
    assert step.view is not None and step.view.data["error"] == "advice.error.amount" and not step.effects


def test_refusal_is_recorded_and_interest_needs_the_cooling_off_acknowledged() -> None:
    journey = advice()
    saved(journey)
    journey.handle(Event.ui("shelf"))
    journey.handle(Event.ui("product", code="equity_fund"))
    step = journey.handle(Event.ui("interest"))
    assert step.view is not None and step.view.data["refusal"] == "advice.refuse.above_level"
    assert [e.kind for e in step.effects] == ["advice.refuse"]
    assert journey.refused == ["equity_fund"]
    journey.handle(Event.ui("back"))
    journey.handle(Event.ui("product", code="index_fund"))
    step = journey.handle(Event.ui("interest"))
    assert step.view is not None and step.view.screen == "advice_cooling_off" and not step.effects
    step = journey.handle(Event.ui("acknowledge"))
    (effect,) = step.effects
    assert effect.kind == "advice.interest" and effect.params["acknowledged"] is True
    step = journey.handle(Event.done(effect, True, {"cooling_off_until": "2025-06-02 10:30"}))
    assert step.view is not None and step.view.screen == "advice_registered"
    # A product without cooling-off registers at once.
    journey.handle(Event.ui("shelf"))
    journey.handle(Event.ui("product", code="bond_fund"))
    step = journey.handle(Event.ui("interest"))
    assert [e.kind for e in step.effects] == ["advice.interest"]
    assert step.effects[0].params["acknowledged"] is False


def test_timeout_and_cancel() -> None:
    journey = advice()
    journey.handle(Event.ui("start"))
    step = journey.handle(Event("session.timeout"))
    assert step.outcome is not None and step.outcome.status == "timeout"
    journey = advice()
    step = journey.handle(Event.ui("cancel"))
    assert step.outcome is not None and step.outcome.status == "cancelled"


def test_help_answers_confident_questions_and_is_unsure_otherwise() -> None:
    journey = HelpJourney("S9", "en", "K1")
    step = journey.start()
    assert step.view is not None and step.view.screen == "help_ask"
    step = journey.handle(Event.ui("ask", text="my card was swallowed by the machine"))
    assert (
        step.view is not None
        and step.view.screen == "help_answer"
        and step.view.data["entry"] == "card_retained"
    )
    (log,) = step.effects
    assert log.kind == "help.log" and "swallowed" not in str(log.params)
    journey.handle(Event.ui("ask_again"))
    step = journey.handle(Event.ui("ask", text="where is the nearest train station"))
    assert step.view is not None and step.view.screen == "help_not_sure"
    step = journey.handle(Event.ui("call_staff"))
    (effect,) = [e for e in step.effects if e.kind == "help.call_staff"]
    assert effect.params["session_id"] == "S9" and effect.params["kiosk_id"] == "K1"
    step = journey.handle(Event.done(effect, True, {"alert_id": 5}))
    assert step.view is not None and step.view.screen == "help_staff" and journey.alert_id == 5
    # Calling again shows the same alert; no second effect.
    journey.handle(Event.ui("ask_again"))
    step = journey.handle(Event.ui("call_staff"))
    assert not step.effects and step.view is not None and step.view.data["alert_id"] == 5
    step = journey.handle(Event.ui("done"))
    assert step.outcome is not None and step.outcome.status == "completed"


def test_help_topics_empty_question_and_timeout() -> None:
    journey = HelpJourney("S9", "zh_CN", "K1")
    journey.start()
    step = journey.handle(Event.ui("ask", text="   "))
    assert step.view is not None and step.view.data["error"] == "help.error.empty"
    step = journey.handle(Event.ui("topic", topic="fees"))
    assert step.view is not None and step.view.data["entries"] == ["fees_transfer", "fees_account"]
    step = journey.handle(Event.ui("entry", id="fees_account"))
    assert step.view is not None and step.view.data["entry"] == "fees_account"
    step = journey.handle(Event("session.timeout"))
    assert step.outcome is not None and step.outcome.status == "timeout"
