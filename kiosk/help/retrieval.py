"""Offline retrieval over the FAQ: BM25 (bm25s) over the terms of :mod:`kiosk.help.analysis`.

Each FAQ entry is one document per language: its question twice (the question is what a customer's
words resemble most), its extra keywords and its answer, all read as terms (jieba words, Snowball stems,
synonym groups). A question is read the same way; a question written in pinyin is read as the Chinese it
spells (and as English too, the better reading winning, since a few English words are also pinyin).

A ranking always has a best entry, so the assistant also needs to know when it does not know. Each term
of the question weighs its IDF (a word only the answers use, its IDF over the whole entries; a word the
FAQ never uses, :data:`UNKNOWN_WEIGHT` times the rarest known one; an *everyday* term of
``data/everyday_words.txt`` such as the time, the day or a number, :data:`EVERYDAY_SHARE` of its IDF).
The *evidence* of a match is the weight of the question's terms the entry's question and keywords hold;
its *confidence* is that evidence as a share of the whole question's weight. So "what is the time" has
no evidence for the hours entry (ranking still weighs everyday terms fully: "when do you close" is about
the hours, not closing an account), and a long question full of words the FAQ never uses ("my card fell
out of my pocket on the bus") has a low confidence but still the evidence of card and lost.

The assistant replies in one of three ways:

* ``decline``: confidence below :data:`DECLINE_THRESHOLD` *and* evidence below
  :data:`EVIDENCE_THRESHOLD` (the question shares hardly anything with the FAQ: the weather, a taxi):
  the polite "not sure" and the staff button, no suggestions;
* ``answer``: otherwise, confidence at least :data:`ANSWER_THRESHOLD`: the best entry is shown;
* ``did_you_mean``: otherwise: the closest two or three questions are offered to choose from.

The decline thresholds and the weights are the best setting of :func:`kiosk.help.evaluation.sweep` on
the tuning half of the evaluation set; the held-out half is never tuned on.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import bm25s  # type: ignore[import-untyped]

from kiosk.help.analysis import Analyzer, has_hanzi, language_of
from kiosk.help.faq import FAQ, FaqEntry

__all__ = ["HelpAssistant", "Match", "Reply", "default_assistant", "language_of"]

K1 = 1.5
B = 0.75
QUESTION_REPEAT = 2  # the question counts twice in its document
KEYWORD_REPEAT = 1
UNKNOWN_WEIGHT = 2.0  # a term the FAQ never uses weighs this share of the rarest known term's IDF
EVERYDAY_SHARE = 0.0  # an everyday term weighs this share of its IDF
CONFIDENCE_WEIGHT = 0.25  # ranking: BM25 × (this + confidence)
ANSWER_THRESHOLD = 0.5
DECLINE_THRESHOLD = 0.3
EVIDENCE_THRESHOLD = 4.0  # a match with this much evidence is never declined, whatever its confidence
SUGGESTIONS = 3
# Kept for callers that know one threshold: the confidence needed to answer outright.
CONFIDENCE_THRESHOLD = ANSWER_THRESHOLD

ReplyKind = Literal["answer", "did_you_mean", "decline"]


@dataclass(frozen=True)
class Match:
    entry: FaqEntry
    score: float  # BM25; only for ordering
    confidence: float  # 0 … 1, see the module docstring
    evidence: float = 0.0  # the weight of the question's terms the entry holds

    @property
    def id(self) -> str:
        return self.entry.id


@dataclass(frozen=True)
class Reply:
    kind: ReplyKind
    matches: tuple[Match, ...]  # the answer and its runners-up, or the suggestions; empty when declined

    @property
    def best(self) -> Match | None:
        return self.matches[0] if self.matches else None


@cache
def everyday_terms() -> frozenset[str]:
    """``data/everyday_words.txt``: terms (group names or words as the analyzer gives them), one a line."""
    text = resources.files("kiosk.help").joinpath("data", "everyday_words.txt").read_text(encoding="utf-8")
    return frozenset(line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip())


def entry_text(entry: FaqEntry, lang: str, answer: bool = True) -> str:
    parts = [entry.question[lang]] * QUESTION_REPEAT + [entry.keywords[lang]] * KEYWORD_REPEAT
    return " ".join(parts + ([entry.answer[lang]] if answer else []))


class FaqIndex:
    """One language's BM25 index over the FAQ."""

    def __init__(
        self,
        entries: Sequence[FaqEntry],
        lang: str,
        analyzer: Analyzer,
        everyday_share: float = EVERYDAY_SHARE,
        unknown_weight: float = UNKNOWN_WEIGHT,
    ) -> None:
        self.lang = lang
        self.everyday_share = everyday_share
        self.unknown_weight = unknown_weight
        self.everyday = everyday_terms()
        self.entries = tuple(entries)
        self.docs = [analyzer.terms(entry_text(entry, lang), lang) for entry in self.entries]
        self.retriever: Any = bm25s.BM25(k1=K1, b=B, method="lucene")
        self.retriever.index(self.docs, show_progress=False)
        # Confidence looks at the question and the keywords only: a long answer holds many everyday
        # words (走, "one", "say") that would make an unrelated question look covered.
        self.doc_terms = [frozenset(analyzer.terms(entry_text(e, lang, answer=False), lang)) for e in entries]
        frequency: Counter[str] = Counter()
        for terms in self.doc_terms:
            frequency.update(terms)
        n = len(self.docs)
        self.idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}
        self.max_idf = max(self.idf.values(), default=1.0)
        # A word only the answers use (bank, branch, service) is still a word of the bank's: it weighs
        # its IDF over the whole entries, not as much as a word the FAQ never uses (the weather, euros).
        answer_frequency: Counter[str] = Counter()
        for doc in self.docs:
            answer_frequency.update(set(doc) - frequency.keys())
        self.answer_idf = {
            term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in answer_frequency.items()
        }

    def evidence(
        self, query: Sequence[str], index: int, everyday_share: float | None = None
    ) -> tuple[float, float]:
        """(the weight of the question's terms the entry holds, the question's whole weight); an everyday
        term weighs ``everyday_share`` of its IDF (the index's own share by default, 1.0: fully)."""
        share = self.everyday_share if everyday_share is None else everyday_share
        unknown = self.max_idf * self.unknown_weight
        weight = {
            term: self.idf.get(term, self.answer_idf.get(term, unknown))
            * (share if term in self.everyday else 1.0)
            for term in set(query)
        }
        found = sum(w for term, w in weight.items() if term in self.doc_terms[index])
        return found, sum(weight.values())

    def confidence(self, query: Sequence[str], index: int, everyday_share: float | None = None) -> float:
        found, total = self.evidence(query, index, everyday_share)
        return found / total if total else 0.0  # nothing but everyday words: no confidence

    def match(self, query: Sequence[str], index: int, score: float) -> Match:
        found, total = self.evidence(query, index)
        return Match(self.entries[index], score, found / total if total else 0.0, found)

    def search(self, query: Sequence[str], limit: int) -> list[Match]:
        if not query:
            return []
        scores = self.retriever.get_scores(list(query))
        ranked = [
            (-float(scores[i]) * (CONFIDENCE_WEIGHT + self.confidence(query, i, 1.0)), i)
            for i in range(len(self.entries))
            if scores[i] > 0
        ]
        # BM25 orders; the share of the question an entry holds tempers it, so an entry that holds all
        # of the question beats one that holds its commonest word many times. Here an everyday word
        # counts fully (the time points at the hours); only the confidence discounts it.
        ranked.sort()
        return [self.match(query, i, float(scores[i])) for _, i in ranked[:limit]]


class HelpAssistant:
    """Answers a free-text question in either language, offers suggestions, or declines."""

    def __init__(
        self,
        entries: Sequence[FaqEntry] = FAQ,
        threshold: float = ANSWER_THRESHOLD,
        decline_threshold: float = DECLINE_THRESHOLD,
        everyday_share: float = EVERYDAY_SHARE,
        unknown_weight: float = UNKNOWN_WEIGHT,
        evidence_threshold: float = EVIDENCE_THRESHOLD,
    ) -> None:
        self.threshold = threshold
        self.decline_threshold = decline_threshold
        self.evidence_threshold = evidence_threshold
        texts = {lang: [entry_text(e, lang) for e in entries] for lang in ("en", "zh_CN")}
        self.analyzer = Analyzer(texts)
        self.indexes = {
            lang: FaqIndex(entries, lang, self.analyzer, everyday_share, unknown_weight)
            for lang in ("en", "zh_CN")
        }

    def set_weights(self, everyday_share: float, unknown_weight: float) -> None:
        """Change how the confidence weighs everyday and unknown terms (for the threshold sweep)."""
        for index in self.indexes.values():
            index.everyday_share, index.unknown_weight = everyday_share, unknown_weight

    def readings(self, text: str) -> list[tuple[str, list[str]]]:
        """The ways to read the question: (index language, terms)."""
        if has_hanzi(text):
            return [("zh_CN", self.analyzer.terms_zh(text))]
        english = ("en", self.analyzer.terms(text, "en"))
        if self.analyzer.is_pinyin(text):
            return [english, ("zh_CN", self.analyzer.terms_zh(self.analyzer.pinyin_to_hanzi(text)))]
        return [english]

    def search(self, text: str, limit: int = SUGGESTIONS) -> list[Match]:
        best: list[Match] = []
        for lang, terms in self.readings(text):
            found = self.indexes[lang].search(terms, limit)
            if found and (not best or found[0].confidence > best[0].confidence):
                best = found
        return best

    def respond(self, text: str) -> Reply:
        matches = self.search(text, SUGGESTIONS)
        if not matches or self.declines(matches[0]):
            return Reply("decline", ())
        if matches[0].confidence >= self.threshold:
            return Reply("answer", tuple(matches))
        return Reply("did_you_mean", tuple(matches))

    def declines(self, best: Match) -> bool:
        return best.confidence < self.decline_threshold and best.evidence < self.evidence_threshold

    def answer(self, text: str) -> Match | None:
        """The confident match, or None (then :meth:`respond` tells suggestions from a decline)."""
        reply = self.respond(text)
        return reply.best if reply.kind == "answer" else None


_default: HelpAssistant | None = None


def default_assistant() -> HelpAssistant:
    """The shared index over the built-in FAQ (built once)."""
    global _default
    if _default is None:
        _default = HelpAssistant()
    return _default
