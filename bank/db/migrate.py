"""Alembic, driven from code: `smart-teller host db upgrade` and the automatic upgrade on first start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    command.upgrade(alembic_config(engine), revision)


def current_heads(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def is_up_to_date(engine: Engine) -> bool:
    script = ScriptDirectory.from_config(alembic_config(engine))
    return current_heads(engine) == set(script.get_heads())


def missing_bank(url: str) -> str:
    """Why ``url`` holds no bank ("" when it does): no database file there, or a database never migrated.

    Connecting to a SQLite path creates the file, so the path is looked at first: a check must not make
    the database it was asked to check.
    """
    from bank.db.engine import check_connection, make_engine

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ":memory:"
        if database == ":memory:":
            return "an in-memory database holds no bank"
        if not Path(database).is_file():
            return f"no database file at {database}"
    engine = make_engine(url)
    try:
        check_connection(engine)
        if not current_heads(engine):
            return f"database {engine.url.render_as_string()} holds no bank (it was never migrated)"
    finally:
        engine.dispose()
    return ""
