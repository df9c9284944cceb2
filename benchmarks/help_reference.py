"""The help assistant as it was before issue 25, kept for the benchmark only: the reference figure.

BM25 of our own on English word tokens (light suffix stemming) and Chinese character bigrams, with the
IDF-weighted coverage of the query as its confidence (threshold 0.3): a confident match is answered,
anything else gets "not sure". ``benchmarks/help.py`` measures it on the same evaluation set, over the same
FAQ, in the same run as the assistant in :mod:`kiosk.help.retrieval`. Not used by the kiosk.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kiosk.help.faq import FAQ, FaqEntry

K1 = 1.5
B = 0.75
CONFIDENCE_THRESHOLD = 0.3

_WORD = re.compile(r"[a-z0-9]+")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_ASCII_IN_ZH = re.compile(r"[A-Za-z0-9]+")

EN_STOP = frozenset(
    """a an the i me my mine we our you your it its is are was were be been am do does did doing can could
    should would will shall may might must have has had to of in on at for from by with about into and or
    but if so not no this that these there here what which who whom how why when where please want need
    get got help some any there's i'm don't""".split()  # noqa: SIM905 (a readable word list)
)
ZH_STOP = frozenset(
    {
        "怎么",
        "什么",
        "如何",
        "请问",
        "可以",
        "我的",
        "我们",
        "你们",
        "这个",
        "那个",
        "一下",
        "是否",
        "怎样",
        "么办",
        "怎么办",
        "多少",
        "是多",
    }
)
# Irregular forms the suffix rules do not reach.
EN_LEMMAS = {
    "lost": "lose",
    "forgot": "forget",
    "forgotten": "forget",
    "kept": "keep",
    "took": "take",
    "stolen": "steal",
    "sent": "send",
    "paid": "pay",
    "withdrew": "withdraw",
    "ate": "eat",
    "eaten": "eat",
    "swallowed": "swallow",
    "older": "old",
    "elderly": "old",
}


def stem(word: str) -> str:
    word = EN_LEMMAS.get(word, word)
    for suffix, replacement, keep in (
        ("ies", "y", 3),
        ("ing", "", 4),
        ("ed", "", 4),
        ("es", "", 4),
        ("s", "", 3),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            word = word[: -len(suffix)] + replacement
            break
    # "transferr(ed)" / "stopp(ed)": a doubled consonant left by the suffix.
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


def tokens_en(text: str) -> list[str]:
    words = _WORD.findall(text.lower().replace("’", "'").replace("'", ""))
    return [stem(w) for w in words if w not in EN_STOP]


def tokens_zh(text: str) -> list[str]:
    found: list[str] = []
    for run in _HAN.findall(text):
        if len(run) == 1:
            found.append(run)
            continue
        found.extend(run[i : i + 2] for i in range(len(run) - 1))
    found.extend(stem(w.lower()) for w in _ASCII_IN_ZH.findall(text) if w.lower() not in EN_STOP)
    return [t for t in found if t not in ZH_STOP]


def language_of(text: str) -> str:
    """``zh_CN`` when the text has any hanzi, else ``en``."""
    return "zh_CN" if _HAN.search(text) else "en"


def tokenize(text: str, lang: str) -> list[str]:
    return tokens_zh(text) if lang == "zh_CN" else tokens_en(text)


@dataclass(frozen=True)
class Match:
    entry: FaqEntry
    score: float  # BM25; only for ordering
    confidence: float  # 0 … 1, see the module docstring

    @property
    def id(self) -> str:
        return self.entry.id


class Bm25Index:
    """One language's index over the FAQ."""

    def __init__(self, entries: Sequence[FaqEntry], lang: str) -> None:
        self.lang = lang
        self.entries = tuple(entries)
        self.docs: list[Counter[str]] = []
        for entry in self.entries:
            question = entry.question[lang]
            text = " ".join((question, question, entry.keywords[lang], entry.answer[lang]))
            self.docs.append(Counter(tokenize(text, lang)))
        self.lengths = [sum(doc.values()) for doc in self.docs]
        self.average_length = sum(self.lengths) / max(1, len(self.lengths))
        frequency: Counter[str] = Counter()
        for doc in self.docs:
            frequency.update(doc.keys())
        n = len(self.docs)
        self.idf = {term: math.log(1 + (n - df + 0.5) / (df + 0.5)) for term, df in frequency.items()}
        self.max_idf = max(self.idf.values(), default=1.0)

    def _score(self, query: Iterable[str], index: int) -> float:
        doc, length = self.docs[index], self.lengths[index]
        total = 0.0
        for term in query:
            tf = doc.get(term, 0)
            if not tf:
                continue
            norm = K1 * (1 - B + B * length / self.average_length)
            total += self.idf[term] * tf * (K1 + 1) / (tf + norm)
        return total

    def _confidence(self, query: Sequence[str], index: int) -> float:
        unique = set(query)
        if not unique:
            return 0.0
        weight = {term: self.idf.get(term, self.max_idf) for term in unique}
        found = sum(w for term, w in weight.items() if term in self.docs[index])
        return found / sum(weight.values())

    def search(self, text: str, limit: int = 3) -> list[Match]:
        query = tokenize(text, self.lang)
        if not query:
            return []
        scored = [(self._score(query, i), i) for i in range(len(self.docs))]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [
            Match(self.entries[i], score, self._confidence(query, i))
            for score, i in scored[:limit]
            if score > 0
        ]


class ReferenceAssistant:
    """Answers a free-text question in either language; ``answer`` is None when it is not sure."""

    def __init__(self, entries: Sequence[FaqEntry] = FAQ, threshold: float = CONFIDENCE_THRESHOLD) -> None:
        self.threshold = threshold
        self.indexes = {lang: Bm25Index(entries, lang) for lang in ("en", "zh_CN")}

    def search(self, text: str, limit: int = 3) -> list[Match]:
        return self.indexes[language_of(text)].search(text, limit)

    def answer(self, text: str) -> Match | None:
        matches = self.search(text, 1)
        if matches and matches[0].confidence >= self.threshold:
            return matches[0]
        return None
