"""The evaluation set, written as customers ask, and the measurement of an assistant on it.

Two halves, both in ``data/`` beside this module, one question a line (language, expected entry or ``-``
for a question the FAQ cannot answer, the question):

* ``held_out.tsv``: written before the retrieval was changed and never tuned on: the honest figure;
* ``tuning.tsv``: the questions the synonyms, the bank words and the thresholds were tuned on.

Questions are short, colloquial, sometimes misspelt, sometimes mixed Chinese and English, sometimes
toneless pinyin (counted as Chinese). :func:`evaluate` measures any assistant given as a function from a
question to a :class:`Verdict`, so the kiosk's assistant, the reference (the assistant before issue 25)
and a word-overlap baseline are measured on the same questions in the same way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from kiosk.help.retrieval import HelpAssistant, Match

LANGS = ("en", "zh")
# The marks: the sweep below keeps the setting that clears all of them by the widest margin.
GOALS: dict[str, float] = {
    "top1_en": 0.9,
    "top1_zh": 0.9,
    "suggestions_hold_right": 0.98,
    "out_of_scope_declined": 0.9,
}
DECLINE_GRID = tuple(round(0.2 + 0.025 * step, 3) for step in range(13))  # 0.2 … 0.5
EVERYDAY_GRID = (0.0, 0.25, 0.5)
UNKNOWN_GRID = (1.0, 1.5, 2.0)
EVIDENCE_GRID = (math.inf, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0)  # inf: the confidence alone decides


@dataclass(frozen=True)
class Question:
    lang: str  # "en" or "zh" (pinyin and mixed questions are "zh")
    expected: str  # FAQ entry id, or "" when out of scope
    text: str

    @property
    def in_scope(self) -> bool:
        return bool(self.expected)


@dataclass(frozen=True)
class Verdict:
    """What an assistant did with a question: answered, offered suggestions, or declined."""

    kind: str  # "answer", "did_you_mean" or "decline"
    ids: tuple[str, ...]  # best first: the answer and its runners-up, or the suggestions


def _load(name: str) -> tuple[Question, ...]:
    text = resources.files("kiosk.help").joinpath("data", name).read_text(encoding="utf-8")
    questions = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, expected, question = line.split("\t")
        questions.append(Question(lang, "" if expected == "-" else expected, question))
    return tuple(questions)


@cache
def held_out() -> tuple[Question, ...]:
    return _load("held_out.tsv")


@cache
def tuning() -> tuple[Question, ...]:
    return _load("tuning.tsv")


def verdict_of(assistant: HelpAssistant) -> Callable[[str], Verdict]:
    def verdict(text: str) -> Verdict:
        reply = assistant.respond(text)
        return Verdict(reply.kind, tuple(m.id for m in reply.matches))

    return verdict


def _share(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def evaluate(verdict: Callable[[str], Verdict], questions: Sequence[Question]) -> dict[str, Any]:
    """Per language: top-1 accuracy, answered right, suggestions holding the right entry, declines."""
    report: dict[str, Any] = {}
    misses: list[dict[str, str]] = []
    for lang in LANGS:
        asked = [q for q in questions if q.lang == lang]
        scope = [q for q in asked if q.in_scope]
        outside = [q for q in asked if not q.in_scope]
        top1 = answered = listed = declined_in_scope = 0
        for q in scope:
            v = verdict(q.text)
            right = bool(v.ids) and v.ids[0] == q.expected
            top1 += right
            answered += right and v.kind == "answer"
            listed += v.kind != "decline" and q.expected in v.ids[:3]
            declined_in_scope += v.kind == "decline"
            if not right:
                misses.append({"question": q.text, "expected": q.expected, "got": v.ids[0] if v.ids else ""})
        declined = 0
        for q in outside:
            v = verdict(q.text)
            declined += v.kind == "decline"
            if v.kind != "decline":
                misses.append({"question": q.text, "expected": "(decline)", "got": f"{v.kind} {v.ids[:1]}"})
        report[lang] = {
            "questions": len(scope),
            "top1": _share(top1, len(scope)),
            "answered_right": _share(answered, len(scope)),
            "suggestions_hold_right": _share(listed, len(scope)),
            "in_scope_declined": _share(declined_in_scope, len(scope)),
            "out_of_scope": len(outside),
            "out_of_scope_declined": _share(declined, len(outside)),
        }
    scope_n = sum(report[lang]["questions"] for lang in LANGS)
    outside_n = sum(report[lang]["out_of_scope"] for lang in LANGS)

    def pooled(key: str, count: str, total: int) -> float:
        return _share(round(sum(report[lang][key] * report[lang][count] for lang in LANGS)), total)

    report["all"] = {
        "top1": pooled("top1", "questions", scope_n),
        "suggestions_hold_right": pooled("suggestions_hold_right", "questions", scope_n),
        "out_of_scope_declined": pooled("out_of_scope_declined", "out_of_scope", outside_n),
    }
    report["misses"] = misses
    return report


@dataclass(frozen=True)
class Setting:
    """One point of the sweep: how the confidence weighs terms, where it declines, and how it did."""

    decline_threshold: float
    evidence_threshold: float
    everyday_share: float
    unknown_weight: float
    figures: dict[str, float]

    @property
    def margin(self) -> float:
        """The smallest lead over a goal (negative: a goal missed)."""
        return min(self.figures[key] - goal for key, goal in GOALS.items())


def goal_figures(report: dict[str, Any]) -> dict[str, float]:
    return {
        "top1_en": report["en"]["top1"],
        "top1_zh": report["zh"]["top1"],
        "suggestions_hold_right": report["all"]["suggestions_hold_right"],
        "out_of_scope_declined": report["all"]["out_of_scope_declined"],
    }


def sweep(assistant: HelpAssistant, questions: Sequence[Question]) -> list[Setting]:
    """Every setting of the grids measured on ``questions``, best first (widest margin, then widest sum).

    Meant for the tuning half only: the thresholds the assistant ships with are the first setting of the
    sweep over :func:`tuning` (a test holds them to it). The assistant's own weights are restored.
    """
    kept = (assistant.indexes["en"].everyday_share, assistant.indexes["en"].unknown_weight)
    settings = []
    try:
        for share in EVERYDAY_GRID:
            for unknown in UNKNOWN_GRID:
                assistant.set_weights(share, unknown)
                found: dict[str, list[Match]] = {q.text: assistant.search(q.text) for q in questions}
                for decline in DECLINE_GRID:
                    for evidence in EVIDENCE_GRID:

                        def verdict(
                            text: str,
                            decline: float = decline,
                            evidence: float = evidence,
                            found: dict[str, list[Match]] = found,
                        ) -> Verdict:
                            matches = found[text]
                            if not matches or (
                                matches[0].confidence < decline and matches[0].evidence < evidence
                            ):
                                return Verdict("decline", ())
                            return Verdict("answer", tuple(m.id for m in matches))

                        figures = goal_figures(evaluate(verdict, questions))
                        settings.append(Setting(decline, evidence, share, unknown, figures))
    finally:
        assistant.set_weights(*kept)
    # Ties: the higher thresholds (the more cautious setting: fewer answers to what the FAQ barely covers).
    settings.sort(
        key=lambda s: (-s.margin, -sum(s.figures.values()), -s.decline_threshold, -s.evidence_threshold)
    )
    return settings
