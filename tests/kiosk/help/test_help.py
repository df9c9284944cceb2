"""FAQ completeness, tokenizers, retrieval quality on the labelled set, staff alerts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bank.alerts.service import StaffAlerts
from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from kiosk.help.evaluation import HELD_OUT, OUT_OF_SCOPE, PARAPHRASES, evaluate
from kiosk.help.faq import ENTRIES, FAQ, TOPICS
from kiosk.help.retrieval import HelpAssistant, language_of, stem, tokens_en, tokens_zh
from kiosk.journal import Journal


def test_faq_has_thirty_entries_complete_in_both_languages() -> None:
    assert len(FAQ) >= 30 and len(ENTRIES) == len(FAQ)
    for entry in FAQ:
        assert entry.topic in TOPICS
        for lang in ("en", "zh_CN"):
            assert (
                entry.question[lang].strip() and entry.answer[lang].strip() and entry.keywords[lang].strip()
            )
        assert language_of(entry.question["zh_CN"]) == "zh_CN" and language_of(entry.question["en"]) == "en"
    assert {e for _, e in PARAPHRASES + HELD_OUT} <= set(ENTRIES)


def test_tokenizers() -> None:
    assert tokens_en("I forgot my cards, transferring money!") == ["forget", "card", "transfer", "money"]
    assert stem("fees") == "fee" and stem("charges") == "charg" and stem("retained") == "retain"
    assert tokens_zh("我的银行卡丢了") == ["的银", "银行", "行卡", "卡丢", "丢了"]  # "我的" is a stop bigram
    assert tokens_zh("ATM取款") == ["取款", "atm"]
    assert tokens_zh("卡") == ["卡"]


def test_retrieval_quality_on_the_labelled_sets() -> None:
    report = evaluate()
    # Measured: 92% on the tuning set, 80% held out, against 34% / 55% for word overlap.
    assert report["top1_accuracy"] >= 0.85
    assert report["held_out_top1_accuracy"] >= 0.75
    assert report["top1_accuracy"] > report["baseline_top1_accuracy"]
    assert report["held_out_top1_accuracy"] > report["held_out_baseline_top1_accuracy"]
    assert report["out_of_scope_rejected"] >= 0.8 and report["out_of_scope"] == len(OUT_OF_SCOPE)


def test_answer_or_not_sure() -> None:
    assistant = HelpAssistant()
    match = assistant.answer("I lost my bank card")
    assert match is not None and match.id == "card_lost" and match.confidence == 1.0
    assert assistant.answer("who won the football game yesterday") is None
    assert assistant.answer("今天天气怎么样") is None
    assert assistant.answer("") is None
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
