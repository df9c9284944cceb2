"""The pre-qualification model: a points scorecard plus hard rules, every step explainable.

Pure functions over plain values (no database): :func:`decide` takes what the customer typed and what the
bank knows about them (:class:`Applicant`) and returns a :class:`Decision` holding each scorecard factor
with its value and points, every hard rule that fired, the outcome and the reasons as catalogue keys the
customer reads in plain words. Same inputs, same decision, always; the thresholds live in
:class:`LoanPolicy` so a credit officer can read them in one place.

Outcome: any hard rule → **decline**; score below ``refer_from`` → **decline**; score in the grey band
``[refer_from, approve_from)`` → **refer**; score at or above ``approve_from`` → **approve**, unless the
amount is above ``auto_approve_max_minor`` → **refer** (a person looks at big loans).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from bank.loans.models import LoanOutcome

MODEL_VERSION = "SC-1"
PURPOSES = ("car", "education", "home", "travel", "medical", "other")
TERMS = (6, 12, 24, 36, 48, 60)


@dataclass(frozen=True)
class LoanPolicy:
    annual_rate_bp: int = 720  # 7.20 % a year, the kiosk's indicative rate
    min_amount_minor: int = 100_000  # ¥1,000
    max_amount_minor: int = 20_000_000  # ¥200,000
    auto_approve_max_minor: int = 5_000_000  # ¥50,000: above this a person decides
    income_multiple: int = 12  # the loan may be at most 12 months of income
    max_dti_percent: int = 50  # existing debt + the new instalment, as a share of income
    min_age: int = 18
    max_age: int = 65
    approve_from: int = 70
    refer_from: int = 50


# (upper bound exclusive, points); the last band has no upper bound. Amounts in minor units (CNY fen).
INCOME_BANDS: tuple[tuple[int | None, int], ...] = (
    (300_000, 5),  # under ¥3,000 a month
    (600_000, 15),
    (1_200_000, 25),
    (2_500_000, 35),
    (None, 40),  # ¥25,000 and more
)
DEBT_RATIO_BANDS: tuple[tuple[int | None, int], ...] = (  # existing monthly debt, % of income
    (1, 25),  # none
    (10, 20),
    (25, 12),
    (40, 5),
    (None, 0),
)
TENURE_BANDS: tuple[tuple[int | None, int], ...] = ((6, 0), (24, 10), (60, 18), (None, 25))  # months
BALANCE_BANDS: tuple[tuple[int | None, int], ...] = (  # 90-day average balance
    (100_000, 0),  # under ¥1,000
    (1_000_000, 8),
    (5_000_000, 15),
    (None, 22),
)
OVERDRAFT_BANDS: tuple[tuple[int | None, int], ...] = ((1, 10), (3, 0), (None, -15))  # times overdrawn, 12 m
REFUSAL_BANDS: tuple[tuple[int | None, int], ...] = ((1, 5), (None, -10))  # returned payments, 12 months


@dataclass(frozen=True)
class LoanRequest:
    amount_minor: int
    term_months: int
    monthly_income_minor: int
    monthly_debt_minor: int
    purpose: str


@dataclass(frozen=True)
class Applicant:
    """What the bank knows: age from the KYC birth date, history from the ledger."""

    age: int
    blacklisted: bool
    months_as_customer: int
    average_balance_minor: int
    overdrafts_12m: int
    refusals_12m: int


@dataclass(frozen=True)
class Factor:
    name: str
    value: int
    points: int


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
    reasons: tuple[str, ...]  # catalogue keys, most important first
    model_version: str = MODEL_VERSION
    extra: dict[str, int] = field(default_factory=dict)

    def explanation(self) -> dict[str, object]:
        """Everything that decided it, as plain JSON-able data (the journal and the review screen)."""
        return {
            "model": self.model_version,
            "outcome": self.outcome.value,
            "score": self.score,
            "instalment_minor": self.instalment_minor,
            "factors": [[f.name, f.value, f.points] for f in self.factors],
            "rule_hits": [[r.rule, r.detail] for r in self.rule_hits],
            "reasons": list(self.reasons),
        }


def request_problem(request: LoanRequest, policy: LoanPolicy = LoanPolicy()) -> str:
    """A catalogue key for input the model cannot score (checked before anything is decided), or ""."""
    if not policy.min_amount_minor <= request.amount_minor <= policy.max_amount_minor:
        return "loan.error.amount"
    if request.term_months not in TERMS:
        return "loan.error.term"
    if request.monthly_income_minor <= 0:
        return "loan.error.income"
    if request.monthly_debt_minor < 0:
        return "loan.error.debt"
    if request.purpose not in PURPOSES:
        return "loan.error.purpose"
    return ""


def monthly_instalment(amount_minor: int, term_months: int, annual_rate_bp: int) -> int:
    """The annuity instalment, rounded up to the fen: P·r / (1 − (1 + r)^−n), r = rate / 12."""
    if annual_rate_bp == 0:
        return -(-amount_minor // term_months)
    rate = Decimal(annual_rate_bp) / Decimal(10_000) / Decimal(12)
    growth = (Decimal(1) + rate) ** term_months
    payment = Decimal(amount_minor) * rate * growth / (growth - Decimal(1))
    return int(payment.to_integral_value(rounding=ROUND_CEILING))


def band_points(value: int, bands: tuple[tuple[int | None, int], ...]) -> int:
    for upper, points in bands:
        if upper is None or value < upper:
            return points
    raise ValueError("bands must end with an open band")


def score_factors(request: LoanRequest, applicant: Applicant) -> tuple[Factor, ...]:
    debt_percent = request.monthly_debt_minor * 100 // request.monthly_income_minor
    return (
        Factor(
            "income", request.monthly_income_minor, band_points(request.monthly_income_minor, INCOME_BANDS)
        ),
        Factor("existing_debt", debt_percent, band_points(debt_percent, DEBT_RATIO_BANDS)),
        Factor(
            "months_as_customer",
            applicant.months_as_customer,
            band_points(applicant.months_as_customer, TENURE_BANDS),
        ),
        Factor(
            "average_balance",
            applicant.average_balance_minor,
            band_points(applicant.average_balance_minor, BALANCE_BANDS),
        ),
        Factor(
            "overdrafts", applicant.overdrafts_12m, band_points(applicant.overdrafts_12m, OVERDRAFT_BANDS)
        ),
        Factor("refusals", applicant.refusals_12m, band_points(applicant.refusals_12m, REFUSAL_BANDS)),
    )


# The customer-facing reason for a weak factor (the two weakest are named on a score decline).
_FACTOR_REASONS = {
    "income": "loan.reason.factor.income",
    "existing_debt": "loan.reason.factor.existing_debt",
    "months_as_customer": "loan.reason.factor.months_as_customer",
    "average_balance": "loan.reason.factor.average_balance",
    "overdrafts": "loan.reason.factor.overdrafts",
    "refusals": "loan.reason.factor.refusals",
}
_FACTOR_MAX = {
    "income": 40,
    "existing_debt": 25,
    "months_as_customer": 25,
    "average_balance": 22,
    "overdrafts": 10,
    "refusals": 5,
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


def decide(request: LoanRequest, applicant: Applicant, policy: LoanPolicy = LoanPolicy()) -> Decision:
    problem = request_problem(request, policy)
    if problem:
        raise ValueError(problem)
    instalment = monthly_instalment(request.amount_minor, request.term_months, policy.annual_rate_bp)
    factors = score_factors(request, applicant)
    score = sum(f.points for f in factors)
    hits = hard_rules(request, applicant, instalment, policy)
    if hits:
        reasons = tuple(dict.fromkeys(_RULE_REASONS[h.rule] for h in hits))
        return Decision(LoanOutcome.DECLINE, score, instalment, factors, hits, reasons)
    if score < policy.refer_from:
        # The two biggest shortfalls from each factor's best; on a tie, the one that took points away.
        weakest = sorted(factors, key=lambda f: (f.points - _FACTOR_MAX[f.name], f.points))[:2]
        reasons = ("loan.reason.score", *(_FACTOR_REASONS[f.name] for f in weakest))
        return Decision(LoanOutcome.DECLINE, score, instalment, factors, hits, reasons)
    if score < policy.approve_from:
        return Decision(LoanOutcome.REFER, score, instalment, factors, hits, ("loan.reason.grey_band",))
    if request.amount_minor > policy.auto_approve_max_minor:
        return Decision(
            LoanOutcome.REFER, score, instalment, factors, hits, ("loan.reason.above_auto_limit",)
        )
    return Decision(LoanOutcome.APPROVE, score, instalment, factors, hits, ("loan.reason.approved",))
