"""The trained scorecard as the host runs it: bins, points and the score → probability of default.

The artefact is JSON (``bank/credit/artefacts/<version>.json``, written by ``bank.credit.train``): per
attribute its bins (numerical: the split points, each bin ``[lower, upper)``; categorical: the categories
in each bin), the points of each bin and of the "missing" bin, and the scaling that turns a score into a
probability of default. Scoring is plain Python: no unpickling, no numerical library at run time.

A missing attribute (one the kiosk does not ask) scores the points of its own "missing" bin. No training
application was missing anything, so that bin carries no evidence (weight of evidence 0): its points are
the attribute's neutral share of the score, neither credit nor debit.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bank.credit.data import Value

ARTEFACTS = Path(__file__).with_name("artefacts")
DEFAULT_VERSION = "GC-1"
MISSING = "missing"


@dataclass(frozen=True)
class AttributeBins:
    name: str
    kind: str  # "numerical" | "categorical"
    splits: tuple[float, ...]  # numerical: bin i is [splits[i-1], splits[i])
    categories: tuple[tuple[str, ...], ...]  # categorical: the categories of each bin
    labels: tuple[str, ...]
    points: tuple[int, ...]
    missing_points: int
    event_rates: tuple[float, ...]
    counts: tuple[int, ...]

    def bin_index(self, value: Value) -> int | None:
        """The bin of ``value``; None for a missing value or a category the data never had."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if self.kind == "numerical":
            return bisect.bisect_right(self.splits, float(value))
        for index, members in enumerate(self.categories):
            if str(value) in members:
                return index
        return None


@dataclass(frozen=True)
class Contribution:
    attribute: str
    value: Value
    bin: str  # the bin's label, or "missing"
    points: int
    neutral_points: int  # the missing bin's: what the attribute scores when nothing is known

    @property
    def missing(self) -> bool:
        return self.bin == MISSING

    @property
    def shortfall(self) -> int:
        """Points this value cost against knowing nothing about the attribute (negative: it helped)."""
        return self.neutral_points - self.points


@dataclass(frozen=True)
class Scored:
    score: int
    default_probability: float
    contributions: tuple[Contribution, ...]

    def adverse(self, count: int = 3) -> tuple[str, ...]:
        """The attributes whose values cost the most points below neutral (adverse-action reasons).

        Neutral is the attribute's missing bin (weight of evidence 0, the population's average), so a
        reason is a value that made the application look riskier than average. A missing attribute is
        never a reason: it was not asked, and it scores neutral.
        """
        known = [c for c in self.contributions if not c.missing and c.shortfall > 0]
        known.sort(key=lambda c: (-c.shortfall, c.attribute))
        return tuple(c.attribute for c in known[:count])


@dataclass(frozen=True)
class CreditModel:
    version: str
    data_sha256: str
    attributes: tuple[AttributeBins, ...]
    pdo: float
    odds: float
    base_points: float
    cutoff: int  # approve from this score (the cost-minimising cut-off)
    refer_from: int  # the grey band [refer_from, cutoff) goes to a person
    reference_edges: tuple[float, ...]  # score bins for the stability index
    reference_shares: tuple[float, ...]
    document: Mapping[str, Any]

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.odds)

    def default_probability(self, score: float) -> float:
        """score = offset + factor · ln(odds good:bad), so PD = 1 / (1 + e^((score − offset) / factor))."""
        return 1.0 / (1.0 + math.exp((score - self.offset) / self.factor))

    def score_of_probability(self, probability: float) -> float:
        return self.offset + self.factor * math.log((1 - probability) / probability)

    def score(self, values: Mapping[str, Value]) -> Scored:
        contributions = []
        for attribute in self.attributes:
            value = values.get(attribute.name)
            index = attribute.bin_index(value)
            if index is None:
                contributions.append(
                    Contribution(
                        attribute.name, value, MISSING, attribute.missing_points, attribute.missing_points
                    )
                )
            else:
                contributions.append(
                    Contribution(
                        attribute.name,
                        value,
                        attribute.labels[index],
                        attribute.points[index],
                        attribute.missing_points,
                    )
                )
        total = sum(c.points for c in contributions)
        return Scored(total, self.default_probability(total), tuple(contributions))

    def score_shares(self, scores: Sequence[float]) -> tuple[float, ...]:
        return score_shares(scores, self.reference_edges)

    def stability(self, scores: Sequence[float]) -> float:
        """PSI of ``scores`` (e.g. the decisions recorded) against the training distribution."""
        return psi(self.reference_shares, self.score_shares(scores))


def score_shares(scores: Sequence[float], edges: Sequence[float]) -> tuple[float, ...]:
    """The share of ``scores`` in each bin: (-inf, e0), [e0, e1), ..., [e_last, inf)."""
    counts = [0] * (len(edges) + 1)
    for score in scores:
        counts[bisect.bisect_right(edges, score)] += 1
    total = len(scores)
    return tuple(count / total if total else 0.0 for count in counts)


def psi(expected: Sequence[float], actual: Sequence[float], floor: float = 1e-4) -> float:
    """Population stability index Σ (a − e) · ln(a / e), with empty bins floored at ``floor``.

    Rule of thumb: below 0.10 stable, 0.10–0.25 worth a look, above 0.25 the population has shifted.
    """
    if len(expected) != len(actual):
        raise ValueError("both distributions need the same bins")
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, floor), max(a, floor)
        total += (a - e) * math.log(a / e)
    return total


def stability_level(value: float) -> str:
    return "stable" if value < 0.10 else "watch" if value < 0.25 else "shifted"


def from_document(document: Mapping[str, Any]) -> CreditModel:
    attributes = tuple(
        AttributeBins(
            name=str(a["name"]),
            kind=str(a["kind"]),
            splits=tuple(float(s) for s in a.get("splits", [])),
            categories=tuple(tuple(str(c) for c in members) for members in a.get("categories", [])),
            labels=tuple(str(label) for label in a["labels"]),
            points=tuple(int(p) for p in a["points"]),
            missing_points=int(a["missing_points"]),
            event_rates=tuple(float(r) for r in a["event_rates"]),
            counts=tuple(int(c) for c in a["counts"]),
        )
        for a in document["attributes"]
    )
    scaling = document["scaling"]
    decision = document["decision"]
    reference = document["reference_distribution"]
    return CreditModel(
        version=str(document["version"]),
        data_sha256=str(document["data"]["sha256"]),
        attributes=attributes,
        pdo=float(scaling["pdo"]),
        odds=float(scaling["odds"]),
        base_points=float(scaling["points"]),
        cutoff=int(decision["cutoff_score"]),
        refer_from=int(decision["refer_from_score"]),
        reference_edges=tuple(float(e) for e in reference["edges"]),
        reference_shares=tuple(float(s) for s in reference["shares"]),
        document=document,
    )


def artefact_path(version: str = DEFAULT_VERSION) -> Path:
    return ARTEFACTS / f"{version.lower()}.json"


def load_model(path: Path | None = None) -> CreditModel:
    document = json.loads((path or artefact_path()).read_text(encoding="utf-8"))
    return from_document(document)


@cache
def default_model() -> CreditModel:
    """The shipped model (``bank/credit/artefacts/gc-1.json``), loaded once per process."""
    return load_model()
