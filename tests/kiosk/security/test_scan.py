"""The secret scan finds planted PINs, PIN blocks, PANs and track data, and passes a clean data dir."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hostlink.checkdigits import luhn_valid
from hostlink.redaction import redact
from kiosk.journal import Journal
from kiosk.security.scan import scan_file, scan_for_secrets

PAN = "6212340000000019"  # BIN 621234, serial 1: Luhn check digit 9 worked by hand
OTHER_PAN = "4111111111111111"  # the classic Luhn-valid test PAN
PIN = "2580"
ACCOUNT = "0001100000000013"  # an account number: Luhn-valid but starts with 0 (never a card)


def test_luhn_reference_values() -> None:
    assert luhn_valid(OTHER_PAN) and luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert luhn_valid(PAN)


def clean_dir(root: Path) -> Path:
    """What a kiosk leaves behind when it behaves: masked PANs, hashes, redacted logs, a journal."""
    (root / "logs").mkdir(parents=True)
    (root / "logs" / "smart-teller.log").write_text(
        '{"msg": "' + redact(f"card {PAN} inserted, pin={PIN}") + '"}\n'
        '{"msg": "lookup 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}\n'
        '{"msg": "amount 12345678 minor units at 2026-11-26T09:00:00Z"}\n'
    )
    with Journal(root / "journal", "K1") as journal:
        journal.record("card_inserted", pan=PAN, account=ACCOUNT)
        journal.record("pin_entered", pin=PIN, pin_block=bytes(8))
    db = sqlite3.connect(root / "smart-teller.db")
    db.execute("CREATE TABLE cards (pan_hash TEXT, pan_masked TEXT, pan_encrypted BLOB, account TEXT)")
    db.execute(
        "INSERT INTO cards VALUES (?, ?, ?, ?)",
        ("ab" * 32, "621234******0019", bytes(range(256)), ACCOUNT),
    )
    db.commit()
    db.close()
    (root / "keys").mkdir()
    (root / "keys" / "vault.json").write_text(f'{{"note": "keys are not scanned", "x": "{PAN}"}}')
    return root


def test_clean_data_dir_passes(tmp_path: Path) -> None:
    assert scan_for_secrets(clean_dir(tmp_path), pins=[PIN], pans=[PAN]) == []


@pytest.mark.parametrize(
    ("payload", "kind"),
    [
        (f"card number {OTHER_PAN} seen".encode(), "pan"),
        (b"grouped 4111 1111 1111 1111.", "pan"),
        (f'{{"pin": "{PIN}"}}'.encode(), "pin"),
        (f"customer PIN entered: {PIN}".encode(), "pin"),
        (b"pin_block=A1B2C3D4E5F60718 sent", "pin_block"),
        (b"EPB: 00112233445566778899AABBCCDDEEFF", "pin_block"),
        (f"%B{PAN}^ZHANG/SAN^28121010000000000000?".encode(), "track1"),
        (f";{PAN}=28121010000000000000?".encode(), "track2"),
        (f"57 {PAN}D2812101".encode(), "track2"),
        (f"text {OTHER_PAN}".encode("utf-16-le"), "pan"),
        (f"text {OTHER_PAN}".encode("utf-16-be"), "pan"),
        (f"\x00\x07active{OTHER_PAN}2812\x01".encode(), "pan"),  # glued to the next column in a row
    ],
)
def test_planted_secret_is_found(tmp_path: Path, payload: bytes, kind: str) -> None:
    root = clean_dir(tmp_path)
    (root / "receipts").mkdir()
    (root / "receipts" / "r1.bin").write_bytes(b"\x00header\x00" + payload + b"\x00")
    findings = scan_for_secrets(root, pins=[PIN], pans=[PAN])
    assert findings, payload
    assert {f.kind for f in findings} >= {kind}
    assert all(f.path == root / "receipts" / "r1.bin" for f in findings)
    for finding in findings:  # the report never repeats the secret
        assert PAN not in str(finding) and OTHER_PAN not in str(finding) and f" {PIN}" not in str(finding)


def test_plaintext_pan_in_the_database_as_text_and_as_integer(tmp_path: Path) -> None:
    db_path = tmp_path / "bank.db"
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE cards (id INTEGER PRIMARY KEY, pan TEXT, pan_number INTEGER)")
    db.execute("INSERT INTO cards (pan) VALUES (?)", (PAN,))
    db.execute("INSERT INTO cards (pan_number) VALUES (?)", (int(OTHER_PAN),))
    db.commit()
    db.close()
    kinds = {(f.kind, f.detail) for f in scan_file(db_path, pans=[PAN, OTHER_PAN])}
    assert ("known_pan", "621234******0019") in kinds
    assert ("known_pan", "411111******1111 as a 8-byte integer") in kinds


def test_clear_format0_block_of_a_known_pin_is_found(tmp_path: Path) -> None:
    # design.md vector: PAN 43219876543210987 with PIN 1234 → clear block 0412AC89ABCDEF67.
    (tmp_path / "dump.txt").write_text("debug 0412ac89abcdef67\n")
    findings = scan_for_secrets(tmp_path, pins=["1234"], pans=["43219876543210987"])
    assert [f.kind for f in findings] == ["pin_block"]


def test_not_pans_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "x.log").write_text(f"account {OTHER_PAN}\n")
    assert scan_for_secrets(tmp_path, not_pans=[OTHER_PAN]) == []
    assert len(scan_for_secrets(tmp_path)) == 1
