"""Wealth advice (robo-advisor) for a logged-in customer: questionnaire → level → allocation → shelf.

Steps: a disclosure (what the assessment is for, that figures are illustrations, not promises) → ten
questions (back goes to the previous one, answers stay) → the amount to plan for → the assessment is
scored and **recorded before it is shown** (``advice.save``; if the record cannot be written no advice is
shown) → the result: level, the caps that lowered it, the suggested allocation of the amount and the
5th/50th/95th-percentile range over the horizon → the product shelf, where every product can be browsed.
"I'm interested" on a product above the customer's level is refused with the reason (``advice.refuse``
records and journals it); on a product with a cooling-off period the notice is shown and must be
acknowledged first; then ``advice.interest`` registers the interest. Nothing is bought at the kiosk: an
interest is followed up by a licensed adviser, and cancelling within the cooling-off costs nothing.

Outcomes: ``completed`` (→ "anything else?"), ``cancelled`` (→ the services menu), ``timeout``,
``failed`` with ``message`` when the record could not be written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hostlink.advice.products import SHELF, product, split_amount, suitability
from hostlink.advice.projection import project
from hostlink.advice.questionnaire import QUESTIONS, Assessment, score
from kiosk.journeys.core import NOTHING, Event, Step, message
from kiosk.journeys.session import (
    CustomerSession,
    SessionConfig,
    SessionJourney,
    register_logged_in_service,
)

AMOUNT_PRESETS_MINOR: tuple[int, ...] = (1_000_000, 5_000_000, 10_000_000, 50_000_000)


class WealthAdvice(SessionJourney):
    name = "wealth_advice"

    def __init__(
        self,
        session: CustomerSession,
        config: SessionConfig,
        *,
        amount_presets: tuple[int, ...] = AMOUNT_PRESETS_MINOR,
    ) -> None:
        super().__init__()
        self.session = session
        self.config = config
        self.amount_presets = amount_presets
        self.answers: dict[str, str] = {}
        self.index = 0
        self.amount_minor = 0
        self.assessment: Assessment | None = None
        self.record_id: int | None = None
        self.refused: list[str] = []
        self.interests: list[str] = []
        self.current_product = ""

    # -- disclosure and questions ---------------------------------------------------------------
    def on_start(self) -> Step:
        return self.go("advice_intro", questions=len(QUESTIONS))

    def on_advice_intro(self, event: Event) -> Step:
        if event.kind == "ui.start":
            return self._question(0)
        return NOTHING

    def _question(self, index: int) -> Step:
        self.index = index
        q = QUESTIONS[index]
        return self.go(
            "advice_question",
            index=index,
            total=len(QUESTIONS),
            question=q.id,
            text_key=q.text_key,
            options=[{"id": o.id, "key": q.option_key(o.id)} for o in q.options],
            selected=self.answers.get(q.id, ""),
        )

    def on_advice_question(self, event: Event) -> Step:
        q = QUESTIONS[self.index]
        if event.kind == "ui.answer":
            option = str(event.data.get("option", ""))
            if q.option(option) is None:
                return self.stay(error="advice.error.choose")
            self.answers[q.id] = option
            if self.index + 1 < len(QUESTIONS):
                return self._question(self.index + 1)
            return self._ask_amount()
        if event.kind == "ui.back":
            return self._question(self.index - 1) if self.index > 0 else self.on_start()
        return NOTHING

    def _ask_amount(self) -> Step:
        return self.go(
            "advice_amount", presets=list(self.amount_presets), currency=self.config.currency, error=""
        )

    def on_advice_amount(self, event: Event) -> Step:
        if event.kind == "ui.back":
            return self._question(len(QUESTIONS) - 1)
        if event.kind != "ui.amount":
            return NOTHING
        try:
            amount = int(event.data.get("minor", 0))
        except (TypeError, ValueError):
            amount = 0
        if amount not in self.amount_presets:
            return self.stay(error="advice.error.amount")
        self.amount_minor = amount
        self.assessment = score(self.answers)
        projection = project(amount, self.assessment.level, self.assessment.horizon_years)
        return self.go("advice_saving", "card_wait", message_key="advice.saving").then(
            self.run(
                "advice.save",
                session_id=self.session.session_id,
                customer_id=self.session.customer_id,
                answers=dict(self.answers),
                amount_minor=amount,
                years=projection.years,
            )
        )

    def on_advice_saving(self, event: Event) -> Step:
        if event.kind != "advice.save.done":
            return NOTHING
        if not event.ok or not isinstance(event.value, Mapping):
            return self.finish("failed", message=message("error", "advice.error.title", "advice.error.body"))
        self.record_id = int(event.value["record_id"])
        return self._result()

    # -- result and shelf ------------------------------------------------------------------------
    def _result_data(self) -> dict[str, Any]:
        assert self.assessment is not None
        a = self.assessment
        projection = project(self.amount_minor, a.level, a.horizon_years)
        return {
            "level": a.level,
            "score": a.score,
            "band_level": a.band_level,
            "caps": list(a.caps),
            "currency": self.config.currency,
            "amount_minor": self.amount_minor,
            "allocation": [
                {"product": p.code, "risk": p.risk, "minor": minor}
                for p, minor in split_amount(self.amount_minor, a.level)
            ],
            "projection": projection.as_dict(),
        }

    def _result(self) -> Step:
        return self.go("advice_result", **self._result_data())

    def on_advice_result(self, event: Event) -> Step:
        if event.kind == "ui.shelf":
            return self._shelf()
        if event.kind == "ui.done":
            return self.finish("completed", advice_id=self.record_id)
        return NOTHING

    def _shelf(self) -> Step:
        assert self.assessment is not None
        level = self.assessment.level
        return self.go(
            "advice_shelf",
            level=level,
            products=[
                {
                    "code": p.code,
                    "risk": p.risk,
                    "expected_return_bps": p.expected_return_bps,
                    "volatility_bps": p.volatility_bps,
                    "allowed": suitability(p, level).allowed,
                    "interested": p.code in self.interests,
                }
                for p in SHELF
            ],
        )

    def on_advice_shelf(self, event: Event) -> Step:
        if event.kind == "ui.product":
            return self._product(str(event.data.get("code", "")))
        if event.kind == "ui.back":
            return self._result()
        if event.kind == "ui.done":
            return self.finish("completed", advice_id=self.record_id)
        return NOTHING

    def _product(self, code: str, error: str = "", **extra: Any) -> Step:
        assert self.assessment is not None
        try:
            item = product(code)
        except KeyError:
            return NOTHING
        self.current_product = code
        verdict = suitability(item, self.assessment.level)
        return self.go(
            "advice_product",
            code=code,
            risk=item.risk,
            level=self.assessment.level,
            expected_return_bps=item.expected_return_bps,
            volatility_bps=item.volatility_bps,
            min_amount_minor=item.min_amount_minor,
            currency=self.config.currency,
            liquidity_key=item.liquidity_key,
            allowed=verdict.allowed,
            cooling_off=verdict.cooling_off,
            interested=code in self.interests,
            error=error,
            **extra,
        )

    def on_advice_product(self, event: Event) -> Step:
        assert self.assessment is not None and self.record_id is not None
        item = product(self.current_product)
        if event.kind == "ui.back":
            return self._shelf()
        if event.kind == "advice.refuse.done":
            return NOTHING  # recorded (a failure is logged by the handler; the refusal stands either way)
        if event.kind != "ui.interest" or item.code in self.interests:
            return NOTHING
        verdict = suitability(item, self.assessment.level)
        if verdict.refused:
            if item.code not in self.refused:
                self.refused.append(item.code)
            step = self._product(item.code, refusal=verdict.reason_key)
            return step.then(
                self.run(
                    "advice.refuse", record_id=self.record_id, product=item.code, reason=verdict.reason_key
                )
            )
        if verdict.cooling_off:
            return self.go("advice_cooling_off", code=item.code, risk=item.risk, hours=24)
        return self._register(item.code, acknowledged=False)

    def on_advice_cooling_off(self, event: Event) -> Step:
        if event.kind == "ui.acknowledge":
            return self._register(self.current_product, acknowledged=True)
        if event.kind == "ui.back":
            return self._product(self.current_product)
        return NOTHING

    def _register(self, code: str, *, acknowledged: bool) -> Step:
        return self.go("advice_registering", "card_wait", message_key="advice.registering").then(
            self.run("advice.interest", record_id=self.record_id, product=code, acknowledged=acknowledged)
        )

    def on_advice_registering(self, event: Event) -> Step:
        if event.kind != "advice.interest.done":
            return NOTHING
        if not event.ok or not isinstance(event.value, Mapping):
            return self._product(self.current_product, error="advice.error.interest")
        self.interests.append(self.current_product)
        return self.go(
            "advice_registered",
            code=self.current_product,
            cooling_off_until=str(event.value.get("cooling_off_until") or ""),
        )

    def on_advice_registered(self, event: Event) -> Step:
        if event.kind == "ui.shelf":
            return self._shelf()
        if event.kind == "ui.done":
            return self.finish("completed", advice_id=self.record_id)
        return NOTHING


# Offered in the logged-in services menu (kiosk.journeys.session imports this module for that).
register_logged_in_service("wealth_advice", WealthAdvice, label_key="services.wealth_advice", order=50)
