"""The help journey's three replies: an answer, "did you mean" with suggestions, a polite decline."""

from __future__ import annotations

from kiosk.journeys.core import Event
from kiosk.journeys.help import HelpJourney


def test_answer_did_you_mean_and_decline() -> None:
    journey = HelpJourney("S1", "zh_CN", "K1")
    journey.start()
    step = journey.handle(Event.ui("ask", text="机器把我的卡吞了"))
    assert step.view is not None and step.view.screen == "help_answer"
    assert step.view.data["entry"] == "card_retained" and len(step.view.data["related"]) == 2

    journey.handle(Event.ui("ask_again"))
    step = journey.handle(Event.ui("ask", text="卡插了好几次都提示错误"))
    assert step.view is not None and step.view.screen == "help_not_sure"
    assert step.view.data["declined"] is False
    assert step.view.data["suggestions"][0] == "card_not_read" and len(step.view.data["suggestions"]) == 3
    (log,) = step.effects
    assert log.params["outcome"] == "did_you_mean" and log.params["entry"] == "card_not_read"
    # Choosing a suggestion shows its answer.
    step = journey.handle(Event.ui("entry", id="card_not_read"))
    assert step.view is not None and step.view.screen == "help_answer"

    journey.handle(Event.ui("ask_again"))
    step = journey.handle(Event.ui("ask", text="今天天气怎么样"))
    assert step.view is not None and step.view.screen == "help_not_sure"
    assert step.view.data["declined"] is True and step.view.data["suggestions"] == []
    (log,) = step.effects
    assert log.params["outcome"] == "not_sure" and "天气" not in str(log.params)
    # The staff button is still there after a decline.
    step = journey.handle(Event.ui("call_staff"))
    assert any(e.kind == "help.call_staff" for e in step.effects)
