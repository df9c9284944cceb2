"""Train and measure the scorecard (optbinning + scikit-learn: the ``credit`` extra).

:func:`train` fits optbinning's monotonic binning and scorecard on the whole data set, measures it with
repeated stratified cross-validation (:func:`cross_validate`: AUC, KS and Brier score out of fold, for the
scorecard and, on the same folds and attributes, a plain logistic regression on one-hot features), picks
the cut-off that minimises the stated cost of errors on the out-of-fold scores, and returns the artefact
as a JSON-able document (:func:`write_artefact` stores it). Every figure is measured with the runtime
scorer of ``bank.credit.model``, so what is measured is what the host runs.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from optbinning import BinningProcess, Scorecard  # type: ignore[import-untyped]
from sklearn.compose import ColumnTransformer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve  # type: ignore[import-untyped]
from sklearn.model_selection import RepeatedStratifiedKFold  # type: ignore[import-untyped]
from sklearn.pipeline import make_pipeline  # type: ignore[import-untyped]
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # type: ignore[import-untyped]

from bank.credit.data import ATTRIBUTES, EXCLUDED, KIOSK_ATTRIBUTES, TrainingData, Value, kiosk_view
from bank.credit.model import CreditModel, from_document, score_shares

PDO = 20.0  # points to double the odds
ODDS = 50.0  # good:bad odds at BASE_POINTS
BASE_POINTS = 600.0
COST_BAD = 5.0  # approving a loan that defaults costs five times ...
COST_GOOD = 1.0  # ... turning away one that would have been repaid (the Statlog cost matrix)
GREY_BAND_POINTS = 20  # one PDO below the cut-off (odds up to twice as bad) goes to a person
FOLDS = 5
REPEATS = 3
SEED = 20260401
AGE_BANDS: tuple[tuple[int, int], ...] = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 65), (66, 120))
FIGURE_DIGITS = 4


def _names() -> list[str]:
    return [name for name, _ in ATTRIBUTES]


def _categorical() -> list[str]:
    return [name for name, kind in ATTRIBUTES if kind == "categorical"]


def frame(rows: Sequence[dict[str, Value]]) -> Any:

    table = pd.DataFrame(list(rows), columns=_names())
    for name in _categorical():
        table[name] = table[name].astype(object)
    return table


def fit_scorecard(rows: Sequence[dict[str, Value]], labels: Sequence[int]) -> Any:
    """optbinning's scorecard; an attribute whose coefficient comes out with the wrong sign (more points
    for a riskier bin, from collinearity) is dropped and the rest refitted, until every sign is right."""
    names = _names()
    while True:
        scorecard = _fit(rows, labels, names)
        coefficients = scorecard.estimator_.coef_[0]
        wrong = [name for name, c in zip(names, coefficients, strict=True) if c > 0]
        if not wrong:
            return scorecard
        names = [name for name in names if name not in wrong]


def _fit(rows: Sequence[dict[str, Value]], labels: Sequence[int], names: list[str]) -> Any:
    kinds = dict(ATTRIBUTES)
    process = BinningProcess(
        names,
        categorical_variables=[n for n in names if kinds[n] == "categorical"],
        binning_fit_params={
            n: {"monotonic_trend": "auto_asc_desc"} for n in names if kinds[n] == "numerical"
        },
        n_jobs=1,
    )
    scorecard = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="pdo_odds",
        scaling_method_params={"pdo": PDO, "odds": ODDS, "scorecard_points": BASE_POINTS},
        rounding=True,
    )
    return scorecard.fit(frame(rows)[names], np.asarray(labels))


def export_attributes(scorecard: Any) -> list[dict[str, Any]]:
    """Each attribute's bins, points (and the missing bin's), event rates and counts, as plain data."""
    table = scorecard.table(style="detailed")
    attributes = []
    used = set(scorecard.binning_process_.variable_names)
    for name, kind in ATTRIBUTES:
        if name not in used:
            continue
        rows = table[table["Variable"] == name]
        regular = rows[~rows["Bin"].isin(["Special", "Missing"])]
        missing = rows[rows["Bin"].astype(str) == "Missing"]
        entry: dict[str, Any] = {"name": name, "kind": kind}
        binned = scorecard.binning_process_.get_binned_variable(name)
        if kind == "numerical":
            entry["splits"] = [float(s) for s in binned.splits]
            entry["labels"] = [str(b) for b in regular["Bin"]]
        else:
            entry["categories"] = [sorted(str(c) for c in members) for members in regular["Bin"]]
            entry["labels"] = [" | ".join(members) for members in entry["categories"]]
        entry["points"] = [int(p) for p in regular["Points"]]
        entry["missing_points"] = int(missing["Points"].iloc[0])
        entry["event_rates"] = [round(float(r), FIGURE_DIGITS) for r in regular["Event rate"]]
        entry["counts"] = [int(c) for c in regular["Count"]]
        attributes.append(entry)
    return attributes


def _document(attributes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "version": extra.pop("version", "fold"),
        "data": extra.pop("data", {"sha256": ""}),
        "scaling": {"pdo": PDO, "odds": ODDS, "points": BASE_POINTS},
        "decision": extra.pop("decision", {"cutoff_score": 0, "refer_from_score": 0}),
        "reference_distribution": extra.pop("reference_distribution", {"edges": [], "shares": [1.0]}),
        "attributes": attributes,
    }
    document.update(extra)
    return document


def runtime_model(scorecard: Any) -> CreditModel:
    return from_document(_document(export_attributes(scorecard)))


# -- measures ------------------------------------------------------------------------------------------
def auc(labels: Sequence[int], risk: Sequence[float]) -> float:

    return float(roc_auc_score(list(labels), list(risk)))


def ks(labels: Sequence[int], risk: Sequence[float]) -> float:

    fpr, tpr, _ = roc_curve(list(labels), list(risk))
    return float(max(tpr - fpr))


def brier(labels: Sequence[int], probability: Sequence[float]) -> float:

    return float(brier_score_loss(list(labels), list(probability)))


def _reference_probabilities(
    train_rows: Sequence[dict[str, Value]], train_labels: Sequence[int], test_rows: Sequence[dict[str, Value]]
) -> list[float]:
    """Plain logistic regression on one-hot categories and standardised numbers (the reference)."""

    encode = ColumnTransformer(
        [("categories", OneHotEncoder(handle_unknown="ignore"), _categorical())],
        remainder=StandardScaler(),
    )
    model = make_pipeline(encode, LogisticRegression(max_iter=2000))
    model.fit(frame(train_rows), np.asarray(train_labels))
    return [float(p) for p in model.predict_proba(frame(test_rows))[:, 1]]


@dataclass
class OutOfFold:
    """Every application's out-of-fold figures, once per repeat."""

    labels: list[int]
    ages: list[int]
    scores: list[int]  # the scorecard, all attributes known
    probabilities: list[float]
    kiosk_scores: list[int]  # the same fold model, scored as the kiosk sees the application
    kiosk_probabilities: list[float]
    reference: list[float]  # the logistic regression's probability of default
    folds: list[dict[str, float]]


def out_of_fold(
    data: TrainingData, folds: int = FOLDS, repeats: int = REPEATS, seed: int = SEED
) -> OutOfFold:

    labels = list(data.labels)
    result = OutOfFold([], [], [], [], [], [], [], [])
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)
    for train_index, test_index in splitter.split([[0]] * len(labels), labels):
        train_rows = [data.rows[i] for i in train_index]
        train_labels = [labels[i] for i in train_index]
        test_rows = [data.rows[i] for i in test_index]
        test_labels = [labels[i] for i in test_index]
        model = runtime_model(fit_scorecard(train_rows, train_labels))
        scored = [model.score(row) for row in test_rows]
        kiosk = [model.score(kiosk_view(row)) for row in test_rows]
        reference = _reference_probabilities(train_rows, train_labels, test_rows)
        probabilities = [s.default_probability for s in scored]
        result.labels += test_labels
        result.ages += [data.ages[i] for i in test_index]
        result.scores += [s.score for s in scored]
        result.probabilities += probabilities
        result.kiosk_scores += [s.score for s in kiosk]
        result.kiosk_probabilities += [s.default_probability for s in kiosk]
        result.reference += reference
        result.folds.append(
            {
                "auc": auc(test_labels, probabilities),
                "reference_auc": auc(test_labels, reference),
                "kiosk_auc": auc(test_labels, [s.default_probability for s in kiosk]),
            }
        )
    return result


def cost_minimising_cutoff(scores: Sequence[int], labels: Sequence[int]) -> tuple[int, float]:
    """The score from which to approve that minimises COST_BAD · bads approved + COST_GOOD · goods refused.

    Returns (cut-off, cost per application). On a tie the higher (more careful) cut-off wins.
    """
    candidates = [*sorted(set(scores)), max(scores) + 1]
    best: tuple[float, int] | None = None
    for cutoff in candidates:
        cost = sum(
            COST_BAD if bad and score >= cutoff else COST_GOOD if not bad and score < cutoff else 0.0
            for score, bad in zip(scores, labels, strict=True)
        )
        if best is None or cost <= best[0]:
            best = (cost, cutoff)
    assert best is not None
    return best[1], best[0] / len(scores)


def _r(value: float) -> float:
    return round(value, FIGURE_DIGITS)


def measures(oof: OutOfFold) -> dict[str, Any]:
    def summary(probabilities: Sequence[float]) -> dict[str, float]:
        return {
            "auc": _r(auc(oof.labels, probabilities)),
            "ks": _r(ks(oof.labels, probabilities)),
            "brier": _r(brier(oof.labels, probabilities)),
        }

    fold_auc = [f["auc"] for f in oof.folds]
    fold_reference = [f["reference_auc"] for f in oof.folds]
    return {
        "scorecard": summary(oof.probabilities),
        "scorecard_kiosk_view": summary(oof.kiosk_probabilities),
        "reference_logistic_one_hot": summary(oof.reference),
        "fold_auc_mean": _r(statistics.fmean(fold_auc)),
        "fold_auc_sd": _r(statistics.stdev(fold_auc)),
        "reference_fold_auc_mean": _r(statistics.fmean(fold_reference)),
        "reference_fold_auc_sd": _r(statistics.stdev(fold_reference)),
        "folds_won_by_scorecard": sum(a >= r for a, r in zip(fold_auc, fold_reference, strict=True)),
        "folds": len(oof.folds),
    }


def calibration(probabilities: Sequence[float], labels: Sequence[int], bins: int = 10) -> list[list[float]]:
    """[mean predicted PD, observed default rate, count] per decile of predicted PD."""
    pairs = sorted(zip(probabilities, labels, strict=True))
    size = len(pairs) / bins
    table = []
    for b in range(bins):
        chunk = pairs[round(b * size) : round((b + 1) * size)]
        if chunk:
            table.append(
                [
                    _r(statistics.fmean(p for p, _ in chunk)),
                    _r(statistics.fmean(y for _, y in chunk)),
                    float(len(chunk)),
                ]
            )
    return table


def approval_by_age(oof: OutOfFold, cutoff: int, refer_from: int, repeats: int) -> list[dict[str, Any]]:
    """Out-of-fold kiosk-view outcomes by age band (the rules' 18–65 limit applied, nothing else)."""
    bands = []
    for low, high in AGE_BANDS:
        members = [
            (score, bad)
            for score, bad, age in zip(oof.kiosk_scores, oof.labels, oof.ages, strict=True)
            if low <= age <= high
        ]
        n = len(members)
        eligible = low >= 18 and high <= 65
        approved = sum(1 for s, _ in members if eligible and s >= cutoff)
        referred = sum(1 for s, _ in members if eligible and refer_from <= s < cutoff)
        bands.append(
            {
                "band": f"{low}-{high}" if high < 120 else f"{low}+",
                "applications": n // repeats,
                "approved": _r(approved / n) if n else 0.0,
                "referred": _r(referred / n) if n else 0.0,
                "bad_rate": _r(sum(b for _, b in members) / n) if n else 0.0,
            }
        )
    return bands


def reference_distribution(scores: Sequence[int], bins: int = 10) -> dict[str, Any]:
    """Score bins at the training deciles (kiosk view) and the share of training scores in each."""
    ordered = sorted(scores)
    edges = sorted({float(ordered[math.floor(len(ordered) * q / bins)]) for q in range(1, bins)})
    return {"edges": edges, "shares": [_r(s) for s in score_shares(ordered, edges)]}


def train(data: TrainingData, version: str, *, repeats: int = REPEATS) -> dict[str, Any]:
    """Fit on every application, measure out of fold, choose the cut-off: the artefact document."""
    oof = out_of_fold(data, repeats=repeats)
    cutoff, cost = cost_minimising_cutoff(oof.kiosk_scores, oof.labels)
    full_cutoff, full_cost = cost_minimising_cutoff(oof.scores, oof.labels)
    refer_from = cutoff - GREY_BAND_POINTS
    attributes = export_attributes(fit_scorecard(data.rows, data.labels))
    final = from_document(_document(attributes))
    kiosk_scores = [final.score(kiosk_view(row)).score for row in data.rows]
    approved = [s >= cutoff for s in oof.kiosk_scores]
    return _document(
        attributes,
        version=version,
        data={
            "file": data.path.name,
            "sha256": data.sha256,
            "applications": len(data.labels),
            "bad": data.bad_count,
        },
        decision={
            "cutoff_score": cutoff,
            "cutoff_default_probability": _r(final.default_probability(cutoff)),
            "refer_from_score": refer_from,
            "refer_from_default_probability": _r(final.default_probability(refer_from)),
            "cost_bad_loan": COST_BAD,
            "cost_lost_good_loan": COST_GOOD,
            "break_even_default_probability": _r(COST_GOOD / (COST_GOOD + COST_BAD)),
            "cost_per_application_kiosk_view": _r(cost),
            "cost_per_application_approve_all": _r(COST_BAD * data.bad_count / len(data.labels)),
            "cost_per_application_decline_all": _r(
                COST_GOOD * (len(data.labels) - data.bad_count) / len(data.labels)
            ),
            "approval_rate_kiosk_view": _r(sum(approved) / len(approved)),
            "cutoff_all_attributes_known": full_cutoff,
            "cost_per_application_all_attributes_known": _r(full_cost),
        },
        reference_distribution=reference_distribution(kiosk_scores),
        training={
            "library": "optbinning BinningProcess + Scorecard (LogisticRegression), monotonic numerical bins",
            "cross_validation": f"stratified {FOLDS}-fold x {repeats}, seed {SEED}",
            "kiosk_attributes": sorted(KIOSK_ATTRIBUTES),
            "excluded_attributes": EXCLUDED,
        },
        figures=measures(oof),
        calibration={
            "scorecard": calibration(oof.probabilities, oof.labels),
            "scorecard_kiosk_view": calibration(oof.kiosk_probabilities, oof.labels),
        },
        approval_by_age=approval_by_age(oof, cutoff, refer_from, repeats),
    )


def write_artefact(document: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
