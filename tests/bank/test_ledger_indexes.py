"""The ledger's indexes after migration 0008: only what a query needs, and every query still finds its rows
through an index.

Every index on bank_transfers / bank_postings is written by every transfer's commit, so 0008 keeps the unique
idempotency key and the postings' (account_id, id), and narrows status look-ups to partial indexes on pending
and voided rows. These tests run the real queries (service enquiries, clearing, replay, loan scoring) on the
migrated schema and read their plans; they also check that the partial indexes hold exactly the right rows as
transfers move pending → posted | voided, and that the migration and the models agree, predicates included
(Alembic's comparison ignores index predicates).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, Index, Table, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex

from bank.check import check_ledger
from bank.clearing import ClearingHouse
from bank.db.engine import make_engine
from bank.db.migrate import alembic_config, upgrade
from bank.ledger import TransferOutcome
from bank.loans.service import LoanService
from bank.models import Posting, Transfer, TransferKind, TransferStatus
from bank.security.vault import Vault
from bank.seed import seed_bank
from bank.service import BankService
from hostlink.money import Money

from .conftest import FakeClock, stand_in_pvv  # type: ignore[import-not-found]

WANG_CURRENT, WANG_SAVINGS = "0001100000010014", "0001200000010020"
LEDGER_TABLES = ("bank_transfers", "bank_postings")
# What 0008 leaves on the two tables every transfer writes (besides primary keys and the unique key).
EXPECTED_INDEXES = {
    "ix_bank_postings_account_id_id": "CREATE INDEX ix_bank_postings_account_id_id ON bank_postings "
    "(account_id, id)",
    "ix_bank_transfers_pending_id": "CREATE INDEX ix_bank_transfers_pending_id ON bank_transfers (id) "
    "WHERE status = 'pending'",
    "ix_bank_transfers_voided_debit_account_id": "CREATE INDEX ix_bank_transfers_voided_debit_account_id "
    "ON bank_transfers (debit_account_id) WHERE status = 'voided'",
}
INDEXES_BEFORE_0008 = {
    "ix_bank_postings_account_id_id",
    "ix_bank_postings_transfer_id",
    "ix_bank_transfers_credit_account_id",
    "ix_bank_transfers_debit_account_id",
    "ix_bank_transfers_status_kind",
}


@pytest.fixture
def head_engine(tmp_path: Path, vault: Vault) -> Iterator[Engine]:
    """A SQLite bank migrated to the head revision (the conftest's `engine` stops at 0002), seeded."""
    engine = make_engine(f"sqlite:///{tmp_path / 'head.db'}")
    upgrade(engine)
    with Session(engine) as session:
        seed_bank(session, vault, pvv_for=stand_in_pvv)
    yield engine
    engine.dispose()


def _named_indexes(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('bank_transfers', 'bank_postings')"
        ).all()
    return {name: " ".join(sql.split()) for name, sql in rows}


def _account_id(engine: Engine, number: str) -> int:
    with engine.connect() as conn:
        found: int = conn.execute(
            text("SELECT id FROM bank_accounts WHERE number = :n"), {"n": number}
        ).scalar_one()
    return found


def _customer_of(engine: Engine, account_id: int) -> int:
    with engine.connect() as conn:
        found: int = conn.execute(
            text("SELECT customer_id FROM bank_accounts WHERE id = :i"), {"i": account_id}
        ).scalar_one()
    return found


def _busy_bank(engine: Engine, vault: Vault, clock: FakeClock) -> tuple[BankService, int]:
    """Wang's current account with 20 own transfers, two settled and one rejected other-bank transfer and one
    still pending (the seed's funding transfers come first)."""
    bank = BankService(engine, vault, clock=clock)
    wang, savings = _account_id(engine, WANG_CURRENT), _account_id(engine, WANG_SAVINGS)
    for n in range(20):
        clock.now += timedelta(minutes=1)
        payer, payee = (wang, savings) if n % 2 else (savings, wang)
        assert isinstance(bank.transfer_own(f"own-{n}", payer, payee, Money(100)), TransferOutcome)
    for n, code in enumerate(("105", "999", "105", "105")):
        held = bank.transfer_other_bank(f"other-{n}", wang, code, "6227001234567890", "Zhao Lei", Money(500))
        assert isinstance(held, TransferOutcome) and held.status is TransferStatus.PENDING
        if n == 2:  # the clearing house answers the first three; bank code 999 is rejected
            report = ClearingHouse(bank.ledger, clock=clock).run_cycle()
            assert (len(report.settled), len(report.rejected)) == (2, 1)
    return bank, wang


def test_migration_leaves_only_the_indexes_the_models_declare_with_predicates(head_engine: Engine) -> None:
    migrated = _named_indexes(head_engine)
    assert migrated == EXPECTED_INDEXES
    dialect = sqlite.dialect()
    for table in (Transfer.__table__, Posting.__table__):
        assert isinstance(table, Table)
        for index in table.indexes:
            assert isinstance(index, Index)
            from_models = " ".join(str(CreateIndex(index).compile(dialect=dialect)).split())
            assert migrated[str(index.name)] == from_models


def test_downgrade_restores_the_previous_indexes_and_upgrade_comes_back(head_engine: Engine) -> None:
    config = alembic_config(head_engine)
    command.downgrade(config, "0007_merge")
    assert set(_named_indexes(head_engine)) == INDEXES_BEFORE_0008
    command.upgrade(config, "heads")
    assert _named_indexes(head_engine) == EXPECTED_INDEXES


def test_enquiry_clearing_replay_and_loan_queries_search_an_index(
    head_engine: Engine, vault: Vault, clock: FakeClock
) -> None:
    bank, wang = _busy_bank(head_engine, vault, clock)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "bank_transfers" in statement or "bank_postings" in statement:
            captured.append((statement, parameters))

    day = clock.now.date()
    # Which index each query must use: one account's postings, the pending rows, the key, voided rows.
    calls = {
        "mini statement": (lambda: bank.mini_statement(wang), "ix_bank_postings_account_id_id"),
        "history": (
            lambda: bank.history(wang, day - timedelta(days=7), day, page_size=5),
            "ix_bank_postings_account",
        ),
        "pending for clearing": (
            lambda: bank.ledger.pending_transfers(TransferKind.OTHER_BANK),
            "ix_bank_transfers_pending_id",
        ),
        "pending of an account": (lambda: bank.pending_transfers_of(wang), "ix_bank_transfers_pending_id"),
        "idempotency replay": (lambda: bank.ledger.replay("own-3"), "sqlite_autoindex_bank_transfers"),
        "loan scoring": (
            lambda: LoanService(head_engine, vault, clock=clock).applicant(_customer_of(head_engine, wang)),
            "ix_bank_transfers_voided_debit_account_id",
        ),
    }
    plans: dict[str, list[str]] = {}
    for name, (call, _index) in calls.items():
        captured.clear()
        event.listen(head_engine, "before_cursor_execute", capture)
        try:
            call()
        finally:
            event.remove(head_engine, "before_cursor_execute", capture)
        assert captured, name
        with head_engine.connect() as conn:
            plans[name] = [
                str(row[3])
                for statement, parameters in captured
                for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            ]
    for name, (_call, index) in calls.items():
        assert any(index in line for line in plans[name]), (name, plans[name])
        full_scans = [line for line in plans[name] if line in ("SCAN bank_transfers", "SCAN bank_postings")]
        assert full_scans == [], (name, plans[name])


def test_partial_indexes_hold_exactly_the_pending_and_the_voided_transfers(
    head_engine: Engine, vault: Vault, clock: FakeClock
) -> None:
    with head_engine.connect() as conn:
        seeded = conn.exec_driver_sql(
            "SELECT count(*) FROM bank_transfers WHERE status = 'posted'"
        ).scalar_one()
    bank, wang = _busy_bank(head_engine, vault, clock)
    with head_engine.connect() as conn:
        by_status = dict(
            conn.exec_driver_sql("SELECT status, count(*) FROM bank_transfers GROUP BY status").all()
        )
        # INDEXED BY makes SQLite answer from the named index or fail: its rows, not the table's.
        pending_ids = [
            row[0]
            for row in conn.exec_driver_sql(
                "SELECT id FROM bank_transfers INDEXED BY ix_bank_transfers_pending_id "
                "WHERE status = 'pending' ORDER BY id"
            )
        ]
        voided_of_wang = conn.exec_driver_sql(
            "SELECT count(*) FROM bank_transfers INDEXED BY ix_bank_transfers_voided_debit_account_id "
            "WHERE status = 'voided' AND debit_account_id = ?",
            (wang,),
        ).scalar_one()
        assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"
        report = check_ledger(conn)
    assert by_status == {"posted": seeded + 20 + 2, "voided": 1, "pending": 1}
    assert [t.transfer_id for t in bank.pending_transfers_of(wang)] == pending_ids
    assert len(pending_ids) == 1 and voided_of_wang == 1
    assert report.ok, report.violations
    assert report.counts["pending"] == 1
    settled = bank.ledger.post_pending(pending_ids[0])
    assert getattr(settled, "status", None) is TransferStatus.POSTED
    assert bank.ledger.pending_transfers() == []


def test_an_account_with_transfers_still_cannot_be_deleted_without_the_account_indexes(
    head_engine: Engine, vault: Vault, clock: FakeClock
) -> None:
    """No index on debit/credit_account_id any more: the foreign keys are still checked (by a scan)."""
    _bank, wang = _busy_bank(head_engine, vault, clock)
    with pytest.raises(IntegrityError), head_engine.begin() as conn:
        conn.execute(text("DELETE FROM bank_cards WHERE account_id = :a"), {"a": wang})
        conn.execute(text("DELETE FROM bank_accounts WHERE id = :a"), {"a": wang})


# -- PostgreSQL ---------------------------------------------------------------------------------
@pytest.fixture
def pg_head_engine(postgres_url: str, vault: Vault) -> Iterator[Engine]:
    name = f"bank_{uuid.uuid4().hex[:12]}"
    admin = make_engine(postgres_url)
    with admin.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"CREATE DATABASE {name}")
    engine = make_engine(postgres_url.rsplit("/", 1)[0] + f"/{name}")
    upgrade(engine)
    with Session(engine) as session:
        seed_bank(session, vault, pvv_for=stand_in_pvv)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )
    admin.dispose()


@pytest.mark.postgres
def test_postgresql_plans_use_the_partial_indexes_with_bound_parameters(
    pg_head_engine: Engine, vault: Vault, clock: FakeClock
) -> None:
    """The queries bind the status as a parameter; PostgreSQL's custom plans still match the partial index
    predicate. enable_seqscan=off only removes the table scan: a predicate that did not match would leave
    no index to choose and the plan would stay a Seq Scan."""
    bank, wang = _busy_bank(pg_head_engine, vault, clock)
    pending = (
        "SELECT id FROM bank_transfers WHERE status = %(status)s AND kind = %(kind)s ORDER BY id",
        {"status": TransferStatus.PENDING.value, "kind": TransferKind.OTHER_BANK.value},
        "ix_bank_transfers_pending_id",
    )
    voided = (
        "SELECT count(*) FROM bank_transfers WHERE debit_account_id = ANY(%(ids)s) AND status = %(status)s",
        {"ids": [wang], "status": TransferStatus.VOIDED.value},
        "ix_bank_transfers_voided_debit_account_id",
    )
    statement = (
        "SELECT id FROM bank_postings WHERE account_id = %(a)s ORDER BY id DESC LIMIT 10",
        {"a": wang},
        "ix_bank_postings_account_id_id",
    )
    with pg_head_engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        for sql, parameters, index in (pending, voided, statement):
            plan = "\n".join(row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, parameters))
            assert index in plan, plan
        report = check_ledger(conn)
    assert report.ok, report.violations
    assert [row.id for row in bank.ledger.pending_transfers()] == [
        t.transfer_id for t in bank.pending_transfers_of(wang)
    ]
