"""The advice record on a migrated SQLite database, with the journal."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bank.advice.store import AdviceError, AdviceStore
from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from hostlink.advice.products import product
from hostlink.advice.projection import project
from hostlink.advice.questionnaire import QUESTIONS, score
from kiosk.journal import Journal

ANSWERS = dict(
    zip(
        [q.id for q in QUESTIONS],
        [
            "31_45",
            "over_5y",
            "stable",
            "10_25",
            "funds",
            "balanced",
            "up_to_15",
            "hold",
            "not_needed",
            "good",
        ],
        strict=True,
    )
)
NOW = datetime(2025, 6, 1, 2, 30, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> AdviceStore:
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    journal = Journal(tmp_path / "journal", "K1")
    return AdviceStore(engine, journal, kiosk_id="K1", clock=lambda: NOW)


def test_record_refusal_and_interest_with_cooling_off(store: AdviceStore) -> None:
    assessment = score(ANSWERS)
    record_id = store.save_assessment(
        session_id="S1",
        customer_id=42,
        assessment=assessment,
        amount_minor=5_000_000,
        projection=project(5_000_000, "C4", 10),
    )
    store.record_refusal(record_id, product("equity_fund"), "advice.refuse.above_level")
    with pytest.raises(AdviceError, match="above level"):
        store.register_interest(record_id, product("equity_fund"), acknowledged=True)
    with pytest.raises(AdviceError, match="cooling-off"):
        store.register_interest(record_id, product("index_fund"), acknowledged=False)
    registered = store.register_interest(record_id, product("index_fund"), acknowledged=True)
    assert registered.cooling_off_until == datetime(2025, 6, 2, 2, 30, tzinfo=UTC)
    plain = store.register_interest(record_id, product("bond_fund"), acknowledged=False)
    assert plain.cooling_off_until is None
    record = store.get(record_id)
    assert record is not None
    assert record["answers"] == ANSWERS and record["level"] == "C4" and record["score"] == 76
    assert [r["product"] for r in record["products_refused"]] == ["equity_fund"]
    assert [r["product"] for r in record["products_interest"]] == ["index_fund", "bond_fund"]
    assert record["created"] == NOW
    assert [r["id"] for r in store.for_customer(42)] == [record_id]
    events = [r.event for r in store._journal.records()]  # type: ignore[attr-defined]
    assert events == ["advice_assessed", "advice_refused", "advice_interest", "advice_interest"]


def test_unknown_record(store: AdviceStore) -> None:
    with pytest.raises(AdviceError):
        store.record_refusal(999, product("equity_fund"), "x")
    assert store.get(999) is None
