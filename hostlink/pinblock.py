"""ISO 9564-1 PIN blocks: format 0 (TDES) and format 4 (AES).

The PIN pad (EPP) builds and enciphers the block; the bank's HSM deciphers and checks it. Nothing here
logs, stores or formats a PIN or a PIN block into a message: errors say what is wrong with the structure,
never what the digits were.

Format 0: PIN field ``0 L P P P P P/F … F`` (16 nibbles) XOR PAN field ``0000`` + the 12 rightmost PAN
digits excluding the check digit; the 8-byte result is enciphered with TDES (double- or triple-length key).

Format 4: PIN field (16 bytes) ``4 L P P P P P/A … A`` (16 nibbles) + 8 random bytes; PAN field (16
bytes) ``M`` + PAN digits, where M = len(PAN) - 12 (a PAN shorter than 12 digits is left-padded with
zeros to 12 and M = 0), right-padded with ``0`` nibbles. The enciphered block is
``E(K, E(K, PIN field) XOR PAN field)`` with AES-128/192/256 in ECB on single blocks.
"""

from __future__ import annotations

import os
from enum import IntEnum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "PinBlockError",
    "PinBlockFormat",
    "decrypt_pin_block",
    "encrypt_pin_block",
    "format0_clear_block",
    "format0_pan_field",
    "format4_pan_field",
    "format4_pin_field",
    "parse_format0_clear_block",
    "parse_format4_pin_field",
]

MIN_PIN_LEN = 4
MAX_PIN_LEN = 12


class PinBlockFormat(IntEnum):
    ISO0 = 0
    ISO4 = 4


class PinBlockError(ValueError):
    """A PIN, PAN, key or block with the wrong structure (the message never contains PIN digits)."""


def _check_pin(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit()):
        raise PinBlockError("PIN must be decimal digits")
    if not MIN_PIN_LEN <= len(pin) <= MAX_PIN_LEN:
        raise PinBlockError(f"PIN length must be {MIN_PIN_LEN}..{MAX_PIN_LEN}")


def _check_pan(pan: str) -> None:
    if not (pan.isascii() and pan.isdigit()) or not 1 <= len(pan) <= 19:
        raise PinBlockError("PAN must be 1..19 decimal digits")


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


# -- format 0 ------------------------------------------------------------------------------------


def format0_pan_field(pan: str) -> bytes:
    """``0000`` + the 12 rightmost PAN digits excluding the check digit (left-padded with zeros)."""
    _check_pan(pan)
    account = pan[:-1][-12:].rjust(12, "0")
    return bytes.fromhex("0000" + account)


def format0_clear_block(pin: str, pan: str) -> bytes:
    _check_pin(pin)
    pin_field = bytes.fromhex(f"0{len(pin):X}{pin}".ljust(16, "F"))
    return _xor(pin_field, format0_pan_field(pan))


def parse_format0_clear_block(block: bytes, pan: str) -> str:
    if len(block) != 8:
        raise PinBlockError(f"format 0 block is 8 bytes, got {len(block)}")
    field = _xor(block, format0_pan_field(pan)).hex().upper()
    if field[0] != "0":
        raise PinBlockError("not a format 0 PIN block (control nibble is not 0)")
    length = int(field[1], 16)
    if not MIN_PIN_LEN <= length <= MAX_PIN_LEN:
        raise PinBlockError("format 0 PIN length nibble out of range (wrong key or PAN?)")
    pin, fill = field[2 : 2 + length], field[2 + length :]
    if not pin.isdigit() or set(fill) - {"F"}:
        raise PinBlockError("format 0 PIN field is malformed (wrong key or PAN?)")
    return pin


def _tdes_key(key: bytes) -> bytes:
    if len(key) == 16:
        return key + key[:8]  # double-length key K1 K2 used as K1 K2 K1
    if len(key) == 24:
        return key
    raise PinBlockError(f"TDES PIN key must be 16 or 24 bytes, got {len(key)}")


def _tdes(key: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    cipher = Cipher(TripleDES(_tdes_key(key)), modes.ECB())  # noqa: S305 - one 8-byte block, as ISO 9564 specifies
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(block) + ctx.finalize()


# -- format 4 ------------------------------------------------------------------------------------


def format4_pin_field(pin: str, random_fill: bytes | None = None) -> bytes:
    """``4 L PIN A…A`` (8 bytes) + 8 random bytes (``random_fill`` fixes them, for test vectors)."""
    _check_pin(pin)
    fill = os.urandom(8) if random_fill is None else random_fill
    if len(fill) != 8:
        raise PinBlockError("format 4 random fill is 8 bytes")
    return bytes.fromhex(f"4{len(pin):X}{pin}".ljust(16, "A")) + fill


def format4_pan_field(pan: str) -> bytes:
    _check_pan(pan)
    digits = pan.rjust(12, "0")
    return bytes.fromhex(f"{len(digits) - 12}{digits}".ljust(32, "0"))


def parse_format4_pin_field(field: bytes) -> str:
    if len(field) != 16:
        raise PinBlockError(f"format 4 PIN field is 16 bytes, got {len(field)}")
    text = field[:8].hex().upper()
    if text[0] != "4":
        raise PinBlockError("not a format 4 PIN block (control nibble is not 4; wrong key or PAN?)")
    length = int(text[1], 16)
    if not MIN_PIN_LEN <= length <= MAX_PIN_LEN:
        raise PinBlockError("format 4 PIN length nibble out of range (wrong key or PAN?)")
    pin, fill = text[2 : 2 + length], text[2 + length :]
    if not pin.isdigit() or set(fill) - {"A"}:
        raise PinBlockError("format 4 PIN field is malformed (wrong key or PAN?)")
    return pin


def _aes(key: bytes, block: bytes, *, decrypt: bool = False) -> bytes:
    if len(key) not in (16, 24, 32):
        raise PinBlockError(f"AES PIN key must be 16, 24 or 32 bytes, got {len(key)}")
    cipher = Cipher(algorithms.AES(key), modes.ECB())  # noqa: S305 - single 16-byte blocks per ISO 9564-1
    ctx = cipher.decryptor() if decrypt else cipher.encryptor()
    return ctx.update(block) + ctx.finalize()


# -- the two sides -------------------------------------------------------------------------------


def encrypt_pin_block(
    pin: str,
    pan: str,
    key: bytes,
    fmt: PinBlockFormat | int = PinBlockFormat.ISO0,
    *,
    random_fill: bytes | None = None,
) -> bytes:
    """The EPP side: build the PIN block and encipher it under the PIN key."""
    fmt = PinBlockFormat(fmt)
    if fmt is PinBlockFormat.ISO0:
        return _tdes(key, format0_clear_block(pin, pan))
    intermediate = _aes(key, format4_pin_field(pin, random_fill))
    return _aes(key, _xor(intermediate, format4_pan_field(pan)))


def decrypt_pin_block(
    block: bytes,
    key: bytes,
    pan: str,
    fmt: PinBlockFormat | int = PinBlockFormat.ISO0,
) -> str:
    """The HSM side: decipher ``block`` and return the PIN; :class:`PinBlockError` if it is malformed."""
    fmt = PinBlockFormat(fmt)
    if fmt is PinBlockFormat.ISO0:
        if len(block) != 8:
            raise PinBlockError(f"format 0 enciphered block is 8 bytes, got {len(block)}")
        return parse_format0_clear_block(_tdes(key, block, decrypt=True), pan)
    if len(block) != 16:
        raise PinBlockError(f"format 4 enciphered block is 16 bytes, got {len(block)}")
    intermediate = _xor(_aes(key, block, decrypt=True), format4_pan_field(pan))
    return parse_format4_pin_field(_aes(key, intermediate, decrypt=True))
