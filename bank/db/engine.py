"""Engine factory: SQLite (WAL, synchronous=FULL, foreign keys) by default, PostgreSQL by URL."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.orm import Session, sessionmaker


class DatabaseUnavailable(Exception):
    """The database URL is malformed or the server cannot be reached (one-line message)."""


def make_engine(url: str, *, echo: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable(f"bad database URL {url!r}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, echo=echo)
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(parsed, echo=echo, isolation_level="READ COMMITTED")
        _ping_after_idle(engine)
        return engine
    raise DatabaseUnavailable(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


# A pooled connection idle for longer than this is pinged before use: a PostgreSQL restart or a dropped
# link is noticed (and the connection replaced) then. One used a moment ago is not: pinging every check-out
# (pool_pre_ping) cost a round trip on each of the ~9 look-ups of a card transaction (docs/bench.md), and a
# connection that died within the last second fails its statement, which the callers already treat as a
# lost database (the ledger retries its posting; a card request is answered 96 and reversed).
PING_AFTER_IDLE_S = 1.0


def _ping_after_idle(engine: Engine, idle_s: float = PING_AFTER_IDLE_S) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["checked_in"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        last = record.info.get("checked_in")
        if last is not None and time.monotonic() - last < idle_s:
            return
        record.info["pings"] = record.info.get("pings", 0) + 1
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the DBAPI's own error: the connection is gone
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc
        if not alive:
            raise DisconnectionError("stale pooled connection")


def _sqlite_engine(url: str, database: str | None, *, echo: bool) -> Engine:
    if database and database != ":memory:":
        try:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        except (OSError, ValueError) as exc:
            raise DatabaseUnavailable(f"cannot create the database folder for {database!r}: {exc}") from None
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "isolation_level": None})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Deleted rows are overwritten, not left on free pages (some builds default to off).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    # pysqlite's own transaction handling is off (isolation_level=None): BEGIN IMMEDIATE takes the write
    # lock up front, so two kiosks' transfers serialise instead of failing on lock upgrade.
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc).splitlines()[0]
        raise DatabaseUnavailable(f"database {engine.url.render_as_string()} unreachable: {reason}") from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
