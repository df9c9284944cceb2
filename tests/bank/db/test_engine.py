from pathlib import Path

import pytest
from sqlalchemy import text

from bank.db.engine import PING_AFTER_IDLE_S, DatabaseUnavailable, check_connection, make_engine
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


@pytest.mark.postgres
def test_a_connection_used_a_moment_ago_is_not_pinged_and_a_dead_idle_one_is_replaced(
    pg_database: str,
) -> None:
    """Check-out pings only a connection idle for over PING_AFTER_IDLE_S; one whose backend was killed
    while it sat in the pool is found dead by that ping and replaced, so the caller's statement runs."""
    engine = make_engine(pg_database)
    try:
        with engine.connect() as conn:
            first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            record = conn.connection._connection_record
        assert record is not None
        pings = record.info.get("pings", 0)  # the first check-out of a fresh connection has no check-in
        for _ in range(20):
            with engine.connect() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == first_pid
        assert record.info.get("pings", 0) == pings  # twenty back-to-back check-outs, no ping

        admin = make_engine(pg_database)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid})
            conn.commit()
        admin.dispose()
        record.info["checked_in"] -= PING_AFTER_IDLE_S + 1  # as if it had sat idle that long
        with engine.connect() as conn:
            second_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert second_pid != first_pid
    finally:
        engine.dispose()
