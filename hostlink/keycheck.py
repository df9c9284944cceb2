"""Checks on PIN key settings made at start, so a wrong key is a clear refusal and not a kiosk that
fails every PIN check (and retains every card).

A TDES key is 16 or 24 bytes with odd parity in every byte (the product makes keys that way and a key
with bad parity is a mistyped one); an AES key is 16, 24 or 32 bytes. A key check value (KCV), when
given, must match: TDES KCV = the first 3 bytes of TDES-ECB of a zero block; AES KCV = the first 3 bytes
of AES-CMAC over a zero block (ANSI X9.24-1). Messages name what is wrong, never a key byte.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import algorithms
from cryptography.hazmat.primitives.cmac import CMAC

from hostlink import tdes

# The documented test keys shared with the simulators (docs/security.md). Fine against a simulator; a
# terminal with real devices must never run with them.
TEST_TDES_PIN_KEY = "0123456789ABCDEFFEDCBA9876543210"
TEST_AES_PIN_KEY = "000102030405060708090A0B0C0D0E0F"
TEST_KEYS = frozenset({TEST_TDES_PIN_KEY, TEST_AES_PIN_KEY})
# The documented test terminal master key the PIN pad simulator is built with (KCV 0385D4). A host that
# wraps a terminal's working keys under it enrolled that terminal with ``--test-tmk``: fine for a simulated
# pad, never for real hardware (everyone can read this line and unwrap the terminal's PIN key).
TEST_TMK_HEX = "AD3B97BA38012AE654D9612ACBEC9143"


def _raw(value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise ValueError("must be hexadecimal") from None


def tdes_key(value: str) -> bytes:
    """The TDES key in ``value`` (hex), or ValueError saying why it cannot be one."""
    raw = _raw(value)
    if len(raw) not in (16, 24):
        raise ValueError(f"a TDES key is 16 or 24 bytes, this one is {len(raw)}")
    if not tdes.has_odd_parity(raw):
        raise ValueError("a TDES key has odd parity in every byte; this one does not (mistyped?)")
    return raw


def aes_key(value: str) -> bytes:
    """The AES key in ``value`` (hex), or ValueError saying why it cannot be one."""
    raw = _raw(value)
    if len(raw) not in (16, 24, 32):
        raise ValueError(f"an AES key is 16, 24 or 32 bytes, this one is {len(raw)}")
    return raw


def aes_kcv(key: bytes) -> str:
    mac = CMAC(algorithms.AES(key))
    mac.update(bytes(16))
    return mac.finalize()[:3].hex().upper()


def check_kcv(name: str, key: bytes, expected: str, *, aes: bool) -> None:
    """ValueError naming the setting when ``expected`` (6 hex digits; empty: not checked) is not the
    key's KCV. Only the expected KCV is quoted, never the key or its real KCV."""
    if not expected:
        return
    actual = aes_kcv(key) if aes else tdes.kcv(key)
    if actual != expected.upper():
        raise ValueError(f"{name} does not match its key check value {expected.upper()}: wrong key loaded")


def is_hardware_address(address: str) -> bool:
    """A serial device setting that names real hardware: a serial port (``/dev/ttyUSB0``, ``COM3``),
    i.e. anything without a URL scheme. Simulators are reached by URL (``socket://``, ``tcp://``)."""
    return bool(address.strip()) and "://" not in address
