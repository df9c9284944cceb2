"""At rest: an owner-only token store, key rotation, and no secret left in the data dir by a seeded bank."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bank.audit import HostAudit
from bank.models import Card, Customer
from bank.runtime import Runtime, start_runtime
from bank.security.hsm import hsm_for_host, pvv_for_settings
from bank.security.pins import PinCheck, PinService
from bank.security.rotation import reencrypt_all, rotate_and_reencrypt
from bank.seed import SEED_CARDS, SEED_CUSTOMERS, seed_bank
from bank.settings import load_host_settings as load_settings
from hostlink.checkdigits import luhn_valid
from hostlink.pinblock import encrypt_pin_block
from kiosk.security.scan import scan_for_secrets


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(data_dir=str(tmp_path / "data"))
    runtime = start_runtime(settings)
    yield runtime
    runtime.close()


def test_the_token_store_is_owner_only_and_no_key_file_is_in_the_data_dir(runtime: Runtime) -> None:
    hsm_for_host(runtime.settings)
    store = runtime.settings.hsm_dir
    assert store == runtime.data_dir.with_name("data-hsm")  # beside the data dir, not in it
    assert stat.S_IMODE(store.stat().st_mode) == 0o700
    assert stat.S_IMODE((store / "tokens").stat().st_mode) == 0o700
    assert stat.S_IMODE((store / "user.pin").stat().st_mode) == 0o600
    assert not (runtime.data_dir / "keys").exists()
    assert stat.S_IMODE(runtime.data_dir.stat().st_mode) == 0o700


def test_rotation_keeps_old_ciphertexts_readable_and_reencrypts(runtime: Runtime) -> None:
    with Session(runtime.engine) as session:
        seed_bank(session, runtime.vault, pvv_for=pvv_for_settings(runtime.settings))
    vault = runtime.vault
    old_blob = vault.encrypt(b"written under k1")
    report = rotate_and_reencrypt(runtime.engine, vault)
    assert (report.old_key, report.new_key) == ("k1", "k2")
    assert report.rewritten["bank_cards.pan_encrypted"] == len(SEED_CARDS)
    assert report.rewritten["bank_customers.name"] == len(SEED_CUSTOMERS)
    assert vault.decrypt(old_blob) == b"written under k1"  # old key kept for decryption
    assert vault.key_id_of(vault.encrypt(b"new")) == "k2"
    with runtime.engine.connect() as conn:
        blobs = conn.execute(text("SELECT pan_encrypted FROM bank_cards")).scalars().all()
    assert {vault.key_id_of(bytes(b)) for b in blobs} == {"k2"}
    with Session(runtime.engine) as session:  # still readable through the ORM
        assert sorted(c.pan_encrypted for c in session.scalars(select(Card))) == sorted(
            c.pan for c in SEED_CARDS
        )
        assert session.scalars(select(Customer)).first() is not None
    assert sum(reencrypt_all(runtime.engine, vault).values()) == 0  # a second run has nothing to do


def test_seeded_bank_with_pin_traffic_leaves_no_secret_at_rest(runtime: Runtime) -> None:
    settings = runtime.settings
    with Session(runtime.engine) as session:
        seed_bank(session, runtime.vault, pvv_for=pvv_for_settings(settings))
    hsm = hsm_for_host(settings)
    journal = HostAudit(runtime.engine, settings.host_id)
    service = PinService(hsm, runtime.sessions, runtime.vault, journal, max_tries=settings.security.pin_tries)
    key = bytes.fromhex(settings.security.pin_key_hex)
    card = SEED_CARDS[0]
    wrong = "0" * len(card.pin) if card.pin != "0" * len(card.pin) else "9" * len(card.pin)
    assert service.check_pin(card.pan, encrypt_pin_block(card.pin, card.pan, key)).outcome is PinCheck.OK
    for _ in range(settings.security.pin_tries):
        last = service.check_pin(card.pan, encrypt_pin_block(wrong, card.pan, key), session_id="s1")
    assert last.outcome is PinCheck.RETAIN
    import logging

    logging.getLogger("kiosk.test").warning("card %s pin=%s inserted", card.pan, card.pin)
    for handler in logging.getLogger().handlers:
        handler.flush()
    runtime.engine.dispose()  # checkpoint the WAL into the file we scan
    findings = scan_for_secrets(
        runtime.data_dir,
        pins=[c.pin for c in SEED_CARDS],
        pans=[c.pan for c in SEED_CARDS],
        not_pans=[c.account for c in SEED_CARDS],
    )
    assert findings == [], [str(f) for f in findings]
    # And the scan is not blind here: a plaintext PAN planted in the same database is found.
    planted = next(c.pan for c in SEED_CARDS if luhn_valid(c.pan))
    with runtime.engine.begin() as conn:
        conn.execute(text("INSERT INTO kiosk_meta (key, value) VALUES ('oops', :pan)"), {"pan": planted})
    runtime.engine.dispose()
    assert {f.kind for f in scan_for_secrets(runtime.data_dir, pans=[planted])} >= {"known_pan", "pan"}
    assert {f.kind for f in scan_for_secrets(runtime.data_dir)} == {"pan"}  # found without being told
