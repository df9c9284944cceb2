from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import bank.models  # noqa: F401  (registers the bank tables on the metadata)
from bank.db.base import Base
from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from bank.models import Account, Card, CardStatus, Customer
from bank.opening import AccountOpened, OpeningRefusal, OpeningRefused, OpeningRequest, open_account
from bank.security.vault import Vault
from hostlink.checkdigits import luhn_valid
from hostlink.kyc import check_character

TODAY = date(2026, 3, 10)


def applicant(id_number: str = "11010519491231002X", **extra: Any) -> OpeningRequest:
    fields: dict[str, Any] = {
        "name": "王芳",
        "id_number": id_number,
        "id_expiry": None,
        "phone": "138 0000 0001",
        "address": "北京市东城区",
        "occupation": "retired",
        "photo": b"\xff\xd8jpeg",
        "face_template": bytes(range(128)) * 8,
    }
    fields.update(extra)
    return OpeningRequest(**fields)


def test_opening_creates_customer_account_and_card_in_one_go(engine: Engine, vault: Vault) -> None:
    opened = open_account(engine, vault, applicant(), today=TODAY, rng=random.Random(7))
    assert isinstance(opened, AccountOpened)
    assert luhn_valid(opened.pan) and opened.pan.startswith("621234") and luhn_valid(opened.account_number)
    assert opened.card_expiry == "3603"
    assert opened.pan not in repr(opened)
    with Session(engine) as session:
        customer = session.get(Customer, opened.customer_id)
        card = session.get(Card, opened.card_id)
        account = session.get(Account, opened.account_id)
        assert customer is not None and card is not None and account is not None
        assert customer.birth_date == date(1949, 12, 31) and customer.face_template == bytes(range(128)) * 8
        assert customer.phone_hash == vault.lookup_hash("13800000001", "phone")
        assert card.status == CardStatus.PENDING_ISSUE.value and card.pvv is None
        assert card.pan_masked == opened.pan_masked and account.customer_id == customer.id


@pytest.mark.parametrize(
    ("request_", "reason"),
    [
        (applicant("110101199003071234"), OpeningRefusal.BAD_CHECK_DIGIT),
        (applicant("1101011990030712"), OpeningRefusal.BAD_FORMAT),
        (applicant(id_expiry=date(2026, 3, 9)), OpeningRefusal.ID_EXPIRED),
        (applicant("11010120100311001" + check_character("11010120100311001")), OpeningRefusal.UNDER_AGE),
        (applicant(name=" "), OpeningRefusal.MISSING_DETAILS),
    ],
)
def test_opening_refusals_store_nothing(
    engine: Engine, vault: Vault, request_: OpeningRequest, reason: OpeningRefusal
) -> None:
    refused = open_account(engine, vault, request_, today=TODAY)
    assert isinstance(refused, OpeningRefused) and refused.reason is reason
    with Session(engine) as session:
        assert session.query(Customer).count() == 0 and session.query(Card).count() == 0


def test_sixteen_today_is_old_enough_and_duplicates_refused(engine: Engine, vault: Vault) -> None:
    teen = "11010120100310001"
    teen += check_character(teen)
    assert isinstance(open_account(engine, vault, applicant(teen), today=TODAY), AccountOpened)
    again = open_account(engine, vault, applicant(teen.lower()), today=TODAY)
    assert isinstance(again, OpeningRefused) and again.reason is OpeningRefusal.DUPLICATE_ID


def _bank_diffs(engine: Engine) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, Base.metadata)

    def table_of(diff: Any) -> str:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return str(table.name)
            if isinstance(name, str) and name.startswith("bank_"):
                return name
        return ""

    return [d for d in diffs if table_of(d).startswith("bank_")]


def test_migration_matches_models_on_sqlite(engine: Engine, tmp_path: Any) -> None:
    upgrade(engine)  # the fixture stops at 0002; later revisions change the bank tables too (0008: indexes)
    assert _bank_diffs(engine) == []
    # The comparison itself can fail: a database without 0002 shows every bank table missing.
    bare = make_engine(f"sqlite:///{tmp_path / 'bare.db'}")
    upgrade(bare, "0001_base")
    assert len(_bank_diffs(bare)) >= 5
    bare.dispose()


@pytest.mark.postgres
def test_migration_matches_models_on_postgresql(postgres_url: str, vault: Vault) -> None:
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    upgrade(engine)
    try:
        assert _bank_diffs(engine) == []
        opened = open_account(engine, vault, applicant(), today=TODAY)
        assert isinstance(opened, AccountOpened)
    finally:
        engine.dispose()
