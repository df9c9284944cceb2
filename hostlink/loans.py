"""Loan pre-qualification as both programs know it: the form's purposes and terms, the bank's published
limits, the request and the instalment formula. The terminal checks a request before sending it; the host
decides (``bank/loans/``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

PURPOSES = ("car", "used_car", "home", "education", "business", "travel", "medical", "other")
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
    adverse_reasons: int = 3  # how many attributes a score decline names


@dataclass(frozen=True)
class LoanRequest:
    amount_minor: int
    term_months: int
    monthly_income_minor: int
    monthly_debt_minor: int
    purpose: str


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
