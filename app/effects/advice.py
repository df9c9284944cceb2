"""Wealth-advice effects on the worker pool: the host records the assessment, a refusal, an interest."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from hostlink import api
from kiosk.banktime import MINUTE_FORMAT, format_bank_time, parse_instant


@handler("advice.save")
def save(ctx: EffectContext) -> None:
    params = ctx.params
    services = ctx.services
    order = api.AdviceSave(
        session_id=str(params["session_id"]),
        customer_id=int(params["customer_id"]),
        answers={str(k): str(v) for k, v in dict(params["answers"]).items()},
        amount_minor=int(params["amount_minor"]),
        years=int(params["years"]),
    )
    key = api.new_idempotency_key(order.session_id)

    def work() -> dict[str, Any]:
        # The host scores the answers again: the record never trusts the screen's copy.
        return services.host.save_advice(order, key).model_dump()

    ctx.in_background(work)


@handler("advice.refuse")
def refuse(ctx: EffectContext) -> None:
    params = ctx.params
    services = ctx.services
    order = api.AdviceRefusal(
        record_id=int(params["record_id"]), product=str(params["product"]), reason=str(params["reason"])
    )
    key = api.new_idempotency_key(str(params.get("session_id") or ""))

    def work() -> dict[str, Any]:
        services.host.refuse_advice(order, key)
        return {"recorded": True}

    ctx.in_background(work)


@handler("advice.interest")
def interest(ctx: EffectContext) -> None:
    params = ctx.params
    services = ctx.services
    order = api.AdviceInterest(
        record_id=int(params["record_id"]),
        product=str(params["product"]),
        acknowledged=bool(params.get("acknowledged", False)),
    )
    key = api.new_idempotency_key(str(params.get("session_id") or ""))

    def work() -> dict[str, Any]:
        registered = services.host.register_interest(order, key)
        until = registered.cooling_off_until
        zone = services.settings.bank_timezone
        return {
            "product": registered.product,
            "cooling_off_until": (
                format_bank_time(parse_instant(until), zone, MINUTE_FORMAT) if until else ""
            ),
        }

    ctx.in_background(work)
