"""The host's side of account opening: is this ID a customer, and voiding an opening that did not finish."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from bank.models import Account, AccountKind, Card, CardStatus, Customer
from bank.opening import AccountOpened, OpeningRequest, is_customer, open_account, void_opening
from bank.security.vault import Vault, install_vault

TODAY = dt.date(2026, 3, 10)
GOOD_ID = {
    "name": "李明华",
    "sex": "男",
    "sex_en": "male",
    "ethnicity": "汉",
    "birth_date": "1985-03-12",
    "address": "北京市朝阳区建国路88号院3号楼1单元502室",
    "id_number": "110105198503122317",
    "authority": "北京市公安局朝阳分局",
    "valid_from": "2015-06-01",
    "valid_until": "2035-06-01",
    "check_digit_ok": True,
    "photo": b"\xff\xd8jpeg",
}


# -- the bank side -----------------------------------------------------------------------------------------


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[Engine, Vault]]:
    vault = Vault.ephemeral()
    install_vault(vault)
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    yield engine, vault
    engine.dispose()


def _open(engine: Engine, vault: Vault) -> AccountOpened:
    request = OpeningRequest(
        name="李明华",
        id_number=GOOD_ID["id_number"],
        id_expiry=dt.date(2035, 6, 1),
        phone="13800138000",
        address=GOOD_ID["address"],
        occupation="employee",
        account_kind=AccountKind.SAVINGS,
    )
    opened = open_account(engine, vault, request, today=TODAY)
    assert isinstance(opened, AccountOpened)
    return opened


def _counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Customer)) or 0,
            session.scalar(select(func.count()).select_from(Account)) or 0,
            session.scalar(select(func.count()).select_from(Card)) or 0,
        )


def test_void_deletes_a_pending_opening_in_one_go_and_frees_the_id(bank: tuple[Engine, Vault]) -> None:
    engine, vault = bank
    before = _counts(engine)
    opened = _open(engine, vault)
    assert is_customer(engine, vault, GOOD_ID["id_number"])
    assert void_opening(engine, opened.customer_id, opened.account_id, opened.card_id)
    assert _counts(engine) == before
    assert not is_customer(engine, vault, GOOD_ID["id_number"])
    _open(engine, vault)  # the customer can start again


def test_void_refuses_an_activated_card_or_mismatched_ids(bank: tuple[Engine, Vault]) -> None:
    engine, vault = bank
    opened = _open(engine, vault)
    assert not void_opening(engine, opened.customer_id, opened.account_id + 1, opened.card_id)
    with Session(engine) as session, session.begin():
        card = session.get(Card, opened.card_id)
        assert card is not None
        card.status = CardStatus.ACTIVE.value
    assert not void_opening(engine, opened.customer_id, opened.account_id, opened.card_id)
    assert is_customer(engine, vault, GOOD_ID["id_number"])
