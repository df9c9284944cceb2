from kiosk.journeys.core import NOTHING, Event, Journey, Outcome, Step


class AskAmount(Journey):
    name = "ask_amount"

    def on_start(self) -> Step:
        return self.go("amount", digits="")

    def on_amount(self, event: Event) -> Step:
        if event.kind == "ui.digit":
            return self.stay(digits=self.view.data["digits"] + event.data["digit"])  # type: ignore[union-attr]
        if event.kind == "ui.confirm":
            return self.finish("completed", amount=int(self.view.data["digits"]))  # type: ignore[union-attr]
        return NOTHING


class Payment(Journey):
    name = "payment"

    def on_start(self) -> Step:
        return self.start_child(AskAmount())

    def on_child_done(self, child: Journey, outcome: Outcome) -> Step:
        if not outcome.completed:
            return self.finish(outcome.status)
        self.amount = outcome.data["amount"]
        return self.go("posting", "wait").then(self.run("bank.pay", amount=self.amount))

    def on_posting(self, event: Event) -> Step:
        if event.kind == "bank.pay.done":
            return self.go("result", ok=event.ok).then(self.finish("completed", reference=event.value))
        return NOTHING

    def cancel(self) -> Step:
        return self.fire("pin_pad.stop").then(self.finish("cancelled"))


def test_child_journey_feeds_its_parent_and_effect_results_come_back() -> None:
    journey = Payment()
    step = journey.start()
    assert step.view is not None and step.view.screen == "amount"
    journey.handle(Event.ui("digit", digit="4"))
    step = journey.handle(Event.ui("digit", digit="2"))
    assert step.view is not None and step.view.data["digits"] == "42"
    step = journey.handle(Event.ui("confirm"))
    assert step.view is not None and step.view.screen == "wait"
    (effect,) = step.effects
    assert (effect.kind, dict(effect.params)) == ("bank.pay", {"amount": 42})
    assert journey.awaiting == ["bank.pay"]
    step = journey.handle(Event.done(effect, True, value="T-1"))
    assert step.outcome is not None and step.outcome.data == {"reference": "T-1"}
    assert journey.view is not None and journey.view.screen == "result"


def test_late_or_foreign_results_are_dropped() -> None:
    journey = Payment()
    journey.start()
    journey.handle(Event.ui("digit", digit="1"))
    effect = journey.handle(Event.ui("confirm")).effects[0]
    other = Payment()
    other.start()
    assert journey.handle(Event("bank.pay.done", {"ok": True}, effect_id=effect.id + 1000)) is NOTHING
    assert journey.state == "posting"
    journey.handle(Event.done(effect, True, value="T-2"))
    assert journey.outcome is not None
    assert journey.handle(Event.done(effect, True, value="again")) is NOTHING


def test_cancel_reaches_the_parent_when_the_child_has_no_handler() -> None:
    journey = Payment()
    journey.start()
    step = journey.handle(Event.ui("cancel"))
    # The child handles cancel itself (no clean-up of its own) and the parent ends the same way.
    assert step.outcome is not None and step.outcome.status == "cancelled"


def test_cancel_while_waiting_runs_clean_up_and_ignores_the_late_result() -> None:
    journey = Payment()
    journey.start()
    journey.handle(Event.ui("digit", digit="9"))
    effect = journey.handle(Event.ui("confirm")).effects[0]
    step = journey.handle(Event.ui("cancel"))
    assert [e.kind for e in step.effects] == ["pin_pad.stop"]
    assert step.outcome is not None and step.outcome.status == "cancelled"
    assert journey.handle(Event.done(effect, True)) is NOTHING
