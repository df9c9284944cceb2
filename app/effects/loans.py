"""Loan effects on the worker pool: the host's pre-qualification decision (stored and recorded there)."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from hostlink import api


@handler("loans.apply")
def apply(ctx: EffectContext) -> None:
    p = dict(ctx.params)
    services = ctx.services
    session_id = str(p.get("session_id", ""))
    order = api.LoanApplicationOrder(
        idempotency_key=api.new_idempotency_key(session_id),
        customer_id=int(p["customer_id"]),
        account_id=int(p["account_id"]),
        amount_minor=int(p["amount_minor"]),
        term_months=int(p["term_months"]),
        monthly_income_minor=int(p["monthly_income_minor"]),
        monthly_debt_minor=int(p["monthly_debt_minor"]),
        purpose=str(p["purpose"]),
        session_id=session_id,
    )

    def work() -> dict[str, Any]:
        result = services.host.apply_for_loan(order)
        if result.refused:
            return {"refused": result.refused, "detail": result.detail}
        return result.model_dump(exclude={"refused", "detail"})

    ctx.in_background(work)
