"""TDES for the terminal key hierarchy: key check values, the retail MAC, TDES-CMAC, CBC, fresh keys.

Used on both sides of the wire: the bank host wraps working keys and checks MACs with these functions, the
PIN pad (the simulator, standing in for the EPP's firmware) unwraps keys and computes MACs with them. No
function here logs a key, and no exception message contains key material: errors name lengths only.

* Key check value (KCV): the first 3 bytes of TDES-ECB encryption of 8 zero bytes, as 6 upper-case hex
  characters. It identifies a key without revealing it (the host and the pad compare KCVs after a load).
* Retail MAC: ISO/IEC 9797-1 MAC algorithm 3 with a double-length key K1 K2 (ANSI X9.19): single-DES CBC
  under K1 over every block, then the last output is deciphered under K2 and enciphered under K1 again.
  Padding method 1: zero bytes up to a multiple of 8; empty data is one zero block. Result: 8 bytes.
* TDES-CMAC (NIST SP 800-38B, ISO/IEC 9797-1 MAC algorithm 5): what TR-31 version B derives its keys
  with and authenticates its blocks with (see :mod:`hostlink.keyblock`).

A double-length key K1 K2 is used as K1 K2 K1 (keying option 2), a triple-length key as it is.
"""

from __future__ import annotations

import os

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.cmac import CMAC

__all__ = [
    "BLOCK_SIZE",
    "RetailMac",
    "TdesKeyError",
    "cbc_decrypt",
    "cbc_encrypt",
    "cmac",
    "ecb_encrypt",
    "has_odd_parity",
    "kcv",
    "random_tdes_key",
    "retail_mac",
    "with_odd_parity",
]

BLOCK_SIZE = 8
ZERO_BLOCK = bytes(BLOCK_SIZE)


class TdesKeyError(ValueError):
    """A key of the wrong length for the operation (the message gives the length, never the key)."""


def _ede(key: bytes) -> bytes:
    """The 24-byte K1 K2 K3 form the cipher takes (a 16-byte key becomes K1 K2 K1)."""
    if len(key) == 16:
        return key + key[:8]
    if len(key) == 24:
        return bytes(key)
    raise TdesKeyError(f"TDES key must be 16 or 24 bytes, got {len(key)}")


def _des(half: bytes) -> TripleDES:
    """Single DES as TDES with K1 = K2 = K3 (the decrepit TripleDES takes no 8-byte key)."""
    return TripleDES(half * 3)


def _check_blocks(data: bytes, what: str) -> None:
    if len(data) % BLOCK_SIZE:
        raise ValueError(f"{what} must be a multiple of {BLOCK_SIZE} bytes, got {len(data)}")


def ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """TDES-ECB of whole blocks (a KCV, a PIN block: one block each)."""
    _check_blocks(data, "ECB data")
    encryptor = Cipher(TripleDES(_ede(key)), modes.ECB()).encryptor()  # noqa: S305 - single blocks by design
    return encryptor.update(data) + encryptor.finalize()


def cbc_encrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    _check_blocks(data, "CBC data")
    encryptor = Cipher(TripleDES(_ede(key)), modes.CBC(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    _check_blocks(data, "CBC data")
    decryptor = Cipher(TripleDES(_ede(key)), modes.CBC(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def cmac(key: bytes, data: bytes) -> bytes:
    """TDES-CMAC (NIST SP 800-38B) with a double- or triple-length key: 8 bytes."""
    mac = CMAC(TripleDES(_ede(key)))
    mac.update(data)
    return mac.finalize()


def kcv(key: bytes) -> str:
    """Key check value of a double- or triple-length key: ``08D7B4`` for 0123456789ABCDEF FEDCBA9876543210."""
    return ecb_encrypt(key, ZERO_BLOCK)[:3].hex().upper()


# -- parity and fresh keys -----------------------------------------------------------------------


def _odd(byte: int) -> bool:
    return bin(byte).count("1") % 2 == 1


def has_odd_parity(key: bytes) -> bool:
    """Every byte has an odd number of 1 bits (DES keys carry parity in each byte's low bit)."""
    return len(key) > 0 and all(_odd(b) for b in key)


def with_odd_parity(key: bytes) -> bytes:
    """The same key with each byte's low bit set so the byte has odd parity."""
    return bytes(b if _odd(b) else b ^ 0x01 for b in key)


def random_tdes_key(length: int = 16) -> bytes:
    """A fresh double-length (or, with ``length=24``, triple-length) key from the OS CSPRNG, odd parity."""
    if length not in (16, 24):
        raise TdesKeyError(f"TDES key must be 16 or 24 bytes, got {length}")
    while True:
        key = with_odd_parity(os.urandom(length))
        # K1 = K2 (or K2 = K3) would make it single DES in disguise; vanishingly rare, cheap to refuse
        if key[:8] != key[8:16] and key[8:16] != key[16:24]:
            return key


# -- ISO 9797-1 MAC algorithm 3 ------------------------------------------------------------------


class RetailMac:
    """Incremental retail MAC: feed :meth:`update` any number of chunks, then :meth:`finalize` once.

    Keeps only the CBC chaining state and a partial block between chunks, so data sent to the PIN pad in
    pieces gives the same MAC as the whole (``RetailMac(k).update(a).update(b)`` = ``retail_mac(k, a+b)``).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise TdesKeyError(f"retail MAC key must be 16 bytes (K1 K2), got {len(key)}")
        self._k1, self._k2 = bytes(key[:8]), bytes(key[8:])
        self._cbc = Cipher(_des(self._k1), modes.CBC(ZERO_BLOCK)).encryptor()
        self._pending = b""
        self._last = ZERO_BLOCK
        self._length = 0
        self._done = False

    @property
    def length(self) -> int:
        """Bytes fed so far."""
        return self._length

    def update(self, data: bytes) -> RetailMac:
        if self._done:
            raise ValueError("retail MAC already finalized")
        self._length += len(data)
        buffered = self._pending + bytes(data)
        whole = len(buffered) - len(buffered) % BLOCK_SIZE
        if whole:
            self._last = self._cbc.update(buffered[:whole])[-BLOCK_SIZE:]
        self._pending = buffered[whole:]
        return self

    def finalize(self) -> bytes:
        if self._done:
            raise ValueError("retail MAC already finalized")
        self._done = True
        if self._pending or self._length == 0:  # padding method 1; empty data is one zero block
            tail = self._pending.ljust(BLOCK_SIZE, b"\x00")
            self._last = self._cbc.update(tail)[-BLOCK_SIZE:]
        self._cbc.finalize()
        stage = Cipher(_des(self._k2), modes.ECB()).decryptor()  # noqa: S305 - one block, as X9.19 specifies
        middle = stage.update(self._last) + stage.finalize()
        final = Cipher(_des(self._k1), modes.ECB()).encryptor()  # noqa: S305 - one block, as X9.19 specifies
        return final.update(middle) + final.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO/IEC 9797-1 MAC algorithm 3, padding method 1, 16-byte key K1 K2: the 8-byte MAC of ``data``."""
    return RetailMac(key).update(data).finalize()
