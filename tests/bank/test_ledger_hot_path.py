"""The ledger's hot path runs on the DBAPI cursor (SQLite) and in psycopg pipeline mode (PostgreSQL): the rows
it writes must read back through the ORM exactly as ORM-written rows do, and a pipelined connection must never
go back to the pool still in pipeline mode."""

from __future__ import annotations

import gc
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bank.check import check_ledger
from bank.db.engine import make_engine
from bank.ledger import (
    Ledger,
    TransferOutcome,
    TransferRequest,
    sqlite_date_text,
    sqlite_utc_text,
)
from bank.models import InternalAccount, Posting, Transfer, TransferKind, TransferStatus

MOMENT = datetime(2026, 3, 10, 17, 30, 5, 123456, tzinfo=UTC)  # 01:30 on 11 March in Beijing


def test_rows_written_on_the_cursor_read_back_through_the_orm(bank_engine: Engine) -> None:
    ledger = Ledger(bank_engine, clock=lambda: MOMENT)
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    clearing = ledger.internal_account_id(InternalAccount.CLEARING)
    fees = ledger.internal_account_id(InternalAccount.FEES)
    request = TransferRequest(
        "hot-1",
        TransferKind.OTHER_BANK,
        funding,
        clearing,
        12_345,
        "CNY",
        fee_minor=200,
        description="To bank 102 ****4321",
        payee_bank_code="102",
        payee_account="6222000012344321",
        payee_name="赵 磊",
        channel="branch",
        kiosk_id="K-9",
    )
    held = ledger.transfer(request, pending=True)
    assert isinstance(held, TransferOutcome) and held.status is TransferStatus.PENDING
    posted = ledger.post_pending(held.transfer_id)
    assert isinstance(posted, TransferOutcome) and posted.created_at == MOMENT
    ledger.close()
    with Session(bank_engine) as session:
        transfer = session.get(Transfer, held.transfer_id)
        assert transfer is not None
        assert (transfer.created_at, transfer.resolved_at) == (MOMENT, MOMENT)
        assert transfer.bank_day == date(2026, 3, 11)  # the bank day is Beijing's
        assert transfer.payee_name == "赵 磊"  # stored encrypted, decrypted by the ORM type
        assert (transfer.status, transfer.kiosk_id, transfer.payee_account) == (
            "posted",
            "K-9",
            "6222000012344321",
        )
        lines = (
            session.query(Posting).filter(Posting.transfer_id == held.transfer_id).order_by(Posting.id).all()
        )
    assert [(p.account_id, p.amount_minor, p.created_at) for p in lines] == [
        (funding, -12_345, MOMENT),
        (clearing, 12_345, MOMENT),
        (funding, -200, MOMENT),
        (fees, 200, MOMENT),
    ]
    assert [p.balance_after_minor for p in lines] == [-12_345, 12_345, -12_545, 200]
    with bank_engine.connect() as conn:
        assert check_ledger(conn).ok


@pytest.mark.postgres
def test_a_dropped_ledger_returns_its_connection_out_of_pipeline_mode(pg_database: str) -> None:
    engine = make_engine(pg_database)
    engine.pool.dispose()
    ledger = Ledger(engine)
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    clearing = ledger.internal_account_id(InternalAccount.CLEARING)
    request = TransferRequest("drop-1", TransferKind.FUNDING, funding, clearing, 100, "CNY", channel="x")
    assert isinstance(ledger.transfer(request), TransferOutcome)
    pipelined = ledger._local.tx.dbapi_conn
    assert pipelined._pipeline is not None  # the hot path really is pipelined
    del ledger
    gc.collect()
    assert pipelined._pipeline is None and engine.pool.checkedout() == 0
    with engine.connect() as conn:  # the next user gets a plain connection that works
        assert conn.exec_driver_sql("SELECT count(*) FROM bank_transfers").scalar_one() == 1
    engine.dispose()


def test_request_fingerprints_keep_their_stored_form() -> None:
    """Fingerprints are stored with each transfer and compared on every retry: the text they hash must not
    change between releases (values computed when the format was introduced)."""
    own = TransferRequest("k", TransferKind.OWN, 1, 2, 100, "CNY")
    assert own.fingerprint() == "492c1a24331618efa93994f049dcc4d2e2755ade9cea81abd27f844b659221c3"
    other_bank = TransferRequest(
        "k",
        TransferKind.OTHER_BANK,
        17,
        3,
        12_345,
        "CNY",
        fee_minor=200,
        payee_bank_code="102",
        payee_account="6222000012344321",
    )
    assert other_bank.fingerprint() == "ac54115c171162076de7d78b9dda8f1c4359c240b9ee2ee16db8425a7c3c5283"


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()
    ),
    day=st.dates(),
)
def test_the_sqlite_binders_write_what_sqlalchemy_writes(moment: datetime, day: date) -> None:
    dialect = make_engine("sqlite://").dialect
    utc_processor = Transfer.__table__.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    date_processor = Transfer.__table__.c.bank_day.type.dialect_impl(dialect).bind_processor(dialect)
    assert utc_processor is not None and date_processor is not None
    assert sqlite_utc_text(moment) == utc_processor(moment)
    assert sqlite_date_text(day) == date_processor(day)
    assert sqlite_date_text(None) is None and sqlite_utc_text(None) is None
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(moment.replace(tzinfo=None))
