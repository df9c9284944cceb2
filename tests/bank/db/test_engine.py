from pathlib import Path

import pytest
from sqlalchemy import text

from bank.db.engine import DatabaseUnavailable, check_connection, make_engine
from bank.db.migrate import current_heads, is_up_to_date, upgrade


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'bank.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_migrations_reach_every_head_and_are_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    assert not is_up_to_date(engine)
    upgrade(engine)
    assert is_up_to_date(engine)
    heads = current_heads(engine)
    upgrade(engine)
    assert current_heads(engine) == heads
    with engine.connect() as conn:
        tables = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    assert {"kiosk_meta", "alembic_version"} <= tables
    engine.dispose()


def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from bank.db.base import Base
    from bank.db.registry import import_all_models

    assert {"bank.db.models", "bank.models", "bank.security.models"} <= set(import_all_models())
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://kiosk@127.0.0.1:1/bank",
        "sqlite:////proc/no-such-dir/x.db",
        "sqlite:////tmp/\0/x.db",
        "mysql://x@y/z",
        "not a url",
    ],
)
def test_unreachable_or_bad_database_is_one_clear_error(url: str) -> None:
    with pytest.raises(DatabaseUnavailable) as err:
        check_connection(make_engine(url))
    assert "\n" not in str(err.value)
