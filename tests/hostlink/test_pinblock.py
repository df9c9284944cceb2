"""ISO 9564-1 PIN blocks, pinned to vectors worked out by hand from the standard's field layouts."""

from __future__ import annotations

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from hostlink import pinblock
from hostlink.pinblock import (
    PinBlockError,
    decrypt_pin_block,
    encrypt_pin_block,
    format0_clear_block,
    format0_pan_field,
    format4_pan_field,
    format4_pin_field,
    parse_format0_clear_block,
    parse_format4_pin_field,
)

PAN = "43219876543210987"
TDES_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
AES_KEY = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
FILL = bytes.fromhex("1122334455667788")


def test_format0_golden_vector_from_the_design() -> None:
    # PIN field 04 1234 FFFFFFFFFF; PAN field 0000 + 987654321098 (12 rightmost digits without the
    # check digit 7). XOR by hand: 0412 AC89 ABCD EF67.
    assert format0_pan_field(PAN).hex().upper() == "0000987654321098"
    assert format0_clear_block("1234", PAN).hex().upper() == "0412AC89ABCDEF67"
    assert parse_format0_clear_block(bytes.fromhex("0412AC89ABCDEF67"), PAN) == "1234"


def test_format0_longer_pin_and_short_pan() -> None:
    # PIN field 06123456FFFFFFFF; PAN 12345678 → without check digit 1234567 → 0000000001234567.
    # XOR by hand: 0612 3456 (FFFF^0123=FEDC) (FFFF^4567=BA98).
    assert format0_pan_field("12345678").hex().upper() == "0000000001234567"
    assert format0_clear_block("123456", "12345678").hex().upper() == "06123456FEDCBA98"


def test_tdes_primitive_is_pinned_by_the_classic_des_vector() -> None:
    # With K1 = K2 TDES degenerates to single DES: key 0123456789ABCDEF, "Now is t" → 3FA40E8A984D4815
    # (the FIPS 81 / textbook DES example), through the module's own cipher helper.
    key = bytes.fromhex("0123456789ABCDEF") * 2
    block = bytes.fromhex("3FA40E8A984D4815")
    assert pinblock._tdes(key, b"Now is t") == block
    assert pinblock._tdes(key, block, decrypt=True) == b"Now is t"
    with pytest.raises(PinBlockError):  # "Now is t" is no PIN block; the structure check says so
        decrypt_pin_block(block, key, PAN)


def test_format0_encipherment_matches_raw_tdes() -> None:
    block = encrypt_pin_block("1234", PAN, TDES_KEY, 0)
    enc = Cipher(TripleDES(TDES_KEY + TDES_KEY[:8]), modes.ECB()).encryptor()
    assert block == enc.update(bytes.fromhex("0412AC89ABCDEF67")) + enc.finalize()
    assert decrypt_pin_block(block, TDES_KEY, PAN, 0) == "1234"
    triple = TDES_KEY + bytes.fromhex("89ABCDEF01234567")
    assert decrypt_pin_block(encrypt_pin_block("98765", PAN, triple), triple, PAN) == "98765"


def test_aes_primitive_fips197_vector() -> None:
    enc = Cipher(algorithms.AES(AES_KEY), modes.ECB()).encryptor()
    out = enc.update(bytes.fromhex("00112233445566778899AABBCCDDEEFF")) + enc.finalize()
    assert out.hex() == "69c4e0d86a7b0430d8cdb78070b4c55a"


def test_format4_fields_by_hand() -> None:
    assert format4_pin_field("1234", FILL).hex().upper() == "441234AAAAAAAAAA1122334455667788"
    # 17-digit PAN → M = 5, then the digits, then zero padding to 32 nibbles
    assert format4_pan_field(PAN).hex().upper() == "54321987654321098700000000000000"
    # shorter than 12 digits: left-padded to 12, M = 0
    assert format4_pan_field("1234567").hex().upper() == "00000012345670000000000000000000"
    assert parse_format4_pin_field(bytes.fromhex("441234AAAAAAAAAA1122334455667788")) == "1234"


def test_format4_vector_composed_from_raw_aes() -> None:
    # Worked by hand: PIN field P = 441234AAAAAAAAAA1122334455667788, PAN field A = 5432198765432109870…0,
    # block = E(K, E(K, P) XOR A). Composed here with the bare AES primitive pinned above.
    def aes(block: bytes) -> bytes:
        enc = Cipher(algorithms.AES(AES_KEY), modes.ECB()).encryptor()
        return enc.update(block) + enc.finalize()

    pin_field = bytes.fromhex("441234AAAAAAAAAA1122334455667788")
    pan_field = bytes.fromhex("54321987654321098700000000000000")
    expected = aes(bytes(a ^ b for a, b in zip(aes(pin_field), pan_field, strict=True)))
    block = encrypt_pin_block("1234", PAN, AES_KEY, 4, random_fill=FILL)
    assert block == expected
    assert decrypt_pin_block(block, AES_KEY, PAN, 4) == "1234"


def test_format4_uses_fresh_random_fill_and_aes256() -> None:
    key = bytes(range(32))
    a = encrypt_pin_block("4321", PAN, key, 4)
    b = encrypt_pin_block("4321", PAN, key, 4)
    assert a != b  # same PIN, different blocks: the random half defeats dictionary attacks
    assert decrypt_pin_block(a, key, PAN, 4) == decrypt_pin_block(b, key, PAN, 4) == "4321"


def test_wrong_pan_or_key_is_detected_not_misread() -> None:
    block = encrypt_pin_block("1234", PAN, AES_KEY, 4, random_fill=FILL)
    with pytest.raises(PinBlockError):
        decrypt_pin_block(block, bytes(16), PAN, 4)
    with pytest.raises(PinBlockError):
        decrypt_pin_block(block, AES_KEY, "4321987654321099", 4)


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a4", ""])
def test_bad_pins_are_refused_without_echoing_them(pin: str) -> None:
    with pytest.raises(PinBlockError) as info:
        format0_clear_block(pin, PAN)
    assert not pin or pin not in str(info.value)


def test_bad_lengths() -> None:
    with pytest.raises(PinBlockError):
        decrypt_pin_block(b"\x00" * 7, TDES_KEY, PAN, 0)
    with pytest.raises(PinBlockError):
        decrypt_pin_block(b"\x00" * 8, AES_KEY, PAN, 4)
    with pytest.raises(PinBlockError):
        encrypt_pin_block("1234", PAN, b"\x00" * 10, 0)
    with pytest.raises(PinBlockError):
        format0_pan_field("12x4")
    with pytest.raises(ValueError):
        encrypt_pin_block("1234", PAN, TDES_KEY, 3)
