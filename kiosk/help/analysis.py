"""How the help assistant reads a question: words, synonyms, typos and pinyin, in both languages.

A question becomes a list of *terms*, the same way for the FAQ and for what a customer types:

* Chinese is cut into words by jieba, with the banking words of ``data/synonyms.tsv`` and
  ``data/bank_words.txt`` in its dictionary so that 吞卡, 开个户 or 对账单 come out whole. A word of two
  or more characters also yields the groups of its one-character banking words (卡, 吞, 丢 …), so that
  卡被机器吃了 and 吞卡 meet even when the segmenter cuts them differently.
* English is lower-cased, split into words, stripped of stop words and stemmed (Snowball). A word the
  FAQ and the synonyms do not know is corrected to the nearest known word when one is close enough
  (one edit for five to seven letters, two from eight; a swap of two letters is one edit; the first
  letter is kept, as typists rarely miss it), so ``pinn``, ``acount`` and ``trasnfer`` are read as meant
  while ``exchange`` does not become ``change``. Short words are never corrected.
* Every word or phrase of a synonym group is replaced by the group's name (``~lose``), the same name in
  both languages, so a question that mixes them (我的card丢了) meets the same entries.
* Toneless pinyin (``ka diu le``, ``kaihu``) is turned back into the Chinese words of the FAQ and the
  synonyms that it spells, longest first; a syllable that spells none of them stays an unknown term.

The data files sit beside this module and are read through :mod:`importlib.resources`.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

with warnings.catch_warnings():  # jieba 0.42 imports pkg_resources, which warns that it is deprecated
    warnings.simplefilter("ignore")
    import jieba  # type: ignore[import-untyped]
import Stemmer  # type: ignore[import-not-found]
from pypinyin import lazy_pinyin
from rapidfuzz import process
from rapidfuzz.distance import OSA

from kiosk.help.pinyin_terms import HELP_PHRASES

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_PIECES = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+|[a-z0-9]+")
_WORD = re.compile(r"[a-z0-9]+")
_MAX_PHRASE = 4
GROUP_PREFIX = "~"
NUMBER_TERM = GROUP_PREFIX + "number"
# One-character banking words that mean something else inside everyday words (好吃, 开心, 打车, 收到, 死机,
# 客户, 借记卡, 交易, 充电, 插座): read as a group only when they stand alone.
_NOT_INSIDE = frozenset("吃开打到死户借交充插")

EN_STOP = frozenset(
    """a an the i me my mine we our you your it its is are was were be been am do does did doing can could
    should would will shall may might must have has had to of in on at for from by with about into and or
    but if so not no this that these there here what which who whom how why where please want need
    get got help some any just now still there's i'm dont im ive i've it's its it'd let us ok okay hi
    hello sorry thanks thank think like come came up out somewhere something he she they him her them
    his hers their says say said
    want wants wanted made make makes cannot cant well really also very much many one""".split()  # noqa: SIM905 (a readable word list)
)
ZH_STOP = frozenset(
    """的 了 吗 呢 吧 啊 呀 我 你 您 他 她 它 是 在 有 和 与 就 都 也 还 又 要 想 能 会 可以 可不可以 能不能
    怎么 怎么办 怎样 如何 什么 请问 请 我的 我们 你们 这个 那个 一下 是否 咋 咋办 咋整 哪 哪里 哪儿 哪些
    为什么 多少 把 被 让 给 帮 帮我 一个 个 张 里 里面 这里 这 那 该 应该 需要 得 着 过 么 嘛 啦 哦 喔 不
    没 没有 有没有 我能 我要 完 出 一直 出来 不会 会不会 是不是 对 点 一点 现在 已经 自己 还是 或者
    如果 然后 知道 问 一些 下 怎么样 行不行 好不好""".split()  # noqa: SIM905
)


def _data(name: str) -> str:
    return resources.files("kiosk.help").joinpath("data", name).read_text(encoding="utf-8")


def _rows(name: str) -> list[list[str]]:
    return [
        line.split("\t") for line in _data(name).splitlines() if line.strip() and not line.startswith("#")
    ]


_stemmer: Any = Stemmer.Stemmer("english")


def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


def _en_words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("’", "'").replace("'", ""))


def has_hanzi(text: str) -> bool:
    return _HAN.search(text) is not None


def language_of(text: str) -> str:
    """``zh_CN`` when the text has any hanzi, else ``en`` (pinyin is told apart by :class:`Analyzer`)."""
    return "zh_CN" if has_hanzi(text) else "en"


class Synonyms:
    """``data/synonyms.tsv``: English phrases (as stem tuples) and Chinese words → group names."""

    def __init__(self, rows: Iterable[Sequence[str]]) -> None:
        self.en: dict[tuple[str, ...], set[str]] = defaultdict(set)
        self.zh: dict[str, set[str]] = defaultdict(set)
        self.en_words: set[str] = set()  # the raw English words, for typo correction
        for row in rows:
            group, english, chinese = row[0].strip(), row[1], row[2]
            name = GROUP_PREFIX + group
            for phrase in english.split(","):
                words = _en_words(phrase)
                if words:
                    self.en[tuple(stem(w) for w in words)].add(name)
                    self.en_words.update(words)
            for word in chinese.split(","):
                word = word.strip().lower()
                if word:
                    self.zh[word].add(name)

    @property
    def chinese_words(self) -> list[str]:
        return [w for w in self.zh if has_hanzi(w)]


@cache
def default_synonyms() -> Synonyms:
    return Synonyms(_rows("synonyms.tsv"))


@cache
def pinyin_syllables() -> frozenset[str]:
    lines = [line for line in _data("pinyin_syllables.txt").splitlines() if not line.startswith("#")]
    return frozenset(" ".join(lines).split()) | {"lv", "nv", "lve", "nve"}


@cache
def _segmenter() -> Any:
    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in default_synonyms().chinese_words:
        tokenizer.add_word(word)
    for row in _rows("bank_words.txt"):
        word = row[0].strip()
        if word.startswith("-"):
            tokenizer.del_word(word[1:])
        else:
            tokenizer.add_word(word)
    tokenizer.initialize()
    return tokenizer


class Analyzer:
    """Turns text into terms; knows the vocabulary of the FAQ it indexes (for typos and pinyin)."""

    def __init__(self, faq_texts: Mapping[str, Iterable[str]], synonyms: Synonyms | None = None) -> None:
        self.synonyms = synonyms or default_synonyms()
        self.segmenter = _segmenter()
        known = set(self.synonyms.en_words) | set(EN_STOP)
        chinese: set[str] = set(self.synonyms.chinese_words) | set(ZH_STOP)
        for text in faq_texts.get("en", ()):
            known.update(_en_words(text))
        for text in faq_texts.get("zh_CN", ()):
            chinese.update(w for w in self.segmenter.lcut(text) if has_hanzi(w))
            known.update(_en_words(text))
        self.known_en = sorted(known)
        self._known_en_set = frozenset(known)
        by_initial: dict[str, list[str]] = defaultdict(list)
        for word in self.known_en:
            by_initial[word[0]].append(word)
        self._known_by_initial = dict(by_initial)
        # Pinyin spelling → Chinese word; the synonyms and the keyboard's banking words win a tie.
        self.pinyin: dict[str, str] = {}
        preferred = [p for phrases in HELP_PHRASES.values() for p in phrases] + self.synonyms.chinese_words
        for word in preferred + sorted(chinese, key=lambda w: (-len(w), w)):
            self.pinyin.setdefault("".join(lazy_pinyin(word)), word)
        self._longest_pinyin = max(map(len, self.pinyin), default=1)

    # -- English ------------------------------------------------------------------------------------
    def correct(self, word: str) -> str:
        """The nearest known word when ``word`` is unknown and one is close enough, else ``word``."""
        if word in self._known_en_set or len(word) < 5 or word.isdigit():
            return word
        limit = 1 if len(word) < 8 else 2
        same_start = self._known_by_initial.get(word[0], ())
        found = process.extractOne(word, same_start, scorer=OSA.distance, score_cutoff=limit)
        return str(found[0]) if found is not None else word

    def terms_en(self, words: Sequence[str]) -> list[str]:
        words = [self.correct(w) for w in words]  # a stop word is told by its corrected spelling (whats)
        stems = [stem(w) for w in words]
        out: list[str] = []
        i = 0
        while i < len(stems):
            for n in range(min(_MAX_PHRASE, len(stems) - i), 0, -1):
                groups = self.synonyms.en.get(tuple(stems[i : i + n]))
                if groups and (n > 1 or words[i] not in EN_STOP):
                    out.extend(sorted(groups))
                    i += n
                    break
            else:
                if words[i].isdigit():  # an amount, a date, a count: one term whatever the digits
                    out.append(NUMBER_TERM)
                elif words[i] not in EN_STOP and len(words[i]) > 1:
                    out.append(stems[i])
                i += 1
        return out

    # -- Chinese ------------------------------------------------------------------------------------
    def _terms_zh_word(self, word: str) -> list[str]:
        zh = self.synonyms.zh
        if word in ZH_STOP:
            return []
        found = sorted(zh[word]) if word in zh else []
        if len(word) > 1:
            for char in word:
                if char in zh and char not in _NOT_INSIDE:
                    found.extend(g for g in sorted(zh[char]) if g not in found)
        # A word outside the synonyms stays itself unless its banking characters already say it (卡里).
        return found or [word]

    def terms_zh(self, text: str) -> list[str]:
        out: list[str] = []
        for piece in _PIECES.findall(text.lower()):
            if has_hanzi(piece):
                for word in self.segmenter.lcut(piece, HMM=True):
                    out.extend(self._terms_zh_word(word))
            elif piece in self.synonyms.zh:  # "atm", "sms" written inside Chinese
                out.extend(sorted(self.synonyms.zh[piece]))
            else:
                out.extend(self.terms_en([piece]))
        return out

    # -- pinyin -------------------------------------------------------------------------------------
    def is_pinyin(self, text: str) -> bool:
        """Every word is a run of toneless pinyin syllables (English words almost never are)."""
        words = _en_words(text)
        return bool(words) and all(self._syllables(w) is not None for w in words)

    @staticmethod
    def _syllables(word: str) -> list[str] | None:
        syllables = pinyin_syllables()
        # Fewest syllables first: dynamic programming over the word.
        best: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(1, len(word) + 1):
            for start in range(max(0, end - 6), end):
                head = best[start]
                if head is not None and word[start:end] in syllables:
                    option = [*head, word[start:end]]
                    current = best[end]
                    if current is None or len(option) < len(current):
                        best[end] = option
        return best[len(word)]

    def pinyin_to_hanzi(self, text: str) -> str:
        """The Chinese words the pinyin spells (longest match first); unknown syllables kept as they are."""
        letters = "".join(_en_words(text))
        words: list[str] = []
        i = 0
        while i < len(letters):
            for end in range(min(len(letters), i + self._longest_pinyin), i, -1):
                word = self.pinyin.get(letters[i:end])
                if word is not None and self._syllables(letters[i:end]) is not None:
                    words.append(word)
                    i = end
                    break
            else:
                syllable = next(
                    (
                        letters[i:e]
                        for e in range(min(len(letters), i + 6), i, -1)
                        if letters[i:e] in pinyin_syllables()
                    ),
                    letters[i],
                )
                words.append(" py" + syllable + " ")
                i += len(syllable)
        return "".join(words)

    # -- either -------------------------------------------------------------------------------------
    def terms(self, text: str, lang: str) -> list[str]:
        if lang == "zh_CN":
            return self.terms_zh(text)
        return self.terms_en(_en_words(text))
