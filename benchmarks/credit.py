"""Loan pre-qualification model: separation and calibration out of fold, next to a plain reference.

Repeated stratified cross-validation on the 800 labelled applications (``../shared/credit``): AUC, KS and
Brier score of the scorecard (all attributes known, and as the kiosk sees an application: what it does not
ask is missing) and, on the same folds and attributes, of a plain logistic regression on one-hot features
(the reference). Also the cost-chosen cut-off, approval rates by age band, the shipped artefact's figures
and the time to score one application with the runtime scorer next to the time to copy its inputs.

``python -m benchmarks.credit --plots docs/loans`` also draws the calibration and score-distribution PNGs.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from bank.credit import data
from bank.credit import train as credit_train
from bank.credit.data import kiosk_view
from bank.credit.model import default_model, from_document


def _per_call_us(fn: Any, items: list[Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            fn(item)
        samples.append((time.perf_counter() - start) / len(items) * 1e6)
    return round(statistics.median(samples), 2)


def run(quick: bool = False) -> dict[str, Any]:
    training = data.load()
    repeats = 1 if quick else credit_train.REPEATS
    started = time.perf_counter()
    document = credit_train.train(training, "bench", repeats=repeats)
    train_seconds = round(time.perf_counter() - started, 2)
    model = from_document(document)
    views = [kiosk_view(row) for row in training.rows]
    score_us = _per_call_us(model.score, views, 3 if quick else 15)
    copy_us = _per_call_us(dict, views, 3 if quick else 15)
    shipped = default_model().document
    figures = document["figures"]
    return {
        "credit_cross_validation": document["training"]["cross_validation"],
        "credit_scorecard": figures["scorecard"],
        "credit_reference_logistic_one_hot": figures["reference_logistic_one_hot"],
        "credit_scorecard_kiosk_view": figures["scorecard_kiosk_view"],
        "credit_fold_auc": {
            "scorecard_mean": figures["fold_auc_mean"],
            "scorecard_sd": figures["fold_auc_sd"],
            "reference_mean": figures["reference_fold_auc_mean"],
            "reference_sd": figures["reference_fold_auc_sd"],
            "folds_won_by_scorecard": figures["folds_won_by_scorecard"],
            "folds": figures["folds"],
        },
        "credit_goal_met": figures["scorecard"]["auc"]
        >= max(0.78, figures["reference_logistic_one_hot"]["auc"]),
        "credit_decision": document["decision"],
        "credit_approval_by_age": document["approval_by_age"],
        "credit_attributes_used": len(document["attributes"]),
        "credit_shipped_artefact": {
            "version": shipped["version"],
            "data_sha256_matches": shipped["data"]["sha256"] == training.sha256,
            "auc": shipped["figures"]["scorecard"]["auc"],
            "cutoff_score": shipped["decision"]["cutoff_score"],
        },
        "credit_train_seconds": train_seconds,
        "credit_score_one_application_us": score_us,
        "credit_copy_inputs_us": copy_us,
    }


def plots(out: Path, repeats: int = credit_train.REPEATS) -> list[Path]:
    """calibration.png (predicted PD against observed default rate, by decile, out of fold) and
    scores.png (out-of-fold scores of good and bad applications with the cut-off and grey band)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    training = data.load()
    oof = credit_train.out_of_fold(training, repeats=repeats)
    model = default_model()
    out.mkdir(parents=True, exist_ok=True)

    figure, axis = plt.subplots(figsize=(5.5, 5), dpi=110)
    for label, probabilities, marker in (
        ("all attributes known", oof.probabilities, "o"),
        ("as the kiosk sees it", oof.kiosk_probabilities, "s"),
    ):
        table = credit_train.calibration(probabilities, oof.labels)
        axis.plot([row[0] for row in table], [row[1] for row in table], marker=marker, label=label)
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    axis.set_xlabel("predicted probability of default (decile mean)")
    axis.set_ylabel("observed default rate")
    axis.set_title(f"Calibration, model {model.version}, out of fold")
    axis.set_xlim(0, 0.85)
    axis.set_ylim(0, 0.85)
    axis.legend(loc="upper left")
    figure.tight_layout()
    calibration_png = out / "calibration.png"
    figure.savefig(calibration_png)
    plt.close(figure)

    figure, axes = plt.subplots(2, 1, figsize=(7, 6), dpi=110, sharex=True)
    for axis, scores, title in (
        (axes[0], oof.scores, "all attributes known"),
        (axes[1], oof.kiosk_scores, "as the kiosk sees it"),
    ):
        good = [s for s, bad in zip(scores, oof.labels, strict=True) if not bad]
        bad = [s for s, b in zip(scores, oof.labels, strict=True) if b]
        bins = list(range(min(scores) - min(scores) % 5, max(scores) + 10, 5))
        axis.hist(good, bins=bins, alpha=0.6, label="repaid", color="tab:green")
        axis.hist(bad, bins=bins, alpha=0.6, label="defaulted", color="tab:red")
        axis.axvspan(model.refer_from, model.cutoff, color="gold", alpha=0.3, label="grey band: refer")
        axis.axvline(model.cutoff, color="black", label=f"cut-off {model.cutoff}")
        axis.set_title(title)
        axis.set_ylabel("applications")
        axis.legend(loc="upper right", fontsize=8)
    axes[1].set_xlabel("score (out of fold)")
    figure.tight_layout()
    scores_png = out / "scores.png"
    figure.savefig(scores_png)
    plt.close(figure)
    return [calibration_png, scores_png]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.credit")
    parser.add_argument("--plots", type=Path, required=True, help="Directory for the PNGs.")
    for path in plots(parser.parse_args().plots):
        print(path)
