"""TR-31 (ANSI X9.143) key blocks, version B: the TDES key derivation binding method.

How the bank host hands the terminal's PIN pad its working keys at sign-on: each key travels wrapped
under the key block protection key (KBPK; for us the PIN pad's terminal master key, TMK), bound to a
clear header that says what the key may be used for. Nothing here logs anything, and no exception message
contains a key, a derived key or the key block's enciphered part.

Block (all printable ASCII)::

    header (16 chars + optional blocks) | enciphered key data (hex) | MAC (16 hex chars)

    header: 'B' | block length (4 digits, the whole block) | key usage (2) | algorithm (1) |
            mode of use (1) | key version number (2) | exportability (1) |
            number of optional blocks (2 digits) | reserved '00' | optional blocks

Version B (X9.143 / TR-31:2018 section 5.3.2):

1. From the KBPK (16 or 24 bytes) derive the key block encryption key (KBEK) and authentication key
   (KBAK) with TDES-CMAC as the PRF (NIST SP 800-108 counter mode): for each 8-byte piece i = 1, 2 (3)
   the input is ``i | usage (0000 encryption, 0001 MAC) | 00 | algorithm (0000 2-key, 0001 3-key TDES) |
   length in bits (0080 / 00C0)``.
2. Key data = key length in bits (2 bytes, big-endian) + key + padding (random bytes up to a multiple of
   8; more may be added to hide the key's length).
3. MAC = TDES-CMAC under the KBAK over the header's ASCII bytes + the clear key data (8 bytes).
4. The key data is enciphered with TDES-CBC under the KBEK with the MAC as IV.

Only version B is implemented: A and C (variant binding) are deprecated, D is AES.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass, field

from hostlink import tdes

__all__ = [
    "KEY_USAGES",
    "KeyBlockError",
    "UnwrappedKey",
    "derive_keys",
    "unwrap",
    "wrap",
]

VERSION = "B"
HEADER_LEN = 16
MAC_LEN = 8  # bytes; 16 hex characters at the end of the block
MAX_BLOCK_LEN = 9999  # the length field has 4 digits

# The usages this system uses, with the modes of use X9.143 allows for each and the one wrap() picks.
KEY_USAGES: dict[str, tuple[str, str]] = {
    "P0": ("BDE", "E"),  # PIN encryption
    "M3": ("CGV", "C"),  # ISO 9797-1 MAC algorithm 3 (retail MAC)
    "K0": ("BDE", "B"),  # key encryption or wrapping (a TMK itself)
}
_TDES_LENGTHS = (16, 24)
_HEX = frozenset("0123456789ABCDEF")
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class KeyBlockError(ValueError):
    """A malformed key block, one that fails authentication, or bad wrap arguments.

    The message says what is wrong with the structure; it never contains key material."""


@dataclass(frozen=True)
class UnwrappedKey:
    """An authenticated key block's key and the header it was bound to (``key`` is left out of repr)."""

    key: bytes = field(repr=False)
    usage: str
    algorithm: str
    mode: str
    version_number: str
    exportability: str
    header: str
    optional_blocks: tuple[tuple[str, str], ...] = ()


# -- key derivation ------------------------------------------------------------------------------


def derive_keys(kbpk: bytes) -> tuple[bytes, bytes]:
    """(KBEK, KBAK) for a 16- or 24-byte KBPK, by the version B derivation (TDES-CMAC PRF)."""
    if len(kbpk) not in _TDES_LENGTHS:
        raise KeyBlockError(f"version B key block protection key must be 16 or 24 bytes, got {len(kbpk)}")
    algorithm, bits = (b"\x00\x00", b"\x00\x80") if len(kbpk) == 16 else (b"\x00\x01", b"\x00\xc0")
    pieces = len(kbpk) // 8

    def derive(usage: bytes) -> bytes:
        return b"".join(
            tdes.cmac(kbpk, bytes([counter]) + usage + b"\x00" + algorithm + bits)
            for counter in range(1, pieces + 1)
        )

    return derive(b"\x00\x00"), derive(b"\x00\x01")


# -- wrap ----------------------------------------------------------------------------------------


def _check_field(name: str, value: str, length: int) -> None:
    if len(value) != length or not set(value) <= _ALNUM:
        raise KeyBlockError(f"{name} must be {length} alphanumeric character(s), got {value!r}")


def wrap(
    kbpk: bytes,
    key: bytes,
    usage: str,
    *,
    algorithm: str = "T",
    mode: str | None = None,
    version_number: str = "00",
    exportability: str = "N",
    padding: bytes | None = None,
) -> str:
    """Wrap ``key`` under ``kbpk`` in a version B key block.

    ``mode`` defaults to the usual mode for the usage (P0 ``E``, M3 ``C``, K0 ``B``; otherwise ``N``).
    ``padding`` fixes the padding bytes (for test vectors; it may be longer than needed, to hide the key
    length); by default the key data is padded with random bytes to the next multiple of 8.
    """
    _check_field("key usage", usage, 2)
    _check_field("algorithm", algorithm, 1)
    allowed, usual = KEY_USAGES.get(usage, ("", "N"))
    mode = usual if mode is None else mode
    _check_field("mode of use", mode, 1)
    if allowed and mode not in allowed:
        raise KeyBlockError(f"mode of use {mode!r} is not allowed for key usage {usage} (allowed: {allowed})")
    _check_field("key version number", version_number, 2)
    _check_field("exportability", exportability, 1)
    if algorithm == "T" and len(key) not in _TDES_LENGTHS:
        raise KeyBlockError(f"a TDES key is 16 or 24 bytes, got {len(key)}")
    if not key:
        raise KeyBlockError("no key to wrap")
    if padding is None:
        padding = os.urandom(-(2 + len(key)) % tdes.BLOCK_SIZE)
    if (2 + len(key) + len(padding)) % tdes.BLOCK_SIZE:
        raise KeyBlockError("key length + key + padding must be a multiple of 8 bytes")
    clear = (len(key) * 8).to_bytes(2, "big") + key + padding
    total = HEADER_LEN + 2 * len(clear) + 2 * MAC_LEN
    if total > MAX_BLOCK_LEN:
        raise KeyBlockError(f"key block would be {total} characters, more than {MAX_BLOCK_LEN}")
    header = f"{VERSION}{total:04d}{usage}{algorithm}{mode}{version_number}{exportability}0000"
    kbek, kbak = derive_keys(kbpk)
    mac = tdes.cmac(kbak, header.encode("ascii") + clear)
    return header + tdes.cbc_encrypt(kbek, mac, clear).hex().upper() + mac.hex().upper()


# -- unwrap --------------------------------------------------------------------------------------


def _parse_optional_blocks(block: str, count: int) -> tuple[int, tuple[tuple[str, str], ...]]:
    """Walk ``count`` optional blocks after the fixed header; (header length, ((id, data), ...))."""
    pos = HEADER_LEN
    found: list[tuple[str, str]] = []
    for index in range(1, count + 1):
        block_id = block[pos : pos + 2]
        if len(block_id) != 2 or not set(block_id) <= _ALNUM:
            raise KeyBlockError(f"optional block {index}: ID is not two alphanumeric characters")
        length_hex = block[pos + 2 : pos + 4]
        if len(length_hex) != 2 or not set(length_hex) <= _HEX:
            raise KeyBlockError(f"optional block {block_id}: length is not two hex digits")
        length, data_start = int(length_hex, 16), pos + 4
        if length == 0:  # extended length: 2 hex digits give the number of hex digits that follow
            size_hex = block[pos + 4 : pos + 6]
            if len(size_hex) != 2 or not set(size_hex) <= _HEX or int(size_hex, 16) == 0:
                raise KeyBlockError(f"optional block {block_id}: extended length is malformed")
            digits = int(size_hex, 16)
            length_field = block[pos + 6 : pos + 6 + digits]
            if len(length_field) != digits or not set(length_field) <= _HEX:
                raise KeyBlockError(f"optional block {block_id}: extended length is malformed")
            length, data_start = int(length_field, 16), pos + 6 + digits
        if pos + length < data_start:
            raise KeyBlockError(f"optional block {block_id}: length does not cover its own ID and length")
        end = pos + length
        if end > len(block):
            raise KeyBlockError(f"optional block {block_id} runs past the end of the key block")
        found.append((block_id, block[data_start:end]))
        pos = end
    return pos, tuple(found)


def unwrap(kbpk: bytes, block: str) -> UnwrappedKey:
    """Check and open a version B key block; :class:`KeyBlockError` if it is malformed or not authentic.

    Only the structure is checked here (and that a TDES key is 16 or 24 bytes); whether the usage, mode
    and algorithm suit the job is the receiver's decision.
    """
    if not isinstance(block, str) or not block.isascii() or not block.isprintable():
        raise KeyBlockError("key block must be printable ASCII text")
    if len(block) < HEADER_LEN:
        raise KeyBlockError(f"key block is {len(block)} characters, shorter than its 16-character header")
    if block[0] != VERSION:
        raise KeyBlockError(f"key block version {block[0]!r} is not supported (only version B)")
    length_field = block[1:5]
    if not length_field.isdigit():
        raise KeyBlockError("key block length field is not 4 digits")
    if int(length_field) != len(block):
        raise KeyBlockError(f"key block length field says {int(length_field)}, the block has {len(block)}")
    if len(block) % tdes.BLOCK_SIZE:
        raise KeyBlockError(f"version B key block length must be a multiple of 8, got {len(block)}")
    usage, algorithm, mode = block[5:7], block[7], block[8]
    version_number, exportability, count, reserved = block[9:11], block[11], block[12:14], block[14:16]
    for name, value in (
        ("key usage", usage),
        ("algorithm", algorithm),
        ("mode of use", mode),
        ("key version number", version_number),
        ("exportability", exportability),
    ):
        if not set(value) <= _ALNUM:
            raise KeyBlockError(f"{name} in the header is not alphanumeric")
    if not count.isdigit():
        raise KeyBlockError("number of optional blocks is not 2 digits")
    if not set(reserved) <= _ALNUM:
        raise KeyBlockError("reserved header field is not alphanumeric")
    header_len, optional = _parse_optional_blocks(block, int(count))
    body = block[header_len:]
    if not set(body) <= _HEX:
        raise KeyBlockError("enciphered key data and MAC must be upper-case hex")
    enciphered_hex, mac_hex = body[: -2 * MAC_LEN], body[-2 * MAC_LEN :]
    if len(mac_hex) != 2 * MAC_LEN or not enciphered_hex or len(enciphered_hex) % (2 * tdes.BLOCK_SIZE):
        raise KeyBlockError("enciphered key data must be whole 8-byte blocks followed by an 8-byte MAC")
    header = block[:header_len]
    received_mac = bytes.fromhex(mac_hex)
    kbek, kbak = derive_keys(kbpk)
    clear = tdes.cbc_decrypt(kbek, received_mac, bytes.fromhex(enciphered_hex))
    if not hmac.compare_digest(tdes.cmac(kbak, header.encode("ascii") + clear), received_mac):
        raise KeyBlockError(
            "key block authentication failed (wrong protection key, or the block was altered)"
        )
    bits = int.from_bytes(clear[:2], "big")
    if bits == 0 or bits % 8 or 2 + bits // 8 > len(clear):
        raise KeyBlockError("key length inside the key block is inconsistent with its key data")
    key = clear[2 : 2 + bits // 8]
    if algorithm == "T" and len(key) not in _TDES_LENGTHS:
        raise KeyBlockError(f"a TDES key is 16 or 24 bytes, the key block holds {len(key)}")
    return UnwrappedKey(key, usage, algorithm, mode, version_number, exportability, header, optional)
