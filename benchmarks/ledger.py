"""Ledger throughput: transfers/s next to the raw commit rate of the same database, in the same run.

A transfer is one transaction (one commit), so the raw rate is its ceiling: a one-row INSERT + COMMIT loop on
the DBAPI cursor of a connection from the same engine (so the same settings: SQLite WAL + synchronous=FULL +
BEGIN IMMEDIATE; PostgreSQL fsync on, READ COMMITTED), held for the whole loop like the ledger holds its
connection, with no ORM or SQLAlchemy execution layer in the way; on PostgreSQL in pipeline mode like the
ledger (BEGIN, INSERT and COMMIT in one round trip). ``ratio`` = transfers/s ÷ raw commits/s
says how much of that ceiling our code keeps (goal ≥ 0.5).

The two loops run interleaved in rounds (raw block, transfer block, raw block, ...) because the machine's
fsync rate drifts by tens of per cent within seconds when other jobs share the disk; interleaving exposes
both figures to the same drift. ``round_ratios`` shows the spread. Transfers alternate direction between two
funded accounts so funds never run out; each has its own idempotency key and goes through the full path
(insert, lock, rules, postings, balances) in the ``bench`` channel (no kiosk daily limits).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session

from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from bank.ledger import Ledger, TransferOutcome, TransferRequest, _Statements, bank_day_of
from bank.models import TransferKind
from bank.security.vault import Vault, install_vault
from bank.seed import seed_bank
from benchmarks._pgserver import PostgresUnavailable, ThrowawayPostgres

WANG_CURRENT, WANG_SAVINGS = "0001100000010014", "0001200000010020"


def _pvv(pan: str, pin: str) -> str:
    return "0" * 16  # no HSM needed to measure the ledger


class _RawCommits:
    """One-row INSERT + COMMIT on the DBAPI cursor of one connection of the engine."""

    def __init__(self, engine: Engine) -> None:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_raw (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"))
        self.conn: Connection = engine.connect()
        driver_connection = self.conn.connection.driver_connection
        assert driver_connection is not None  # None only once the pool has invalidated the connection
        self.dbapi_conn: Any = driver_connection
        self.cursor = self.dbapi_conn.cursor()
        self.postgresql = engine.dialect.name == "postgresql"
        self.next_id = 0

    def run(self, count: int) -> float:
        """Seconds for ``count`` commits."""
        cursor, first = self.cursor, self.next_id
        self.next_id += count
        started = time.perf_counter()
        if self.postgresql:
            # Pipeline mode, as the ledger runs: BEGIN + INSERT + COMMIT leave in one round trip, the fastest
            # a commit can be from this client.
            with self.dbapi_conn.pipeline():
                for n in range(first, first + count):
                    cursor.execute("INSERT INTO bench_raw (id, v) VALUES (%s, %s)", (n, n))
                    self.dbapi_conn.commit()
        else:
            for n in range(first, first + count):
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute("INSERT INTO bench_raw (id, v) VALUES (?, ?)", (n, n))
                cursor.execute("COMMIT")
        return time.perf_counter() - started

    def close(self) -> None:
        self.cursor.close()
        self.conn.close()


class _StatementsOnly:
    """The statements the ledger sends for a posted transfer, with their parameters worked out beforehand
    and none of the ledger's Python: what this schema costs per transfer on this database, whatever code
    drives it. SQLite: BEGIN IMMEDIATE, the transfer row (RETURNING its id), the rest through the view's
    trigger, COMMIT. PostgreSQL: bank_post_transfer + COMMIT in one round trip. The database keeps the
    balances, so the ledger stays whole for the transfer loop that alternates with this one."""

    def __init__(self, engine: Engine, a: int, b: int) -> None:
        self.engine, self.a, self.b = engine, a, b
        self.conn: Connection = engine.connect()
        driver_connection = self.conn.connection.driver_connection
        assert driver_connection is not None  # None only once the pool has invalidated the connection
        self.dbapi_conn: Any = driver_connection
        self.cursor = self.dbapi_conn.cursor()
        self.sql = _Statements(engine.dialect)  # the ledger's own SQL text for this dialect
        self.postgresql = engine.dialect.name == "postgresql"
        self.next_key = 0
        now = datetime.now(UTC)
        self.stored_now, self.bank_day = self.sql.bind_datetime(now), self.sql.bind_date(bank_day_of(now))

    def run(self, count: int) -> float:
        first = self.next_key
        self.next_key += count
        cursor, sql, now, day = self.cursor, self.sql, self.stored_now, self.bank_day
        fingerprint = "0" * 64
        started = time.perf_counter()
        if self.postgresql:
            with self.dbapi_conn.pipeline():
                for n in range(first, first + count):
                    payer, payee = (self.a, self.b) if n % 2 else (self.b, self.a)
                    cursor.execute(
                        sql.post_transfer,
                        (
                            f"bare-{n}",
                            fingerprint,
                            "own",
                            False,
                            payer,
                            payee,
                            100,
                            0,
                            "CNY",
                            None,
                            None,
                            None,
                            "",
                            "",
                            "bench",
                            "",
                            day,
                            now,
                            None,
                            False,
                        ),
                    )
                    self.dbapi_conn.commit()
        else:
            tail = (None, None, None, "", "bench", "", day, now, now)  # payee, texts, day, created, resolved
            for n in range(first, first + count):
                payer, payee = (self.a, self.b) if n % 2 else (self.b, self.a)
                cursor.execute("BEGIN IMMEDIATE")
                cursor.execute(
                    sql.insert_transfer_returning_id,
                    (f"bare-{n}", fingerprint, "own", "posted", payer, payee, 100, 0, "CNY", *tail),
                )
                transfer_id = cursor.fetchone()[0]
                cursor.execute(
                    sql.post_transfer,
                    (transfer_id, False, payer, payee, 100, 0, "CNY", "", "", day, now, None, False),
                )
                cursor.execute("COMMIT")
        return time.perf_counter() - started

    def close(self) -> None:
        self.cursor.close()
        self.conn.close()


class _Transfers:
    def __init__(self, engine: Engine) -> None:
        query = text("SELECT number, id FROM bank_accounts WHERE number IN (:a, :b)")
        with engine.connect() as conn:
            ids: dict[str, int] = dict(conn.execute(query, {"a": WANG_CURRENT, "b": WANG_SAVINGS}).all())
        self.a, self.b = ids[WANG_CURRENT], ids[WANG_SAVINGS]
        self.ledger = Ledger(engine)
        self.next_key = 0

    def run(self, count: int) -> float:
        first = self.next_key
        self.next_key += count
        requests = [
            TransferRequest(
                f"bench-{n}",
                TransferKind.OWN,
                self.a if n % 2 else self.b,
                self.b if n % 2 else self.a,
                100,
                "CNY",
                channel="bench",
            )
            for n in range(first, first + count)
        ]
        started = time.perf_counter()
        for request in requests:
            result = self.ledger.transfer(request)
            if not isinstance(result, TransferOutcome) or result.replayed:
                raise RuntimeError(f"benchmark transfer not posted: {result}")
        return time.perf_counter() - started

    def close(self) -> None:
        self.ledger.close()


def _measure(engine: Engine, vault: Vault, rounds: int, per_round: int) -> dict[str, Any]:
    upgrade(engine)
    with Session(engine) as session:
        seed_bank(session, vault, pvv_for=_pvv)
    raw, transfers = _RawCommits(engine), _Transfers(engine)
    statements = _StatementsOnly(engine, transfers.a, transfers.b)
    try:
        raw.run(20)  # warm the connection, statement caches and prepared statements
        statements.run(20)
        transfers.run(20)
        raw_seconds: list[float] = []
        statement_seconds: list[float] = []
        transfer_seconds: list[float] = []
        for _ in range(rounds):
            raw_seconds.append(raw.run(per_round))
            statement_seconds.append(statements.run(per_round))
            transfer_seconds.append(transfers.run(per_round))
        wal = _wal_per_commit(engine, raw, transfers)
    finally:
        raw.close()
        statements.close()
        transfers.close()
    count = rounds * per_round
    raw_rate = count / sum(raw_seconds)
    transfer_rate = count / sum(transfer_seconds)
    statements_rate = count / sum(statement_seconds)
    round_ratios = [r / t for r, t in zip(raw_seconds, transfer_seconds, strict=True)]
    return {
        "transfers_per_s": round(transfer_rate, 1),
        "raw_commits_per_s": round(raw_rate, 1),
        "ratio": round(transfer_rate / raw_rate, 3),
        "round_ratios": {
            "median": round(statistics.median(round_ratios), 3),
            "min": round(min(round_ratios), 3),
            "max": round(max(round_ratios), 3),
        },
        "statements_only_per_s": round(statements_rate, 1),
        "statements_only_ratio": round(statements_rate / raw_rate, 3),
        "code_keeps": round(transfer_rate / statements_rate, 3),
        "transfers": count,
        "rounds": rounds,
        "us_per_transfer": round(1e6 / transfer_rate, 1),
        "us_per_statements_only": round(1e6 / statements_rate, 1),
        "us_per_raw_commit": round(1e6 / raw_rate, 1),
        "wal_bytes_per_commit": wal,
    }


def _wal_per_commit(
    engine: Engine, raw: _RawCommits, transfers: _Transfers, count: int = 50
) -> dict[str, int]:
    """What each commit writes to the write-ahead log (the bytes the commit's fsync must flush): a transfer
    touches ~10 pages (the transfer row, its five indexes, two postings and their indexes, the account rows),
    the raw insert one or two. This, not the Python on top, is most of the remaining gap to the raw rate."""
    written: dict[str, int] = {}
    for name, loop in (("raw", raw.run), ("transfer", transfers.run)):
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                start = conn.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar_one()
                loop(count)
                wal = conn.exec_driver_sql(
                    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %(start)s)", {"start": start}
                ).scalar_one()
                written[name] = round(int(wal) / count)
            else:  # on the DBAPI cursor: outside a transaction (SQLAlchemy's autobegin would take the lock)
                cursor = raw.cursor
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                loop(count)
                frames = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
                page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
                written[name] = round(frames * (page_size + 24) / count)  # a WAL frame: page + 24-byte header
    return written


def run(quick: bool = False) -> dict[str, Any]:
    rounds, per_round = (2, 100) if quick else (10, 200)
    vault = Vault.ephemeral()
    install_vault(vault)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="smart-teller-bench-") as folder:
        engine = make_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            results["sqlite"] = _measure(engine, vault, rounds, per_round) | {
                "settings": "WAL, synchronous=FULL, BEGIN IMMEDIATE"
            }
        finally:
            engine.dispose()
    try:
        with ThrowawayPostgres(fsync=True) as server:
            engine = make_engine(server.url)
            try:
                results["postgresql"] = _measure(engine, vault, rounds, per_round) | {
                    "settings": "fsync=on, READ COMMITTED, loopback TCP"
                }
            finally:
                engine.dispose()
    except PostgresUnavailable as exc:
        results["postgresql"] = {"error": str(exc)}
    results["goal_ratio"] = 0.5
    return {"ledger": results}


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
