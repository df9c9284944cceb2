"""Bill payment and loan journeys as plain state machines: cancel at each step, refusals, PIN re-entry."""

from __future__ import annotations

from datetime import date

from kiosk.journeys.bill_payment import BillPayment
from kiosk.journeys.core import Effect, Event, Step
from kiosk.journeys.loan import LoanApplicationJourney
from kiosk.journeys.session import CustomerSession, SessionConfig


def session() -> CustomerSession:
    return CustomerSession(
        "S1",
        1,
        10,
        "****0014",
        pan="6212340000001017",
        pan_masked="621234******1017",
        today=date(2026, 3, 10),
    )


def effect(step: Step, kind: str) -> Effect:
    return next(e for e in step.effects if e.kind == kind)


def to_bill(journey: BillPayment) -> None:
    journey.start()
    journey.handle(Event.ui("biller", value="ELEC"))
    step = journey.handle(Event.ui("number", value="1234567913"))
    lookup = effect(step, "billing.lookup")
    bill = {"biller": "ELEC", "account_masked": "******7913", "period": "2026-03", "due_minor": 32_660}
    journey.handle(Event.done(lookup, True, {**bill, "billed_minor": 32_660, "paid_minor": 0}))


def test_cancel_at_each_step_before_paying_ends_cancelled_and_nothing_is_paid() -> None:
    for steps in (0, 1, 2, 3):
        journey = BillPayment(session(), SessionConfig())
        if steps == 0:
            journey.start()
        elif steps == 1:
            journey.start()
            journey.handle(Event.ui("biller", value="ELEC"))
        else:
            to_bill(journey)
            if steps == 3:
                journey.handle(Event.ui("pay"))
                assert journey.state == "billing_confirm"
        step = journey.handle(Event.ui("cancel"))
        assert step.outcome is not None and step.outcome.status == "cancelled"
        assert not any(e.kind == "billing.pay" for e in step.effects)


def test_a_short_number_is_refused_on_the_kiosk_without_asking_the_biller() -> None:
    journey = BillPayment(session(), SessionConfig())
    journey.start()
    journey.handle(Event.ui("biller", value="ELEC"))
    step = journey.handle(Event.ui("number", value="12345"))
    assert step.effects == () and step.view is not None and step.view.data["error"] == "billing.error.format"


def test_pay_waits_for_the_result_and_cancel_then_does_nothing() -> None:
    journey = BillPayment(session(), SessionConfig())
    to_bill(journey)
    journey.handle(Event.ui("pay"))
    step = journey.handle(Event.ui("confirm"))
    pay = effect(step, "billing.pay")
    assert pay.params["amount_minor"] == 32_660 and pay.params["journal"]["to"] == "******7913"
    assert "1234567913" not in repr(pay.params["journal"])
    assert journey.handle(Event.ui("cancel")).outcome is None  # the money may be moving
    step = journey.handle(Event.done(pay, True, {"reference": "BP0000000007", "transfer_id": 7}))
    assert step.view is not None and step.view.screen == "billing_result"
    assert journey.handle(Event.ui("cancel")).outcome.status == "completed"  # type: ignore[union-attr]


def test_pin_reentry_above_the_threshold_and_a_retain_ends_the_journey() -> None:
    journey = BillPayment(session(), SessionConfig(pin_reentry_threshold_minor=10_000))
    to_bill(journey)
    journey.handle(Event.ui("pay"))
    step = journey.handle(Event.ui("confirm"))
    get_pin = effect(step, "pin_pad.get_pin")
    step = journey.handle(Event.done(get_pin, True, b"\x01" * 8))
    check = effect(step, "security.check_pin")
    step = journey.handle(Event.done(check, True, {"outcome": "retain", "tries_left": 0}))
    assert step.outcome is not None and step.outcome.status == "retain"


def test_refusals_become_notices_with_their_reason() -> None:
    journey = BillPayment(session(), SessionConfig())
    to_bill(journey)
    journey.handle(Event.ui("pay"))
    pay = effect(journey.handle(Event.ui("confirm")), "billing.pay")
    step = journey.handle(Event.done(pay, True, {"refused": "insufficient_funds"}))
    assert step.view is not None and step.view.data["body_key"] == "billing.refused.insufficient_funds"
    assert journey.handle(Event.ui("ok")).outcome.status == "cancelled"  # type: ignore[union-attr]


def test_loan_form_errors_and_cancel() -> None:
    journey = LoanApplicationJourney(session(), SessionConfig())
    journey.start()
    step = journey.handle(Event.ui("apply", amount="500", income="9000", debt="0", term=12, purpose="car"))
    assert step.view is not None and step.view.data["error"] == "loan.error.amount"
    step = journey.handle(Event.ui("apply", amount="5000", income="abc", debt="0", term=12, purpose="car"))
    assert step.view is not None and step.view.data["error"] == "loan.error.income"
    step = journey.handle(Event.ui("apply", amount="5000", income="9000", debt="", term=12, purpose="car"))
    assert step.view is not None and step.view.screen == "loan_confirm"
    assert step.view.data["instalment_minor"] == 43_310  # ¥5,000 over 12 months at 7.2 %
    step = journey.handle(Event.ui("confirm"))
    apply = effect(step, "loans.apply")
    assert apply.params["monthly_debt_minor"] == 0
    assert journey.handle(Event.ui("cancel")).outcome is None  # deciding: the decision is shown
    journey.handle(Event.done(apply, True, {"reference": "LN1", "outcome": "refer", "reasons": []}))
    assert journey.handle(Event.ui("done")).outcome.status == "completed"  # type: ignore[union-attr]
    fresh = LoanApplicationJourney(session(), SessionConfig())
    fresh.start()
    assert fresh.handle(Event.ui("cancel")).outcome.status == "cancelled"  # type: ignore[union-attr]
