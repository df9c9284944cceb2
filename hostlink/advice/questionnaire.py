"""The risk-tolerance questionnaire and its scoring into five risk levels C1 (conservative) … C5.

The scoring table (documented in docs/advice.md, pinned by tests): ten questions, every option worth
0–10 points, total 0–100. Bands: C1 ≤ 20, C2 21–40, C3 41–60, C4 61–80, C5 ≥ 81. Then the *caps*: some
single answers limit the level whatever the total, as suitability rules (CSRC "适当性管理办法" style) ask
— a customer who can accept no loss is C1; money needed within a year, or a horizon under a year, caps at
C2; a customer over 65 or with no investment experience caps at C3. Which caps applied is kept with the
advice record, so a supervisor can see why a high score ended on a low level.

Texts are catalogue keys (``advice.q.<id>`` and ``advice.q.<id>.<option>``), both languages in
:mod:`kiosk.catalogs.advice`. A new wording or scoring is a new :data:`QUESTIONNAIRE_VERSION`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

QUESTIONNAIRE_VERSION = "RQ-2025.1"
LEVELS: tuple[str, ...] = ("C1", "C2", "C3", "C4", "C5")
# Upper bound (inclusive) of each level's total score.
LEVEL_BANDS: tuple[tuple[str, int], ...] = (("C1", 20), ("C2", 40), ("C3", 60), ("C4", 80), ("C5", 100))


@dataclass(frozen=True)
class Option:
    id: str
    points: int


@dataclass(frozen=True)
class Question:
    id: str
    options: tuple[Option, ...]

    @property
    def text_key(self) -> str:
        return f"advice.q.{self.id}"

    def option_key(self, option_id: str) -> str:
        return f"advice.q.{self.id}.{option_id}"

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


def _q(qid: str, *options: tuple[str, int]) -> Question:
    return Question(qid, tuple(Option(o, p) for o, p in options))


QUESTIONS: tuple[Question, ...] = (
    _q("age", ("18_30", 10), ("31_45", 8), ("46_55", 6), ("56_65", 3), ("over_65", 1)),
    _q("horizon", ("under_1y", 0), ("1_3y", 4), ("3_5y", 7), ("over_5y", 10)),
    _q("income", ("none", 0), ("irregular", 3), ("stable", 7), ("growing", 10)),
    _q("share", ("over_50", 1), ("25_50", 4), ("10_25", 7), ("under_10", 10)),
    _q("experience", ("none", 0), ("deposits", 3), ("funds", 6), ("stocks", 8), ("professional", 10)),
    _q("goal", ("preserve", 0), ("income", 4), ("balanced", 7), ("growth", 10)),
    _q("loss", ("no_loss", 0), ("up_to_5", 4), ("up_to_15", 7), ("over_30", 10)),
    _q("drawdown", ("sell_all", 0), ("sell_some", 4), ("hold", 7), ("buy_more", 10)),
    _q("liquidity", ("within_1y", 0), ("1_3y", 5), ("not_needed", 10)),
    _q("knowledge", ("none", 0), ("basic", 4), ("good", 7), ("expert", 10)),
)
QUESTION_IDS: tuple[str, ...] = tuple(q.id for q in QUESTIONS)

# A single answer that limits the level: (question, option) → highest level allowed, and why.
CAPS: tuple[tuple[str, str, str, str], ...] = (
    ("loss", "no_loss", "C1", "advice.cap.no_loss"),
    ("horizon", "under_1y", "C2", "advice.cap.short_horizon"),
    ("liquidity", "within_1y", "C2", "advice.cap.liquidity"),
    ("age", "over_65", "C3", "advice.cap.age"),
    ("experience", "none", "C3", "advice.cap.no_experience"),
)

# Years the projection runs for, by the horizon answer.
HORIZON_YEARS: Mapping[str, int] = {"under_1y": 1, "1_3y": 3, "3_5y": 5, "over_5y": 10}


class AnswerError(ValueError):
    """An answer names no question or option of this questionnaire, or one is missing."""


@dataclass(frozen=True)
class Assessment:
    """The scored questionnaire: total points, the band's level, the caps that applied, the final level."""

    version: str
    answers: Mapping[str, str]
    score: int
    band_level: str
    level: str
    caps: tuple[str, ...]  # catalogue keys of the caps that lowered the level

    @property
    def level_number(self) -> int:
        return level_number(self.level)

    @property
    def horizon_years(self) -> int:
        return HORIZON_YEARS[self.answers["horizon"]]


def level_number(level: str) -> int:
    """``"C3"`` → 3 (also accepts product risk ``"R3"``)."""
    if len(level) != 2 or level[0] not in "CR" or level[1] not in "12345":
        raise ValueError(f"not a risk level: {level!r}")
    return int(level[1])


def question(qid: str) -> Question:
    for q in QUESTIONS:
        if q.id == qid:
            return q
    raise AnswerError(f"no question {qid!r}")


def band_for(score: int) -> str:
    for level, upper in LEVEL_BANDS:
        if score <= upper:
            return level
    raise AnswerError(f"score {score} is out of range")


def validate(answers: Mapping[str, str]) -> None:
    unknown = set(answers) - set(QUESTION_IDS)
    if unknown:
        raise AnswerError(f"unknown questions: {', '.join(sorted(unknown))}")
    missing = [qid for qid in QUESTION_IDS if qid not in answers]
    if missing:
        raise AnswerError(f"unanswered: {', '.join(missing)}")
    for qid, option_id in answers.items():
        if question(qid).option(option_id) is None:
            raise AnswerError(f"question {qid!r} has no option {option_id!r}")


def score(answers: Mapping[str, str]) -> Assessment:
    """Score a complete set of answers (question id → option id)."""
    validate(answers)
    total = 0
    for q in QUESTIONS:
        option = q.option(answers[q.id])
        assert option is not None
        total += option.points
    band = band_for(total)
    # Every cap below the band is named; the lowest one decides the level.
    applied = [
        (cap, reason)
        for qid, option_id, cap, reason in CAPS
        if answers[qid] == option_id and level_number(cap) < level_number(band)
    ]
    level = min((cap for cap, _ in applied), key=level_number, default=band)
    return Assessment(
        QUESTIONNAIRE_VERSION, dict(answers), total, band, level, tuple(reason for _, reason in applied)
    )
