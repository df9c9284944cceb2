"""Every moment a bank table stores goes through the one ``UtcDateTime`` column type."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, create_engine, insert, select
from sqlalchemy.exc import StatementError
from sqlalchemy.types import TypeDecorator

from bank.db.base import Base, UtcDateTime
from bank.db.registry import import_all_models


def stores_a_moment(column_type: object) -> bool:
    if isinstance(column_type, TypeDecorator):
        return isinstance(column_type.impl, DateTime)
    return isinstance(column_type, DateTime)


def test_every_datetime_column_is_the_one_utc_type() -> None:
    import_all_models()
    others = [
        f"{table.name}.{column.name}: {type(column.type).__module__}.{type(column.type).__qualname__}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if stores_a_moment(column.type) and type(column.type) is not UtcDateTime
    ]
    assert others == []


def test_a_moment_comes_back_aware_in_utc_and_a_naive_one_is_refused() -> None:
    metadata = MetaData()
    moments = Table("moments", metadata, Column("id", Integer, primary_key=True), Column("at", UtcDateTime))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    shanghai = datetime(2026, 3, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))
    with engine.begin() as conn:
        conn.execute(insert(moments).values(id=1, at=shanghai))
        stored = conn.execute(select(moments.c.at)).scalar_one()
        assert stored == datetime(2026, 3, 1, 0, 30, tzinfo=UTC)
        assert stored.tzinfo is UTC
        with pytest.raises(StatementError, match="naive datetime"):
            conn.execute(insert(moments).values(id=2, at=datetime(2026, 3, 1, 8, 30)))
