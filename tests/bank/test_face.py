"""Face login at the host: find the customer by phone or ID number, match the terminal's live encoding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from bank.face import face_template_of, find_customer, match_face
from bank.models import AccountKind
from bank.opening import AccountOpened, OpeningRequest, open_account
from bank.security.vault import Vault, install_vault


@pytest.fixture
def bank(tmp_path: Path) -> Iterator[tuple[Engine, Vault]]:
    vault = Vault.ephemeral()
    install_vault(vault)
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    yield engine, vault
    engine.dispose()


def _open(engine: Engine, vault: Vault, id_number: str, phone: str, template: bytes | None) -> AccountOpened:
    request = OpeningRequest(
        name="王芳",
        id_number=id_number,
        id_expiry=None,
        phone=phone,
        address="上海市徐汇区漕溪北路595号",
        face_template=template,
        account_kind=AccountKind.CURRENT,
    )
    opened = open_account(engine, vault, request, today=dt.date(2026, 3, 10))
    assert isinstance(opened, AccountOpened)
    return opened


def test_find_customer_by_phone_or_id_and_load_the_template(bank: tuple[Engine, Vault]) -> None:
    engine, vault = bank
    template = bytes(range(256)) * 4
    opened = _open(engine, vault, "310104199007184629", "139 1234 5678", template)
    found = find_customer(engine, vault, "phone", "13912345678")
    assert found is not None and found["customer_id"] == opened.customer_id and found["has_template"] is True
    assert found["accounts"] == [
        {"account_id": opened.account_id, "masked": f"****{opened.account_number[-4:]}", "kind": "current"}
    ]
    assert find_customer(engine, vault, "id_number", "310104199007184629") == found
    assert find_customer(engine, vault, "id_number", "11010519491231002X") is None
    assert face_template_of(engine, opened.customer_id) == template
    # Two customers sharing a phone: the phone identifies nobody.
    _open(engine, vault, "11010519491231002X", "13912345678", None)
    assert find_customer(engine, vault, "phone", "13912345678") is None
    assert find_customer(engine, vault, "id_number", "11010519491231002X")["has_template"] is False  # type: ignore[index]


def test_the_host_matches_a_live_encoding_at_its_threshold_and_keeps_the_template(
    bank: tuple[Engine, Vault],
) -> None:
    engine, vault = bank
    enrolled = np.linspace(-0.2, 0.2, 128)
    opened = _open(engine, vault, "310104199007184629", "13912345678", enrolled.astype("<f8").tobytes())
    near = enrolled + 0.03  # distance 0.34
    far = enrolled + 0.06  # distance 0.68
    assert match_face(engine, opened.customer_id, list(near), 0.5) == {
        "outcome": "match",
        "distance": round(float(np.linalg.norm(near - enrolled)), 4),
        "threshold": 0.5,
    }
    assert match_face(engine, opened.customer_id, list(far), 0.5)["outcome"] == "no_match"
    # No template enrolled: nothing to match against (not a no-match the customer could retry into).
    other = _open(engine, vault, "11010519491231002X", "13812345678", None)
    assert match_face(engine, other.customer_id, list(near), 0.5)["outcome"] == "reference_unusable"
    with pytest.raises(ValueError, match="128 finite numbers"):
        match_face(engine, opened.customer_id, [float("nan")] * 128, 0.5)
