"""The per-card PIN try counter: wrong PINs count, the last one retains the card, a right one resets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bank.db.base import Base
from bank.db.engine import make_engine, session_factory
from bank.models import Account, Card, pan_lookup_hash
from bank.security.hsm import SimulatedHsm
from bank.security.pins import PinCheck, PinService, SetPin
from bank.security.vault import Vault, install_vault
from bank.settings import SecuritySettings
from hostlink.pinblock import encrypt_pin_block
from hostlink.redaction import mask_pan
from kiosk.journal import Journal

SECURITY = SecuritySettings()
TDES_KEY = bytes.fromhex(SECURITY.pin_key_hex)
PAN = "6222020000000003"
RIGHT, WRONG = "2580", "1357"


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    install_vault(Vault.ephemeral())
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    import bank.security.models  # noqa: F401 - registers the technicians table

    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def world(
    engine: Engine, tmp_path: Path
) -> Iterator[tuple[PinService, sessionmaker[Session], Journal, SimulatedHsm]]:
    from bank.security.vault import current_vault

    vault = current_vault()
    sessions = session_factory(engine)
    hsm = SimulatedHsm.from_settings(SECURITY, tmp_path / "keys")
    journal = Journal(tmp_path / "journal", "K1")
    with sessions.begin() as db:
        account = Account(number="6222000000000001", kind="current")
        db.add(account)
        db.flush()
        db.add(
            Card(
                account_id=account.id,
                pan_hash=pan_lookup_hash(vault, PAN),
                pan_encrypted=PAN,
                pan_masked=mask_pan(PAN),
                expiry="2812",
                status="active",
                pvv=hsm.pvv_for_clear_pin(PAN, RIGHT),
                pin_failures=0,
            )
        )
    yield PinService(hsm, sessions, vault, journal, max_tries=SECURITY.pin_tries), sessions, journal, hsm
    journal.close()


def block(pin: str) -> bytes:
    return encrypt_pin_block(pin, PAN, TDES_KEY)


def card_state(sessions: sessionmaker[Session]) -> tuple[str, int]:
    with sessions() as db:
        card = db.scalars(select(Card)).one()
        return card.status, card.pin_failures


def test_three_wrong_pins_retain_the_card_and_are_journaled(world) -> None:  # type: ignore[no-untyped-def]
    service, sessions, journal, _ = world
    first = service.check_pin(PAN, block(WRONG), session_id="s1")
    assert (first.outcome, first.tries_left) == (PinCheck.WRONG, 2)
    second = service.check_pin(PAN, block(WRONG), session_id="s1")
    assert (second.outcome, second.tries_left) == (PinCheck.WRONG, 1)
    assert card_state(sessions) == ("active", 2)
    third = service.check_pin(PAN, block(WRONG), session_id="s1")
    assert (third.outcome, third.tries_left) == (PinCheck.RETAIN, 0)
    assert card_state(sessions) == ("retained", 3)
    # Even the right PIN no longer works on a retained card.
    assert service.check_pin(PAN, block(RIGHT)).outcome is PinCheck.CARD_NOT_USABLE
    rows = [json.loads(line) for line in journal.path.read_text().splitlines()]
    assert [r["event"] for r in rows] == [
        "pin_wrong",
        "pin_wrong",
        "card_retained_pin_tries_exceeded",
        "pin_check_refused",
    ]
    assert rows[2]["fields"]["pan_masked"] == "622202******0003"
    assert PAN not in journal.path.read_text()


def test_right_pin_resets_the_counter(world) -> None:  # type: ignore[no-untyped-def]
    service, sessions, _, _ = world
    service.check_pin(PAN, block(WRONG))
    service.check_pin(PAN, block(WRONG))
    result = service.check_pin(PAN, block(RIGHT))
    assert result.ok and result.tries_left == 3
    assert card_state(sessions) == ("active", 0)
    assert service.check_pin(PAN, block(WRONG)).tries_left == 2  # a fresh set of three


def test_unknown_card_and_garbage_block(world) -> None:  # type: ignore[no-untyped-def]
    service, sessions, _, _ = world
    assert service.check_pin("4000001234567899", block(RIGHT)).outcome is PinCheck.UNKNOWN_CARD
    assert service.check_pin(PAN, bytes(8)).outcome is PinCheck.WRONG  # undecipherable counts as a try
    assert card_state(sessions) == ("active", 1)


def test_set_pin_twice_then_verify(world) -> None:  # type: ignore[no-untyped-def]
    service, sessions, _, _ = world
    assert service.set_pin(PAN, block("4826"), block("4862")) is SetPin.MISMATCH
    assert service.set_pin(PAN, block("1111"), block("1111")) is SetPin.WEAK
    assert service.set_pin(PAN, bytes(8), bytes(8)) is SetPin.UNREADABLE
    assert service.check_pin(PAN, block(RIGHT)).ok  # unchanged so far
    fresh = encrypt_pin_block("4826", PAN, bytes.fromhex(SECURITY.pin_key_aes_hex), 4)
    again = encrypt_pin_block("4826", PAN, bytes.fromhex(SECURITY.pin_key_aes_hex), 4)
    assert service.set_pin(PAN, fresh, again) is SetPin.OK
    assert not service.check_pin(PAN, block(RIGHT)).ok
    assert service.check_pin(PAN, block("4826")).ok
    with sessions() as db:
        pvv = db.scalars(select(Card.pvv)).one()
    assert pvv is not None and "4826" not in pvv
