"""The decision: the kiosk's inputs mapped onto the model, instalments against the annuity formula, the rules,
each outcome with its reasons."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bank.credit.model import default_model
from bank.loans.models import LoanOutcome
from bank.loans.scorecard import Applicant, decide, model_inputs
from hostlink.loans import LoanPolicy, LoanRequest, monthly_instalment, request_problem

GOOD = Applicant(
    age=40,
    blacklisted=False,
    months_as_customer=30,
    average_balance_minor=2_000_000,
    overdrafts_12m=0,
    refusals_12m=0,
    current_balance_minor=500_000,  # ¥5,000: >= 200 DM
    savings_balance_minor=2_000_000,  # ¥20,000: >= 1,000 DM
)


def request(
    amount: int = 2_000_000,
    *,
    income: int = 1_500_000,
    debt: int = 0,
    term: int = 24,
    purpose: str = "used_car",
) -> LoanRequest:
    return LoanRequest(amount, term, income, debt, purpose)


def test_instalments_match_the_annuity_formula_worked_by_hand() -> None:
    # ¥10,000 over 12 months at 7.2 %: r = 0.006, 1.006^12 = 1.0744242,
    # 10000·0.006·1.0744242/0.0744242 = 866.19
    assert monthly_instalment(1_000_000, 12, 720) == 86_619
    # ¥120,000 over 60 months: 1.006^60 = 1.4317884, 120000·0.006·1.4317884/0.4317884 = 2387.483 → 2387.49
    assert monthly_instalment(12_000_000, 60, 720) == 238_749
    assert monthly_instalment(1_000_001, 10, 0) == 100_001  # no interest: rounded up to the fen


def test_the_kiosk_maps_onto_the_models_attributes_and_leaves_the_rest_missing() -> None:
    inputs = model_inputs(request(), GOOD)
    assert inputs == {
        "status_of_existing_checking_account": "... >= 200 DM / salary assignments for at least 1 year",
        "savings_account_and_bonds": "... >= 1000 DM",
        "duration_in_month": 24.0,
        "credit_amount": 2_000_000 / 430,
        "purpose": "used_car",
        "other_installment_plans": "none",
    }
    # 200 DM = ¥860: the checking band's edge; no current account is the data's own category.
    assert (
        model_inputs(request(), replace(GOOD, current_balance_minor=85_999))[
            "status_of_existing_checking_account"
        ]
        == "0 <= ... < 200 DM"
    )
    assert model_inputs(request(), replace(GOOD, current_balance_minor=86_000))[
        "status_of_existing_checking_account"
    ].startswith("... >= 200 DM")
    assert (
        model_inputs(request(), replace(GOOD, current_balance_minor=-1))[
            "status_of_existing_checking_account"
        ]
        == "... < 0 DM"
    )
    assert (
        model_inputs(request(), replace(GOOD, current_balance_minor=None))[
            "status_of_existing_checking_account"
        ]
        == "no checking account"
    )
    # No savings account with us, existing repayments, a purpose the data never had: missing, not guessed.
    other = model_inputs(request(debt=10_000, purpose="travel"), replace(GOOD, savings_balance_minor=None))
    assert other["savings_account_and_bonds"] is None
    assert other["other_installment_plans"] is None
    assert other["purpose"] is None


def test_a_strong_applicant_is_approved_with_every_attribute_explained() -> None:
    model = default_model()
    decision = decide(request(), GOOD)
    assert decision.outcome is LoanOutcome.APPROVE and decision.rule_hits == ()
    assert decision.reasons == ("loan.reason.approved",)
    assert decision.model_version == model.version == "GC-1"
    assert [f.name for f in decision.factors] == [a.name for a in model.attributes]
    assert decision.score == sum(f.points for f in decision.factors) >= model.cutoff
    missing = [f for f in decision.factors if f.bin == "missing"]
    assert len(missing) == len(model.attributes) - 6  # the kiosk fills six attributes
    assert all(f.points == a.missing_points for f in missing for a in model.attributes if a.name == f.name)
    assert decision.default_probability == round(model.default_probability(decision.score), 4)
    explanation = decision.explanation()
    assert (
        explanation["model"] == "GC-1"
        and explanation["factors"][0][0] == "status_of_existing_checking_account"
    )


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


def test_grey_band_is_referred_big_amounts_always_and_low_scores_declined_with_the_costliest_attributes() -> (
    None
):
    model = default_model()
    # A new car over 24 months with ¥20,000: the new-car purpose costs points; in the grey band.
    grey = decide(request(purpose="car"), GOOD)
    assert model.refer_from <= grey.score < model.cutoff
    assert (grey.outcome, grey.reasons) == (LoanOutcome.REFER, ("loan.reason.grey_band",))
    assert grey.adverse_reasons[0] == "loan.reason.attr.purpose"
    # Above ¥50,000 a person decides whatever the score.
    big = decide(request(6_000_000, income=2_000_000, term=60), GOOD)
    assert big.outcome is LoanOutcome.REFER and big.reasons == ("loan.reason.above_auto_limit",)
    # Overdrawn, no savings with us, a new car over 48 months: below the grey band.
    weak = replace(GOOD, current_balance_minor=-20_000, savings_balance_minor=50_000)
    low = decide(request(3_000_000, income=1_000_000, term=48, purpose="car"), weak)
    assert low.score < model.refer_from and low.outcome is LoanOutcome.DECLINE
    assert low.reasons[0] == "loan.reason.score"
    assert low.reasons[1:] == low.adverse_reasons
    assert set(low.adverse_reasons) == {
        "loan.reason.attr.duration_in_month",
        "loan.reason.attr.purpose",
        "loan.reason.attr.status_of_existing_checking_account",
    }
    points = {f.name: f.points for f in low.factors}
    neutral = {a.name: a.missing_points for a in model.attributes}
    lost = [
        neutral[key.removeprefix("loan.reason.attr.")] - points[key.removeprefix("loan.reason.attr.")]
        for key in low.adverse_reasons
    ]
    assert lost == sorted(lost, reverse=True) and lost[-1] > 0  # most points lost first


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
