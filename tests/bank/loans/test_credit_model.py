"""The trained model: the shipped artefact, what it may use, its bins, reasons, stability and re-training."""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import pytest

from bank.credit import data
from bank.credit.model import (
    MISSING,
    artefact_path,
    default_model,
    load_model,
    psi,
    score_shares,
    stability_level,
)
from kiosk.catalogs import loans as catalog

DATA = data.default_data_path()
needs_data = pytest.mark.skipif(not DATA.is_file(), reason=f"training data not at {DATA}")


def test_the_artefact_is_plain_json_naming_its_data_and_figures() -> None:
    document = json.loads(artefact_path().read_text(encoding="utf-8"))
    assert document["version"] == "GC-1"
    assert len(document["data"]["sha256"]) == 64
    assert (document["data"]["applications"], document["data"]["bad"]) == (800, 240)
    for view in ("scorecard", "scorecard_kiosk_view", "reference_logistic_one_hot"):
        assert set(document["figures"][view]) == {"auc", "ks", "brier"}
    model = default_model()
    assert model.refer_from < model.cutoff
    assert model.document["decision"]["cost_bad_loan"] == 5.0


def test_sex_marital_status_nationality_and_age_are_not_model_attributes() -> None:
    used = {a.name for a in default_model().attributes}
    assert used <= {name for name, _ in data.ATTRIBUTES} and len(used) >= 10
    for excluded in ("personal_status_and_sex", "foreign_worker", "age_in_years"):
        assert excluded not in used and excluded in data.EXCLUDED
    # Whatever a caller passes for them, the score does not move.
    model = default_model()
    base = {"duration_in_month": 12.0, "purpose": "home"}
    scores = {
        model.score({**base, "personal_status_and_sex": value, "age_in_years": age}).score  # type: ignore[dict-item]
        for value in ("male : single", "female : divorced/separated/married", None)
        for age in (19.0, 45.0)
    }
    assert len(scores) == 1


@needs_data
def test_the_training_rows_carry_none_of_the_excluded_attributes() -> None:
    training = data.load()
    assert len(training.rows) == 800 and training.bad_count == 240
    assert all(set(row) == {name for name, _ in data.ATTRIBUTES} for row in training.rows)
    assert training.sha256 == default_model().data_sha256


def test_numerical_bins_are_monotonic_and_points_follow_the_risk() -> None:
    for attribute in default_model().attributes:
        rates, points = attribute.event_rates, attribute.points
        assert len(rates) == len(points) == len(attribute.labels) == len(attribute.counts)
        if attribute.kind == "numerical" and len(rates) > 1:
            steps = [b - a for a, b in itertools.pairwise(rates)]
            assert all(s >= 0 for s in steps) or all(s <= 0 for s in steps), attribute.name
        # Riskier bin, never more points (ties allowed by rounding).
        by_risk = sorted(zip(rates, points, strict=True))
        assert all(p1 >= p2 for (_, p1), (_, p2) in itertools.pairwise(by_risk)), attribute.name


def test_a_missing_attribute_scores_its_own_neutral_bin() -> None:
    model = default_model()
    nothing = model.score({})
    assert all(c.bin == MISSING and c.shortfall == 0 for c in nothing.contributions)
    assert nothing.score == sum(a.missing_points for a in model.attributes)
    assert nothing.adverse() == ()  # not asked is never a reason
    # The missing bins carry no evidence: knowing nothing scores the model's intercept, near the
    # population's 240 bad in 800 (not exactly: the bins' average weights of evidence are not zero).
    assert nothing.default_probability == pytest.approx(240 / 800, abs=0.06)
    # A category the data never had (the kiosk's "travel") is missing too.
    travel = model.score({"purpose": "travel"}).contributions
    assert next(c for c in travel if c.attribute == "purpose").bin == MISSING


def test_the_probability_of_default_falls_with_the_score_as_scaled() -> None:
    model = default_model()
    assert model.default_probability(600) == pytest.approx(1 / 51)  # odds 50:1 at 600
    assert model.default_probability(620) == pytest.approx(1 / 101)  # 20 points double the odds
    decision = model.document["decision"]
    assert model.default_probability(model.cutoff) == pytest.approx(
        decision["cutoff_default_probability"], abs=1e-4
    )
    assert model.score_of_probability(model.default_probability(533.0)) == pytest.approx(533.0)


def test_every_model_attribute_has_a_reason_in_both_languages() -> None:
    for attribute in default_model().attributes:
        key = f"loan.reason.attr.{attribute.name}"
        assert catalog.EN.get(key) and catalog.ZH_CN.get(key), key
    assert set(catalog.EN) == set(catalog.ZH_CN)


def test_psi_by_hand() -> None:
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    # (0.7 - 0.5)·ln(0.7/0.5) + (0.3 - 0.5)·ln(0.3/0.5) = 0.0673 + 0.1022
    assert psi([0.5, 0.5], [0.7, 0.3]) == pytest.approx(0.2 * math.log(1.4) - 0.2 * math.log(0.6))
    assert score_shares([1, 2, 3, 10], [2.0, 5.0]) == (0.25, 0.5, 0.25)
    assert [stability_level(v) for v in (0.05, 0.1, 0.3)] == ["stable", "watch", "shifted"]
    model = default_model()
    assert sum(model.reference_shares) == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError):
        psi([1.0], [0.5, 0.5])


@needs_data
def test_the_runtime_scorer_matches_optbinning_on_every_application() -> None:
    pytest.importorskip("optbinning")
    from bank.credit import train

    training = data.load()
    fitted = train.fit_scorecard(training.rows, training.labels)
    expected = [round(float(s)) for s in fitted.score(train.frame(training.rows))]
    model = train.runtime_model(fitted)
    assert [model.score(row).score for row in training.rows] == expected


def test_cost_minimising_cutoff_by_hand() -> None:
    pytest.importorskip("optbinning")
    from bank.credit.train import cost_minimising_cutoff

    # Bads at 1 and 2, goods at 3, 4, 5: approving from 3 costs nothing.
    assert cost_minimising_cutoff([1, 2, 3, 4, 5], [1, 1, 0, 0, 0]) == (3, 0.0)
    # Approving from 4 costs a bad (5) and a good (1); from 5 (nobody) two goods (2): decline all.
    assert cost_minimising_cutoff([1, 2, 3, 4], [0, 1, 0, 1]) == (5, 2 / 4)


@needs_data
def test_retraining_reproduces_the_shipped_artefact(tmp_path: Path) -> None:
    pytest.importorskip("optbinning")
    from bank.credit import train

    shipped = json.loads(artefact_path().read_text(encoding="utf-8"))
    again = train.train(data.load(), "GC-1")
    assert again["data"] == shipped["data"]
    assert again["attributes"] == shipped["attributes"]  # bins and points exactly
    assert again["decision"]["cutoff_score"] == shipped["decision"]["cutoff_score"]
    assert again["reference_distribution"] == shipped["reference_distribution"]
    for view, figures in shipped["figures"].items():
        if isinstance(figures, dict):
            for name, value in figures.items():
                assert again["figures"][view][name] == pytest.approx(value, abs=0.005), (view, name)
    path = tmp_path / "gc-1.json"
    train.write_artefact(again, path)
    assert load_model(path).cutoff == default_model().cutoff


def test_the_credit_command_shows_the_shipped_artefact_and_refuses_missing_data(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bank.cli.credit import credit_app

    shown = CliRunner().invoke(credit_app, ["show"])
    assert shown.exit_code == 0, shown.output
    printed = json.loads(shown.output)
    assert printed["version"] == "GC-1" and printed["data"]["sha256"] == default_model().data_sha256
    missing = CliRunner().invoke(credit_app, ["train", "--data", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2
