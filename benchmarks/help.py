"""Help assistant: retrieval quality and latency, each next to its references from the same run.

Quality, on the held-out half of the evaluation set (never tuned on) and on the tuning half: top-1
accuracy per language, the share of in-scope questions whose "did you mean" list (or answer and runners-up)
holds the right entry, and the share of out-of-scope questions declined. Measured the same way for the
assistant before issue 25 (``benchmarks/help_reference.py``, over the same FAQ) and for a word-overlap
baseline (the FAQ question sharing most words with the question; none shared: declined). Latency: the
median time of one question through each assistant, next to reading the question alone. Also the
wealth-advice projection (Decimal lognormal percentiles) for a 30-year horizon, next to the same formula in
floats.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from typing import Any

from benchmarks.help_reference import ReferenceAssistant
from benchmarks.help_reference import language_of as reference_language
from benchmarks.help_reference import tokenize as reference_tokenize
from hostlink.advice.products import allocation_for
from hostlink.advice.projection import Z95, portfolio_stats, project
from kiosk.help.evaluation import Question, Verdict, evaluate, held_out, tuning, verdict_of
from kiosk.help.faq import FAQ
from kiosk.help.retrieval import HelpAssistant


def _per_call_us(fn: Any, items: list[Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            fn(item)
        samples.append((time.perf_counter() - start) / len(items) * 1e6)
    return round(statistics.median(samples), 2)


def _median_query_us(fn: Callable[[str], Any], questions: list[str], rounds: int) -> float:
    """The median over questions of each question's best-of-``rounds`` time."""
    per_question = []
    for question in questions:
        best = math.inf
        for _ in range(rounds):
            start = time.perf_counter()
            fn(question)
            best = min(best, time.perf_counter() - start)
        per_question.append(best * 1e6)
    return round(statistics.median(per_question), 2)


def reference_verdict(assistant: ReferenceAssistant) -> Callable[[str], Verdict]:
    def verdict(text: str) -> Verdict:
        matches = assistant.search(text, 3)
        confident = bool(matches) and matches[0].confidence >= assistant.threshold
        return Verdict("answer" if confident else "decline", tuple(m.id for m in matches))

    return verdict


def word_overlap_verdict(text: str) -> Verdict:
    lang = reference_language(text)
    query = set(reference_tokenize(text, lang))
    overlaps = [(len(query & set(reference_tokenize(e.question[lang], lang))), n) for n, e in enumerate(FAQ)]
    ranked = sorted((pair for pair in overlaps if pair[0] > 0), key=lambda pair: (-pair[0], pair[1]))
    ids = tuple(FAQ[n].id for _, n in ranked[:3])
    return Verdict("answer" if ids else "decline", ids)


def _figures(report: dict[str, Any]) -> dict[str, float]:
    return {
        "top1_en": report["en"]["top1"],
        "top1_zh": report["zh"]["top1"],
        "did_you_mean_holds_right": report["all"]["suggestions_hold_right"],
        "out_of_scope_declined": report["all"]["out_of_scope_declined"],
        "out_of_scope_declined_en": report["en"]["out_of_scope_declined"],
        "out_of_scope_declined_zh": report["zh"]["out_of_scope_declined"],
    }


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 3 if quick else 15
    started = time.perf_counter()
    assistant = HelpAssistant()
    build_ms = round((time.perf_counter() - started) * 1000, 2)
    reference = ReferenceAssistant()
    verdicts = {
        "assistant": verdict_of(assistant),
        "reference": reference_verdict(reference),
        "word_overlap": word_overlap_verdict,
    }
    halves: dict[str, tuple[Question, ...]] = {"held_out": held_out(), "tuning": tuning()}
    quality: dict[str, Any] = {}
    misses: list[dict[str, str]] = []
    for half, questions in halves.items():
        for name, verdict in verdicts.items():
            report = evaluate(verdict, questions)
            quality[f"{half}_{name}"] = _figures(report)
            if name == "assistant" and half == "held_out":
                misses = report["misses"]
    texts = [q.text for q in held_out() + tuning()]
    query_us = _median_query_us(assistant.respond, texts, rounds)
    reference_query_us = _median_query_us(lambda q: reference.search(q, 3), texts, rounds)
    read_us = _median_query_us(lambda q: [terms for _, terms in assistant.readings(q)], texts, rounds)

    stats = portfolio_stats(allocation_for("C5"))
    decimal_us = _per_call_us(lambda _: project(10_000_000, "C5", 30), [0], rounds * 20)
    mu, sigma = float(stats.expected_return), float(stats.volatility)

    def float_projection(_: Any) -> list[float]:
        drift = math.log(1 + mu) - sigma * sigma / 2
        z = float(Z95)
        return [
            10_000_000 * math.exp(drift * t + k * z * sigma * math.sqrt(t))
            for t in range(31)
            for k in (-1, 0, 1)
        ]

    float_us = _per_call_us(float_projection, [0], rounds * 20)
    return {
        "faq_entries": len(FAQ),
        "faq_index_build_ms": build_ms,
        "held_out_questions": sum(q.in_scope for q in held_out()),
        "held_out_out_of_scope": sum(not q.in_scope for q in held_out()),
        "tuning_questions": sum(q.in_scope for q in tuning()),
        "tuning_out_of_scope": sum(not q.in_scope for q in tuning()),
        **{f"{key}_{figure}": value for key, figures in quality.items() for figure, value in figures.items()},
        "held_out_assistant_misses": misses,
        "query_median_us": query_us,
        "reference_query_median_us": reference_query_us,
        "reading_only_median_us": read_us,
        "projection_30y_decimal_us": decimal_us,
        "projection_30y_float_reference_us": float_us,
    }
