"""Consumer-loan pre-qualification for a logged-in customer.

Steps: the application (amount, term, monthly income, existing monthly debt, purpose) → a summary with
the indicative rate and monthly instalment and the consent to use their account balances → the decision
(``loans.apply``: hard rules, then the trained scorecard of ``bank.credit``; stored and journaled) → the
result in plain words with the reasons (on a score decline, what cost the most points); a referral says
a staff member will contact the customer, with the reference. Nothing is lent at the kiosk: an approval
is a pre-qualification the branch honours.

Outcomes: ``completed`` (→ "anything else?") or ``cancelled`` (→ the services menu).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hostlink.loans import (
    PURPOSES,
    TERMS,
    LoanPolicy,
    LoanRequest,
    monthly_instalment,
    request_problem,
)
from hostlink.money import Money, MoneyError
from kiosk.journeys.core import NOTHING, Event, Step
from kiosk.journeys.session import CustomerSession, SessionConfig, SessionJourney, register_logged_in_service

FIELDS = ("amount", "income", "debt")


class LoanApplicationJourney(SessionJourney):
    name = "loan"

    def __init__(
        self, session: CustomerSession, config: SessionConfig, policy: LoanPolicy | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.config = config
        self.policy = policy or LoanPolicy()
        self.form: dict[str, Any] = {"amount": "", "income": "", "debt": "0", "term": 12, "purpose": ""}
        self.request: LoanRequest | None = None
        self.result: dict[str, Any] = {}

    def on_start(self) -> Step:
        return self._form()

    def _form(self, error: str = "") -> Step:
        return self.go(
            "loan_form",
            **self.form,
            terms=list(TERMS),
            purposes=list(PURPOSES),
            currency=self.config.currency,
            min_minor=self.policy.min_amount_minor,
            max_minor=self.policy.max_amount_minor,
            error=error,
        )

    def _minor(self, text: str) -> int | None:
        try:
            return Money.parse(text.strip() or "x", self.config.currency).minor
        except MoneyError:
            return None

    def on_loan_form(self, event: Event) -> Step:
        if event.kind != "ui.apply":
            return NOTHING
        data = event.data
        self.form.update(
            {
                "amount": str(data.get("amount", "")).strip(),
                "income": str(data.get("income", "")).strip(),
                "debt": str(data.get("debt", "") or "0").strip(),
                "purpose": str(data.get("purpose", "")),
            }
        )
        try:
            self.form["term"] = int(data.get("term", 0))
        except (TypeError, ValueError):
            self.form["term"] = 0
        amount, income, debt = (self._minor(self.form[name]) for name in FIELDS)
        if amount is None:
            return self._form("loan.error.amount")
        if income is None:
            return self._form("loan.error.income")
        if debt is None:
            return self._form("loan.error.debt")
        request = LoanRequest(amount, int(self.form["term"]), income, debt, str(self.form["purpose"]))
        problem = request_problem(request, self.policy)
        if problem:
            return self._form(problem)
        self.request = request
        return self._summary()

    def _summary(self) -> Step:
        request = self.request
        assert request is not None
        return self.go(
            "loan_confirm",
            amount_minor=request.amount_minor,
            term_months=request.term_months,
            income_minor=request.monthly_income_minor,
            debt_minor=request.monthly_debt_minor,
            purpose=request.purpose,
            rate_bp=self.policy.annual_rate_bp,
            instalment_minor=monthly_instalment(
                request.amount_minor, request.term_months, self.policy.annual_rate_bp
            ),
            currency=self.config.currency,
        )

    def on_loan_confirm(self, event: Event) -> Step:
        if event.kind == "ui.previous":
            return self._form()
        if event.kind != "ui.confirm" or self.request is None:
            return NOTHING
        request = self.request
        return self.go("loan_deciding", "card_wait", message_key="loan.wait").then(
            self.run(
                "loans.apply",
                customer_id=self.session.customer_id,
                account_id=self.session.account_id,
                amount_minor=request.amount_minor,
                term_months=request.term_months,
                monthly_income_minor=request.monthly_income_minor,
                monthly_debt_minor=request.monthly_debt_minor,
                purpose=request.purpose,
                session_id=self.session.session_id,
            )
        )

    def on_loan_deciding(self, event: Event) -> Step:
        if event.kind != "loans.apply.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if not event.ok or not value.get("reference"):
            return self.notice("error", "loan.failed.title", "loan.failed.body")
        self.result = dict(value)
        return self.go("loan_result", **self.result, currency=self.config.currency)

    def on_loan_result(self, event: Event) -> Step:
        if event.kind in ("ui.done", "ui.ok"):
            return self.finish("completed", reference=self.result.get("reference", ""))
        return NOTHING

    def on_notice(self, event: Event) -> Step:
        if event.kind in ("ui.ok", "ui.continue"):
            return self.finish("cancelled")
        return NOTHING

    def cancel(self) -> Step:
        if self.state == "loan_deciding":
            return NOTHING  # the decision is being stored: show it
        if self.result.get("reference"):
            return self.finish("completed", reference=self.result["reference"])
        return self.finish("cancelled")


# Offered in the logged-in services menu (kiosk.journeys.session imports this module for that).
register_logged_in_service("loan", LoanApplicationJourney, label_key="loan.menu", order=40)
