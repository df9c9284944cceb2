"""Wealth-advice effects on the worker pool: record the assessment, a refusal, an interest (journaled)."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from bank.advice.store import AdviceStore
from hostlink.advice.products import product
from hostlink.advice.projection import project
from hostlink.advice.questionnaire import score


def advice_store(services: Any) -> AdviceStore:
    return AdviceStore(
        services.engine, services.journal, kiosk_id=services.settings.kiosk_id, clock=services.clock
    )


@handler("advice.save")
def save(ctx: EffectContext) -> None:
    params = ctx.params
    answers = {str(k): str(v) for k, v in dict(params["answers"]).items()}
    amount = int(params["amount_minor"])
    years = int(params["years"])

    def work() -> dict[str, Any]:
        assessment = score(answers)  # scored again here: the record never trusts the screen's copy
        projection = project(amount, assessment.level, years)
        record_id = advice_store(ctx.services).save_assessment(
            session_id=str(params["session_id"]),
            customer_id=int(params["customer_id"]),
            assessment=assessment,
            amount_minor=amount,
            projection=projection,
        )
        return {"record_id": record_id, "level": assessment.level}

    ctx.in_background(work)


@handler("advice.refuse")
def refuse(ctx: EffectContext) -> None:
    params = ctx.params

    def work() -> dict[str, Any]:
        advice_store(ctx.services).record_refusal(
            int(params["record_id"]), product(str(params["product"])), str(params["reason"])
        )
        return {"recorded": True}

    ctx.in_background(work)


@handler("advice.interest")
def interest(ctx: EffectContext) -> None:
    params = ctx.params

    def work() -> dict[str, Any]:
        registered = advice_store(ctx.services).register_interest(
            int(params["record_id"]),
            product(str(params["product"])),
            acknowledged=bool(params.get("acknowledged", False)),
        )
        until = registered.cooling_off_until
        local = ctx.services.now_local().tzinfo
        return {
            "product": registered.product,
            "cooling_off_until": until.astimezone(local).strftime("%Y-%m-%d %H:%M") if until else "",
        }

    ctx.in_background(work)
