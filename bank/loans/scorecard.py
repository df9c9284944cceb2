"""The pre-qualification decision: hard rules in front, then the trained scorecard, every step explainable.

Pure functions over plain values (no database): :func:`decide` takes what the customer typed and what the
bank knows about them (:class:`Applicant`), maps both honestly onto the model's attributes
(:func:`model_inputs`: what the kiosk cannot ask stays missing and scores in its own bin), scores them
with the trained model (``bank.credit.model``, artefact version in :attr:`Decision.model_version`) and
returns a :class:`Decision` holding each attribute with its bin and points, the probability of default,
every hard rule that fired, the outcome, the reasons as catalogue keys the customer reads in plain words,
and the attributes that cost the most points (adverse-action reasons, for every decision). Same inputs,
same decision, always; the rules' thresholds live in :class:`LoanPolicy`, the cut-offs in the artefact.

Outcome: any hard rule → **decline**; an amount above ``auto_approve_max_minor`` → **refer** whatever the
score (a person decides big loans); score below the grey band → **decline**, naming the attributes that
cost the most points; score in the grey band ``[refer_from, cutoff)`` → **refer**; score at or above the
cut-off → **approve**.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bank.credit.data import Value
from bank.credit.model import CreditModel, default_model
from bank.loans.models import LoanOutcome
from hostlink.loans import (
    LoanPolicy,
    LoanRequest,
    monthly_instalment,
    request_problem,
)

# The kiosk's purposes; bank.credit.data.PURPOSE_GROUPS maps the training data's purposes onto them.
MODEL_PURPOSES = {
    "car": "car",
    "used_car": "used_car",
    "home": "home",
    "education": "education",
    "business": "business",
    "other": "other",
    # "travel" and "medical": no application in the training data had them: the missing bin.
}

# The training data's amounts are Deutsche Mark of 1994. One DM then bought about what ¥4.30 buys today
# (German prices 1994 → 2026, then purchasing-power parity to CNY): the amount bins are read at that rate.
FEN_PER_DM = 430
CHECKING_LOW_DM = 200  # the data's checking-account bands: < 0, 0–200 DM, >= 200 DM
SAVINGS_BANDS_DM = (100, 500, 1000)  # the data's savings bands


@dataclass(frozen=True)
class Applicant:
    """What the bank knows: age from the KYC birth date, balances and history from the ledger.

    ``current_balance_minor`` / ``savings_balance_minor`` are None when the customer holds no account of
    that kind with us.
    """

    age: int
    blacklisted: bool
    months_as_customer: int
    average_balance_minor: int
    overdrafts_12m: int
    refusals_12m: int
    current_balance_minor: int | None = None
    savings_balance_minor: int | None = None

    def history(self) -> dict[str, int | None]:
        """The bank's own facts, shown to the reviewer (the model was not trained on them)."""
        return {
            "age": self.age,
            "months_as_customer": self.months_as_customer,
            "average_balance_minor": self.average_balance_minor,
            "current_balance_minor": self.current_balance_minor,
            "savings_balance_minor": self.savings_balance_minor,
            "overdrafts_12m": self.overdrafts_12m,
            "refusals_12m": self.refusals_12m,
        }


@dataclass(frozen=True)
class Factor:
    """One model attribute: the value it was given, the bin it fell in ("missing": not asked), its points."""

    name: str
    value: str
    points: int
    bin: str = ""


@dataclass(frozen=True)
class RuleHit:
    rule: str
    detail: str


@dataclass(frozen=True)
class Decision:
    outcome: LoanOutcome
    score: int
    instalment_minor: int
    factors: tuple[Factor, ...]
    rule_hits: tuple[RuleHit, ...]
    reasons: tuple[str, ...]  # catalogue keys shown to the customer, most important first
    model_version: str
    default_probability: float = 0.0
    adverse_reasons: tuple[str, ...] = ()  # catalogue keys: the attributes that cost the most points
    bank_history: dict[str, Any] = field(default_factory=dict)

    def explanation(self) -> dict[str, object]:
        """Everything that decided it, as plain JSON-able data (the journal and the review screen)."""
        return {
            "model": self.model_version,
            "outcome": self.outcome.value,
            "score": self.score,
            "default_probability": self.default_probability,
            "instalment_minor": self.instalment_minor,
            "factors": [[f.name, f.value, f.points] for f in self.factors],
            "rule_hits": [[r.rule, r.detail] for r in self.rule_hits],
            "reasons": list(self.reasons),
            "adverse_reasons": list(self.adverse_reasons),
        }


def checking_status(current_balance_minor: int | None) -> str:
    if current_balance_minor is None:
        return "no checking account"
    if current_balance_minor < 0:
        return "... < 0 DM"
    if current_balance_minor < CHECKING_LOW_DM * FEN_PER_DM:
        return "0 <= ... < 200 DM"
    return "... >= 200 DM / salary assignments for at least 1 year"


def savings_status(savings_balance_minor: int | None) -> str | None:
    if savings_balance_minor is None:
        return None  # no savings account with us: unknown, scored in the missing bin
    low, mid, high = (dm * FEN_PER_DM for dm in SAVINGS_BANDS_DM)
    if savings_balance_minor < low:
        return "... < 100 DM"
    if savings_balance_minor < mid:
        return "100 <= ... < 500 DM"
    if savings_balance_minor < high:
        return "500 <= ... < 1000 DM"
    return "... >= 1000 DM"


def model_inputs(request: LoanRequest, applicant: Applicant) -> dict[str, Value]:
    """The model's attributes from what the kiosk asked and the bank knows; the rest stays missing.

    Checking account: the balance of the customer's current accounts now; savings: of their savings
    accounts (none with us: missing); duration, amount and purpose as asked; other instalment plans:
    "none" when the customer declares no existing repayments (any: missing, the kiosk does not ask to
    whom). Employment, housing, property, credit history, guarantors, residence, job, dependants,
    telephone and the instalment-rate rank are not asked at the kiosk: missing.
    """
    return {
        "status_of_existing_checking_account": checking_status(applicant.current_balance_minor),
        "savings_account_and_bonds": savings_status(applicant.savings_balance_minor),
        "duration_in_month": float(request.term_months),
        "credit_amount": request.amount_minor / FEN_PER_DM,
        "purpose": MODEL_PURPOSES.get(request.purpose),
        "other_installment_plans": "none" if request.monthly_debt_minor == 0 else None,
    }


def hard_rules(
    request: LoanRequest, applicant: Applicant, instalment_minor: int, policy: LoanPolicy
) -> tuple[RuleHit, ...]:
    hits: list[RuleHit] = []
    if applicant.age < policy.min_age or applicant.age > policy.max_age:
        hits.append(RuleHit("age", f"age {applicant.age} outside {policy.min_age}-{policy.max_age}"))
    if applicant.blacklisted:
        hits.append(RuleHit("blacklist", "on the bank's lending blacklist"))
    dti = (request.monthly_debt_minor + instalment_minor) * 100 / request.monthly_income_minor
    if dti > policy.max_dti_percent:
        hits.append(RuleHit("debt_to_income", f"{dti:.1f}% > {policy.max_dti_percent}%"))
    cap = request.monthly_income_minor * policy.income_multiple
    if request.amount_minor > cap:
        hits.append(
            RuleHit(
                "income_multiple",
                f"amount {request.amount_minor} > income x {policy.income_multiple} = {cap}",
            )
        )
    return tuple(hits)


_RULE_REASONS = {
    "age": "loan.reason.age",
    "blacklist": "loan.reason.policy",  # the customer is not told they are on a list, only to ask staff
    "debt_to_income": "loan.reason.debt_to_income",
    "income_multiple": "loan.reason.income_multiple",
}


def attribute_reason(attribute: str) -> str:
    return f"loan.reason.attr.{attribute}"


def _shown(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.0f}"
    return str(value)


def decide(
    request: LoanRequest,
    applicant: Applicant,
    policy: LoanPolicy = LoanPolicy(),
    model: CreditModel | None = None,
) -> Decision:
    problem = request_problem(request, policy)
    if problem:
        raise ValueError(problem)
    model = model or default_model()
    instalment = monthly_instalment(request.amount_minor, request.term_months, policy.annual_rate_bp)
    scored = model.score(model_inputs(request, applicant))
    factors = tuple(Factor(c.attribute, _shown(c.value), c.points, c.bin) for c in scored.contributions)
    adverse = tuple(attribute_reason(a) for a in scored.adverse(policy.adverse_reasons))
    hits = hard_rules(request, applicant, instalment, policy)

    def decision(outcome: LoanOutcome, reasons: tuple[str, ...]) -> Decision:
        return Decision(
            outcome,
            scored.score,
            instalment,
            factors,
            hits,
            reasons,
            model.version,
            round(scored.default_probability, 4),
            adverse,
            applicant.history(),
        )

    if hits:
        return decision(LoanOutcome.DECLINE, tuple(dict.fromkeys(_RULE_REASONS[h.rule] for h in hits)))
    if request.amount_minor > policy.auto_approve_max_minor:
        # A person decides every big loan, whatever the score; the review page shows the model's view.
        return decision(LoanOutcome.REFER, ("loan.reason.above_auto_limit",))
    if scored.score < model.refer_from:
        return decision(LoanOutcome.DECLINE, ("loan.reason.score", *adverse))
    if scored.score < model.cutoff:
        return decision(LoanOutcome.REFER, ("loan.reason.grey_band",))
    return decision(LoanOutcome.APPROVE, ("loan.reason.approved",))
