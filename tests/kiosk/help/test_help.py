"""FAQ completeness, reading questions, retrieval quality on the evaluation set, did-you-mean, staff."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bank.alerts.service import StaffAlerts
from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from kiosk.help.analysis import default_synonyms, language_of, stem
from kiosk.help.evaluation import GOALS, evaluate, held_out, sweep, tuning, verdict_of
from kiosk.help.faq import ENTRIES, FAQ, TOPICS
from kiosk.help.retrieval import (
    DECLINE_THRESHOLD,
    EVERYDAY_SHARE,
    EVIDENCE_THRESHOLD,
    UNKNOWN_WEIGHT,
    HelpAssistant,
    default_assistant,
    everyday_terms,
)
from kiosk.journal import Journal


@pytest.fixture(scope="module")
def assistant() -> HelpAssistant:
    return default_assistant()


def test_faq_is_complete_in_both_languages_and_covers_what_customers_ask() -> None:
    assert len(FAQ) >= 37 and len(ENTRIES) == len(FAQ)
    for entry in FAQ:
        assert entry.topic in TOPICS
        for lang in ("en", "zh_CN"):
            assert (
                entry.question[lang].strip() and entry.answer[lang].strip() and entry.keywords[lang].strip()
            )
        assert language_of(entry.question["zh_CN"]) == "zh_CN" and language_of(entry.question["en"]) == "en"
        assert language_of(entry.answer["zh_CN"]) == "zh_CN"
    for new in ("statement", "phone_lost", "name_change", "bereavement", "complaint", "loan", "bill_payment"):
        assert new in ENTRIES
    # What the kiosk itself does is answered as the kiosk does it, not sent to the counter.
    assert (
        "Change PIN" in ENTRIES["pin_change"].answer["en"]
        and "修改密码" in ENTRIES["pin_change"].answer["zh_CN"]
    )
    assert "Personal loan" in ENTRIES["loan"].answer["en"] and "个人贷款" in ENTRIES["loan"].answer["zh_CN"]
    assert "Sunday" in ENTRIES["hours"].answer["en"] and "周日" in ENTRIES["hours"].answer["zh_CN"]


def test_evaluation_set_has_two_disjoint_halves_in_both_languages_with_out_of_scope_questions() -> None:
    held, tuned = held_out(), tuning()
    assert not {q.text for q in held} & {q.text for q in tuned}
    for half in (held, tuned):
        assert {q.expected for q in half if q.in_scope} <= set(ENTRIES)
        for lang in ("en", "zh"):
            assert sum(q.lang == lang and q.in_scope for q in half) >= 50
            assert sum(q.lang == lang and not q.in_scope for q in half) >= 10
    # Every entry is asked for at least once in the held-out half.
    assert {q.expected for q in held if q.in_scope} == set(ENTRIES)


def test_synonyms_are_data_in_both_languages() -> None:
    synonyms = default_synonyms()
    groups_en = {g for groups in synonyms.en.values() for g in groups}
    groups_zh = {g for groups in synonyms.zh.values() for g in groups}
    assert groups_en == groups_zh and len(groups_en) >= 40
    assert synonyms.zh["吞卡"] == synonyms.zh["没收"] == synonyms.en[(stem("swallowed"),)] == {"~retain"}
    assert "~open" in synonyms.zh["开户"] & synonyms.zh["开个户"] & synonyms.zh["办卡"]
    assert synonyms.en[("max",)] == synonyms.en[("most",)] == synonyms.en[("maximum",)] == {"~limit"}


def test_reading_chinese_english_typos_and_pinyin(assistant: HelpAssistant) -> None:
    analyzer = assistant.analyzer
    swallowed = set(analyzer.terms_zh("机器吞卡")) - {"~machine"}
    assert set(analyzer.terms_zh("卡被吞了")) == swallowed == {"~card", "~retain"}
    assert analyzer.terms_zh("我想开个户") == ["~open"]
    assert "对账单" in analyzer.segmenter.lcut("我要打对账单")
    # Stems, stop words and typos: "passwrd", "acount" and "trasnfer" are read as meant; words under five
    # letters are not corrected.
    assert analyzer.terms("I forgot my passwrd", "en") == ["~forget", "~pin"]
    assert analyzer.correct("acount") == "account" and analyzer.correct("trasnfer") == "transfer"
    assert analyzer.correct("taxi") == "taxi"
    # A correction keeps the first letter: "exchange" is not two edits from "change" for a typist.
    assert analyzer.correct("exchange") == "exchange"
    # Any amount is one everyday term: 300 and 80000 are no words the FAQ lacks.
    assert analyzer.terms("send 80000", "en") == analyzer.terms("send 300", "en") == ["~transfer", "~number"]
    assert "~number" in everyday_terms()
    # 借 (borrow) and 交 (pay) stand alone as banking words but not inside 借记卡 or 交易明细.
    assert "~loan" in analyzer.terms_zh("能借钱吗") and "~loan" not in analyzer.terms_zh("借记卡丢了")
    assert "~pay" not in analyzer.terms_zh("交易明细")
    assert analyzer.terms("transferring money", "en") == ["~transfer", "money"]
    # Mixed Chinese and English meet the same groups as either language alone.
    assert set(analyzer.terms_zh("我的card丢了")) == set(analyzer.terms("I lost my card", "en"))
    # Toneless pinyin, spaced or not, reads as the Chinese it spells.
    assert analyzer.is_pinyin("ka diu le") and not analyzer.is_pinyin("lost my card")
    assert analyzer.pinyin_to_hanzi("mima wangle") == "密码忘了"


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("我想开个户", "account_open"),
        ("机器把我的卡吞了", "card_retained"),
        ("每天最多能转多少钱", "transfer_limit"),
        ("可以刷脸办业务吗", "face_login"),
        ("what happens to the picture of my face that you take", "face_privacy"),
        ("mima wangle", "pin_forgot"),
        ("personal loan please", "loan"),
        ("jie qian", "loan"),
        ("充话费", "bill_payment"),
        ("每个月自动交电费", "bill_payment"),
        ("change my pin here", "pin_change"),
        ("what time do you open", "hours"),
        ("when do you shut", "hours"),
        ("forgot my passwrd", "pin_forgot"),
    ],
)
def test_the_colloquial_questions_of_the_issue_are_answered(
    assistant: HelpAssistant, question: str, expected: str
) -> None:
    match = assistant.answer(question)
    assert match is not None and match.id == expected


def test_held_out_accuracy_did_you_mean_and_declines_meet_their_marks(assistant: HelpAssistant) -> None:
    report = evaluate(verdict_of(assistant), held_out())
    for lang in ("en", "zh"):
        assert report[lang]["top1"] >= 0.9, report[lang]
    # Measured on the enlarged held-out half (issue 25, second batch) with the setting chosen on the tuning
    # half: top-1 93.8 % EN / 90.8 % ZH; the did-you-mean list holds the right entry for 93.5 % (mark 98 %:
    # not met) and 86.1 % of the out-of-scope questions are declined (mark 90 %: not met; 77.8 % EN,
    # 94.4 % ZH). See docs/help.md.
    assert report["all"]["suggestions_hold_right"] >= 0.93
    assert report["all"]["out_of_scope_declined"] >= 0.85
    assert report["zh"]["out_of_scope_declined"] >= 0.9


def test_tuning_half_figures(assistant: HelpAssistant) -> None:
    # The third batch of tuning questions (long, with amounts, people and places) is harder than the
    # held-out half: measured 94.7 % EN / 96.6 % ZH top-1, 97.3 % did-you-mean, 88.7 % declined.
    report = evaluate(verdict_of(assistant), tuning())
    for lang in ("en", "zh"):
        assert report[lang]["top1"] >= 0.94
    assert report["all"]["suggestions_hold_right"] >= 0.97
    assert report["all"]["out_of_scope_declined"] >= 0.88


def test_unsure_offers_two_or_three_questions_and_out_of_scope_is_declined(assistant: HelpAssistant) -> None:
    reply = assistant.respond("卡插了好几次都提示错误")
    assert reply.kind == "did_you_mean" and 2 <= len(reply.matches) <= 3
    assert reply.matches[0].id == "card_not_read"
    assert assistant.answer("卡插了好几次都提示错误") is None
    reply = assistant.respond("what number should I never tell anyone")
    assert reply.kind == "did_you_mean" and "pin_safety" in [m.id for m in reply.matches]
    questions = (
        "who won the football game yesterday",
        "今天天气怎么样",
        "book me a taxi",
        "",
        "what is the time",
    )
    for question in questions:
        reply = assistant.respond(question)
        assert reply.kind == "decline" and reply.matches == () and assistant.answer(question) is None


def test_everyday_words_are_no_evidence_that_a_question_is_about_the_bank(assistant: HelpAssistant) -> None:
    assert "~when" in everyday_terms()
    assert "~when" in assistant.analyzer.terms("what is the time", "en")
    assert assistant.respond("what is the time").kind == "decline"
    hours = assistant.respond("what time does the counter close")
    assert hours.kind == "answer" and hours.matches[0].id == "hours"


def test_shipped_weights_and_decline_threshold_are_the_best_setting_on_the_tuning_half() -> None:
    assistant = HelpAssistant()
    settings = sweep(assistant, tuning())
    best = settings[0]
    shipped = (DECLINE_THRESHOLD, EVIDENCE_THRESHOLD, EVERYDAY_SHARE, UNKNOWN_WEIGHT)
    assert (
        best.decline_threshold,
        best.evidence_threshold,
        best.everyday_share,
        best.unknown_weight,
    ) == shipped
    assert set(best.figures) == set(GOALS) and best.margin == max(s.margin for s in settings)
    # The evidence threshold earns its place: the best setting without it does worse on the tuning half.
    assert best.margin > max(s.margin for s in settings if s.evidence_threshold == float("inf"))
    # The sweep leaves the assistant as it was.
    assert assistant.indexes["en"].everyday_share == EVERYDAY_SHARE
    # A threshold that declines everything misses the marks: the sweep does measure.
    assert settings[-1].margin < 0


def test_answer_with_runners_up(assistant: HelpAssistant) -> None:
    reply = assistant.respond("I lost my bank card")
    assert reply.kind == "answer" and reply.matches[0].id == "card_lost"
    assert reply.matches[0].confidence == 1.0 and len(reply.matches) == 3
    chinese = assistant.answer("吞卡了怎么办")
    assert chinese is not None and chinese.id == "card_retained"


NOW = datetime(2025, 6, 1, 2, 30, tzinfo=UTC)


@pytest.fixture
def alerts(tmp_path: Path) -> StaffAlerts:
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    return StaffAlerts(engine, Journal(tmp_path / "journal", "K1"), "K1", clock=lambda: NOW)


def test_staff_alerts_raise_once_per_session_list_and_acknowledge(alerts: StaffAlerts) -> None:
    heard: list[int] = []
    alerts.subscribe(lambda alert: heard.append(alert.id))
    first = alerts.raise_alert("call_staff", "K1", "S1", lang="zh_CN", topic="pin_forgot")
    again = alerts.raise_alert("call_staff", "K1", "S1")
    other = alerts.raise_alert("call_staff", None, "S2")
    assert again.id == first.id and heard == [first.id, other.id]
    assert [a.id for a in alerts.pending()] == [first.id, other.id]
    assert other.kiosk_id == "K1" and first.lang == "zh_CN" and first.raised_at == NOW
    taken = alerts.acknowledge(first.id, by="tech1")
    assert taken.status == "acknowledged" and taken.handled_by == "tech1"
    assert [a.id for a in alerts.pending()] == [other.id]
    assert alerts.resolve(other.id, by="sup1").status == "resolved"
    assert alerts.pending() == []
    # After the first was handled, the same session may call again.
    assert alerts.raise_alert("call_staff", "K1", "S1").id not in (first.id, other.id)
    with pytest.raises(ValueError):
        alerts.raise_alert("pizza", "K1", "S1")
    with pytest.raises(KeyError):
        alerts.acknowledge(999, by="tech1")
