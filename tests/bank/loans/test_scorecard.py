"""The scorecard and hard rules: points by hand, instalments against the annuity formula, each outcome."""

from __future__ import annotations

import pytest

from bank.loans.models import LoanOutcome
from bank.loans.scorecard import (
    INCOME_BANDS,
    Applicant,
    LoanPolicy,
    LoanRequest,
    band_points,
    decide,
    monthly_instalment,
    request_problem,
)

GOOD = Applicant(
    age=40,
    blacklisted=False,
    months_as_customer=30,
    average_balance_minor=2_000_000,
    overdrafts_12m=0,
    refusals_12m=0,
)


def request(
    amount: int = 2_000_000, *, income: int = 1_500_000, debt: int = 0, term: int = 24
) -> LoanRequest:
    return LoanRequest(amount, term, income, debt, "car")


def test_instalments_match_the_annuity_formula_worked_by_hand() -> None:
    # ¥10,000 over 12 months at 7.2 %: r = 0.006, 1.006^12 = 1.0744242,
    # 10000·0.006·1.0744242/0.0744242 = 866.19
    assert monthly_instalment(1_000_000, 12, 720) == 86_619
    # ¥120,000 over 60 months: 1.006^60 = 1.4317884, 120000·0.006·1.4317884/0.4317884 = 2387.483 → 2387.49
    assert monthly_instalment(12_000_000, 60, 720) == 238_749
    assert monthly_instalment(1_000_001, 10, 0) == 100_001  # no interest: rounded up to the fen


def test_bands_are_lower_inclusive() -> None:
    assert band_points(299_999, INCOME_BANDS) == 5
    assert band_points(300_000, INCOME_BANDS) == 15
    assert band_points(10**9, INCOME_BANDS) == 40


def test_a_strong_applicant_is_approved_with_every_factor_explained() -> None:
    decision = decide(request(), GOOD)
    # income ¥15,000 → 35; no debt → 25; 30 months → 18; ¥20,000 average → 15; no overdraft → 10; none → 5
    assert [(f.name, f.points) for f in decision.factors] == [
        ("income", 35),
        ("existing_debt", 25),
        ("months_as_customer", 18),
        ("average_balance", 15),
        ("overdrafts", 10),
        ("refusals", 5),
    ]
    assert decision.score == 108
    assert decision.outcome is LoanOutcome.APPROVE
    assert decision.rule_hits == ()
    assert decision.reasons == ("loan.reason.approved",)
    assert decision.explanation()["factors"][0] == ["income", 1_500_000, 35]


def test_hard_rules_decline_whatever_the_score() -> None:
    old = decide(request(), Applicant(**{**GOOD.__dict__, "age": 66}))
    assert old.outcome is LoanOutcome.DECLINE and [h.rule for h in old.rule_hits] == ["age"]
    assert old.reasons == ("loan.reason.age",)
    listed = decide(request(), Applicant(**{**GOOD.__dict__, "blacklisted": True}))
    assert listed.reasons == ("loan.reason.policy",)  # the customer is not told about the list
    # ¥5,000 debt + ¥2,386.49 instalment on ¥12,000 income = 61.6 % > 50 %
    heavy = decide(request(12_000_000, income=1_200_000, debt=500_000, term=60), GOOD)
    assert [h.rule for h in heavy.rule_hits] == ["debt_to_income"]
    assert "61.6%" in heavy.rule_hits[0].detail
    # ¥200,000 on ¥15,000 a month: more than 12 months of income
    big = decide(request(20_000_000, income=1_500_000, term=60), GOOD)
    assert "income_multiple" in [h.rule for h in big.rule_hits]
    assert decide(request(), Applicant(**{**GOOD.__dict__, "age": 18})).outcome is LoanOutcome.APPROVE
    assert decide(request(), Applicant(**{**GOOD.__dict__, "age": 65})).outcome is LoanOutcome.APPROVE


def test_grey_band_and_big_amounts_are_referred_and_low_scores_declined_with_the_weakest_factors() -> None:
    newcomer = Applicant(
        age=30,
        blacklisted=False,
        months_as_customer=2,
        average_balance_minor=50_000,
        overdrafts_12m=0,
        refusals_12m=0,
    )
    # ¥8,000 → 25; debt 10 % → 12; tenure 0; balance 0; overdrafts 10; refusals 5 = 52: grey band
    grey = decide(request(500_000, income=800_000, debt=80_000, term=12), newcomer)
    assert (grey.score, grey.outcome, grey.reasons) == (52, LoanOutcome.REFER, ("loan.reason.grey_band",))
    big = decide(request(6_000_000, income=2_000_000, term=60), GOOD)
    assert big.outcome is LoanOutcome.REFER and big.reasons == ("loan.reason.above_auto_limit",)
    troubled = Applicant(**{**newcomer.__dict__, "overdrafts_12m": 4, "refusals_12m": 1})
    low = decide(request(300_000, income=250_000, term=12), troubled)
    # 5 + 25 + 0 + 0 - 15 - 10 = 5; shortfalls: income 35, tenure 25, overdrafts 25 (ties: the factor
    # that took points away is named first)
    assert low.score == 5 and low.outcome is LoanOutcome.DECLINE
    assert low.reasons == ("loan.reason.score", "loan.reason.factor.income", "loan.reason.factor.overdrafts")


@pytest.mark.parametrize(
    ("changed", "key"),
    [
        ({"amount_minor": 99_999}, "loan.error.amount"),
        ({"term_months": 7}, "loan.error.term"),
        ({"monthly_income_minor": 0}, "loan.error.income"),
        ({"monthly_debt_minor": -1}, "loan.error.debt"),
        ({"purpose": "casino"}, "loan.error.purpose"),
    ],
)
def test_unscorable_input_is_named(changed: dict[str, object], key: str) -> None:
    bad = LoanRequest(**{**request().__dict__, **changed})  # type: ignore[arg-type]
    assert request_problem(bad, LoanPolicy()) == key
    with pytest.raises(ValueError, match=key):
        decide(bad, GOOD)
