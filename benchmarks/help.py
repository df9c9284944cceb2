"""Help assistant: retrieval quality and latency, each next to its reference from the same run.

Quality: top-1 accuracy of BM25 on the labelled paraphrases (the set the FAQ keywords were tuned on, and
a held-out set written afterwards), next to a plain word-overlap baseline on the same questions; the share
of out-of-scope questions the confidence threshold rejects. Latency: one query through the assistant,
next to the time to tokenize the same query alone (the floor any retrieval pays). Also the wealth-advice
projection (Decimal lognormal percentiles) for a 30-year horizon, next to the same formula in floats.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from hostlink.advice.products import allocation_for
from hostlink.advice.projection import Z95, portfolio_stats, project
from kiosk.help.evaluation import HELD_OUT, PARAPHRASES, evaluate
from kiosk.help.retrieval import HelpAssistant, language_of, tokenize


def _per_call_us(fn: Any, items: list[Any], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            fn(item)
        samples.append((time.perf_counter() - start) / len(items) * 1e6)
    return round(statistics.median(samples), 2)


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 3 if quick else 15
    started = time.perf_counter()
    assistant = HelpAssistant()
    build_ms = round((time.perf_counter() - started) * 1000, 2)
    report = evaluate(assistant)
    questions = [q for q, _ in PARAPHRASES + HELD_OUT]
    query_us = _per_call_us(lambda q: assistant.search(q, 3), questions, rounds)
    tokenize_us = _per_call_us(lambda q: tokenize(q, language_of(q)), questions, rounds)

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
        "faq_index_build_ms": build_ms,
        "top1_accuracy": report["top1_accuracy"],
        "baseline_top1_accuracy": report["baseline_top1_accuracy"],
        "held_out_top1_accuracy": report["held_out_top1_accuracy"],
        "held_out_baseline_top1_accuracy": report["held_out_baseline_top1_accuracy"],
        "answered_correctly": report["answered_correctly"],
        "out_of_scope_rejected": report["out_of_scope_rejected"],
        "questions": report["questions"],
        "held_out_questions": report["held_out_questions"],
        "query_us": query_us,
        "tokenize_only_us": tokenize_us,
        "projection_30y_decimal_us": decimal_us,
        "projection_30y_float_reference_us": float_us,
    }
