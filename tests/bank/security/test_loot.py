"""The data-dir attack (bank/security/loot.py) recovers what a dir's own keys open, and nothing without them.

Fixtures are made here with the product's own vault and PVV code, so the attack is checked against the
real formats: a dir holding its keys gives up names, PANs and PINs; the same dir without its key files
gives up nothing, although the attack still saw every ciphertext and check value.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bank.security.hsm import pin_verification_value
from bank.security.loot import Loot, loot_data_dir, main
from bank.security.vault import Vault
from hostlink.redaction import mask_name

PAN = "6212340000001017"  # Luhn-valid test PAN (a seed card's number)
PIN = "2468"
NAME = "李娜"
PHONE = "13912345678"


def make_dir(root: Path) -> Path:
    """A bank-like data dir: vault + PVK key files, a database of encrypted cells and a PVV."""
    vault = Vault.open(root / "keys")
    pvk = os.urandom(32)
    (root / "keys" / "hsm.json").write_text(json.dumps({"pvk": base64.b64encode(pvk).decode()}))
    db = sqlite3.connect(root / "bank.db")
    db.execute("CREATE TABLE customers (name BLOB, phone BLOB, phone_hash TEXT)")
    db.execute("CREATE TABLE cards (pan_encrypted BLOB, pan_masked TEXT, pvv TEXT)")
    db.execute(
        "INSERT INTO customers VALUES (?, ?, ?)",
        (vault.encrypt(NAME.encode()), vault.encrypt(PHONE.encode()), vault.lookup_hash(PHONE, "phone")),
    )
    db.execute(
        "INSERT INTO cards VALUES (?, ?, ?)",
        (vault.encrypt(PAN.encode()), "621234******1017", pin_verification_value(pvk, PAN, PIN)),
    )
    db.commit()
    db.close()
    return root


def kinds(report_loot: list[Loot]) -> list[str]:
    return sorted(item.kind for item in report_loot)


def test_a_dir_with_its_keys_gives_up_names_pans_and_pins(tmp_path: Path) -> None:
    report = loot_data_dir(make_dir(tmp_path), known=[NAME, PHONE])
    assert report.vault_ciphertexts == 3 and report.check_values == 1
    assert kinds(report.loot) == ["pii", "pii", "pin", "plaintext", "plaintext", "plaintext"]
    pin = next(item for item in report.loot if item.kind == "pin")
    assert pin.where == "bank.db:cards.pvv" and "621234******1017" in pin.detail
    # The report describes what fell; it never repeats it.
    text = report.as_json()
    assert PAN not in text and PIN not in text and NAME not in text and PHONE not in text


def test_the_same_dir_without_its_key_files_gives_up_nothing(tmp_path: Path) -> None:
    root = make_dir(tmp_path)
    shutil.rmtree(root / "keys")
    report = loot_data_dir(root, known=[NAME, PHONE])
    assert report.loot == []
    # Not blind: it saw the ciphertexts and the check value and had candidate keys (the look-up hash).
    assert report.vault_ciphertexts == 3 and report.check_values == 1 and report.candidate_keys >= 1


def test_a_raw_aes_gcm_blob_opens_with_a_key_file_anywhere(tmp_path: Path) -> None:
    key = AESGCM.generate_key(128)
    (tmp_path / "some.key").write_bytes(key)  # a whole file of 16 bytes is a candidate key
    nonce = os.urandom(12)
    db = sqlite3.connect(tmp_path / "cache.db")
    db.execute("CREATE TABLE blobs (data BLOB)")
    db.execute("INSERT INTO blobs VALUES (?)", (nonce + AESGCM(key).encrypt(nonce, b"address: x", None),))
    db.commit()
    db.close()
    report = loot_data_dir(tmp_path)
    assert [(item.kind, item.where) for item in report.loot] == [("plaintext", "cache.db:blobs.data")]


def test_a_clear_pan_and_clear_personal_data_are_found(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    # The digits inside a hex hash are not a PAN, even when they pass Luhn (a false alarm seen in CI).
    hashed = "347366ce1190479732214d70e8f"
    (tmp_path / "logs" / "app.log").write_text(f"card {PAN} for {NAME} {hashed}\n", encoding="utf-8")
    report = loot_data_dir(tmp_path, known=[NAME])
    assert kinds(report.loot) == ["pan", "pii"]
    assert "621234******1017" in report.loot[0].detail


def test_the_command_exits_1_on_loot_and_0_on_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(make_dir(tmp_path / "bank"))]) == 1
    assert {item["kind"] for item in json.loads(capsys.readouterr().out)["loot"]} == {"plaintext", "pin"}
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty")]) == 0
    assert json.loads(capsys.readouterr().out)["loot"] == []


@pytest.mark.parametrize(
    ("name", "masked"),
    [("李娜", "*娜"), ("赵建国", "**国"), ("LI/NA", "L* N*"), ("Wang Fang", "W*** F***"), ("", "")],
)
def test_names_on_paper_are_masked(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def _seeded_host(data: Path, **overrides: Any) -> tuple[Path, list[str]]:
    """A real host data dir: migrated, seeded (customers, cards, PVVs) through the product's own code."""
    from sqlalchemy.orm import Session

    from bank.runtime import start_runtime
    from bank.security.hsm import pvv_for_settings
    from bank.seed import SEED_CUSTOMERS, seed_bank
    from bank.settings import load_host_settings

    settings = load_host_settings(data_dir=str(data), **overrides)
    runtime = start_runtime(settings)
    with Session(runtime.engine) as session:
        seed_bank(session, runtime.vault, pvv_for=pvv_for_settings(settings))
    runtime.close()  # the WAL checkpointed into the file attacked
    known = [v for c in SEED_CUSTOMERS for v in (c.name, c.id_number, c.phone, c.address)]
    return data, known


def test_a_host_data_dir_with_keys_on_the_token_gives_up_nothing(tmp_path: Path) -> None:
    data, known = _seeded_host(tmp_path / "data")
    report = loot_data_dir(data, known)
    assert report.loot == [], report.as_json()
    # Not blind: every encrypted cell and every PVV of the seed was seen and attacked.
    assert report.vault_ciphertexts >= 10 and report.check_values >= 4 and report.candidate_keys >= 1
    # The thief who also copies the token's store (but not its PIN) is no better off: the token keeps
    # its objects encrypted under a key derived from the PIN.
    store = data.with_name("data-hsm")
    stolen = tmp_path / "stolen"
    shutil.copytree(data, stolen / "data")
    shutil.copytree(store / "tokens", stolen / "tokens")
    shutil.copy(store / "softhsm2.conf", stolen / "softhsm2.conf")
    report = loot_data_dir(stolen, known)
    assert report.loot == [], report.as_json()
    assert report.files > 2


def test_the_development_file_keys_give_everything_away(tmp_path: Path) -> None:
    """Why the file keys are refused in production: the same seed, keys beside the database."""
    data, known = _seeded_host(tmp_path / "data", deployment="development", hsm={"backend": "file"})
    assert (data / "keys" / "vault.json").exists()
    report = loot_data_dir(data, known)
    assert {item.kind for item in report.loot} >= {"plaintext", "pin", "pii"}
