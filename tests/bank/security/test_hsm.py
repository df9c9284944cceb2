"""Simulated HSM: PIN blocks from the pad (built here from the spec, not with our codec), PVV, key file."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from bank.security.hsm import HsmError, SimulatedHsm, load_or_create_pvk
from bank.settings import SecuritySettings
from hostlink.pinblock import encrypt_pin_block

SECURITY = SecuritySettings()
TDES_KEY = bytes.fromhex(SECURITY.pin_key_hex)
AES_KEY = bytes.fromhex(SECURITY.pin_key_aes_hex)
PVK = bytes(range(32))
PAN = "43219876543210987"  # design.md test vector
# ISO 9564 format 0 by hand: PIN field 04 1234 FFFFFFFFFF XOR PAN field 0000 987654321098 (12 rightmost
# digits without the check digit) = 0412AC89ABCDEF67, the vector in design.md section 4.
CLEAR_BLOCK_1234 = bytes.fromhex("0412AC89ABCDEF67")


def tdes_encipher(clear: bytes) -> bytes:
    """The EPP side done independently: TDES-ECB with the double-length key K1 K2 K1."""
    encryptor = Cipher(TripleDES(TDES_KEY + TDES_KEY[:8]), modes.ECB()).encryptor()
    return encryptor.update(clear) + encryptor.finalize()


def reference_pvv(pan: str, pin: str) -> str:
    """The documented PVV method, computed here without the module."""
    mac = hmac.new(PVK, b"smart-teller-pvv-v1\x00" + pan.encode() + b"\x00" + pin.encode(), hashlib.sha256)
    return "H1" + mac.hexdigest()[:16].upper()


@pytest.fixture
def hsm() -> SimulatedHsm:
    return SimulatedHsm.from_settings(SECURITY, Path("/nonexistent"), pvk=PVK)


def test_pvv_is_the_documented_keyed_hash(hsm: SimulatedHsm) -> None:
    block = tdes_encipher(CLEAR_BLOCK_1234)
    assert hsm.pvv_from_pin_block(block, PAN) == reference_pvv(PAN, "1234")
    assert hsm.pvv_for_clear_pin(PAN, "1234") == reference_pvv(PAN, "1234")


def test_verify_format0_block_from_the_pad(hsm: SimulatedHsm) -> None:
    pvv = reference_pvv(PAN, "1234")
    assert hsm.verify_pin(tdes_encipher(CLEAR_BLOCK_1234), PAN, pvv)
    wrong = bytes.fromhex("0412AC89ABCDEF67")
    wrong = bytes([wrong[0], wrong[1] ^ 0x01]) + wrong[2:]  # PIN 1235
    assert not hsm.verify_pin(tdes_encipher(wrong), PAN, pvv)
    # Same PIN on another card: the PVV binds the PIN to the PAN.
    assert not hsm.verify_pin(tdes_encipher(CLEAR_BLOCK_1234), PAN, reference_pvv("4000001234567899", "1234"))


def test_verify_format4_aes_blocks(hsm: SimulatedHsm) -> None:
    pvv = reference_pvv(PAN, "2468")
    first = encrypt_pin_block("2468", PAN, AES_KEY, 4)
    second = encrypt_pin_block("2468", PAN, AES_KEY, 4)
    assert first != second  # format 4 is salted
    assert hsm.verify_pin(first, PAN, pvv)
    assert hsm.pin_blocks_match(first, second, PAN)
    assert hsm.pin_blocks_match(first, tdes_encipher(bytes.fromhex("0424") + bytes(6)), PAN) is False
    assert not hsm.verify_pin(encrypt_pin_block("2469", PAN, AES_KEY, 4), PAN, pvv)


def test_garbage_block_is_a_wrong_pin_and_errors_carry_no_digits(hsm: SimulatedHsm) -> None:
    pvv = reference_pvv(PAN, "1234")
    assert not hsm.verify_pin(bytes(8), PAN, pvv)
    with pytest.raises(HsmError) as info:
        hsm.pvv_from_pin_block(bytes(16), PAN)
    assert "1234" not in str(info.value)
    with pytest.raises(HsmError):
        hsm.verify_pin(bytes(12), PAN, pvv)  # neither 8 nor 16 bytes
    with pytest.raises(HsmError):
        hsm.verify_pin(tdes_encipher(CLEAR_BLOCK_1234), PAN, "IBM3624:0000")  # unknown PVV method
    assert "keys hidden" in repr(hsm)


@pytest.mark.parametrize(
    ("pin", "weak"),
    [("1234", True), ("0000", True), ("9876", True), ("8901", True), ("2580", False), ("1357", False)],
)
def test_weak_new_pins(hsm: SimulatedHsm, pin: str, weak: bool) -> None:
    assert hsm.is_weak_pin(encrypt_pin_block(pin, PAN, TDES_KEY), PAN) is weak


def test_pvk_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    first = load_or_create_pvk(keys)
    path = keys / "hsm.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert load_or_create_pvk(keys) == first and len(first) == 32
    hsm = SimulatedHsm.from_settings(SECURITY, keys)
    block = tdes_encipher(CLEAR_BLOCK_1234)
    assert SimulatedHsm.from_settings(SECURITY, keys).verify_pin(
        block, PAN, hsm.pvv_from_pin_block(block, PAN)
    )
    path.write_text(json.dumps({"pvk": "not base64!"}))
    with pytest.raises(HsmError):
        load_or_create_pvk(keys)
