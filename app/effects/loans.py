"""Loan effects on the worker pool: the pre-qualification decision (stored and journaled by the service)."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from bank.loans.scorecard import LoanRequest
from bank.loans.service import LoanRefused, LoanService


def loan_service(services: Any) -> LoanService:
    return LoanService(services.engine, services.vault, journal=services.journal, clock=services.clock)


@handler("loans.apply")
def apply(ctx: EffectContext) -> None:
    p = dict(ctx.params)

    def work() -> dict[str, Any]:
        request = LoanRequest(
            int(p["amount_minor"]),
            int(p["term_months"]),
            int(p["monthly_income_minor"]),
            int(p["monthly_debt_minor"]),
            str(p["purpose"]),
        )
        result = loan_service(ctx.services).apply(
            int(p["customer_id"]), int(p["account_id"]), request, session_id=str(p.get("session_id", ""))
        )
        if isinstance(result, LoanRefused):
            return {"refused": result.reason.value, "detail": result.detail}
        return {
            "reference": result.reference,
            "outcome": result.outcome,
            "status": result.status,
            "score": result.score,
            "reasons": list(result.reasons),
            "amount_minor": result.amount_minor,
            "term_months": result.term_months,
            "instalment_minor": result.instalment_minor,
        }

    ctx.in_background(work)
