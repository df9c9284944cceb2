"""The bank's PIN HSM: PIN keys, PIN verification values, PIN checks. The clear PIN never leaves it.

What a real HSM does for a card issuer, in software: it holds the PIN encryption keys shared with the
PIN pad (TDES for ISO 9564 format 0, AES for format 4, from settings) and a PIN verification key (PVK),
deciphers PIN blocks, and answers yes/no. The clear PIN exists only as a local inside these methods: it is
never returned, logged, stored or put into an exception message.

PIN verification value (PVV) method — a keyed hash, not IBM 3624: ``"H1" + hex(HMAC-SHA256(PVK,
"smart-teller-pvv-v1" NUL PAN NUL PIN))[:16]``. 64 bits bind the PIN to the card and are useless without
the PVK. ``H1`` names the method so a later scheme (or IBM 3624 offsets for imported cards) can sit beside
it. The PVK is a non-extractable, sensitive HMAC key on the host's PKCS#11 token and the PVV is a
``C_Sign`` (``CKM_SHA256_HMAC``) there (:func:`hsm_for_host`); only the development fallback
(``hsm.backend = "file"``) keeps it in ``<keys dir>/hsm.json``. Generic PKCS#11 has no PIN-translate or
PIN-verify command, so the PIN block is deciphered here, with the PIN pads' keys, and the clear PIN exists
for the length of one call.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bank.security.pkcs11token import PVK_LABEL, TokenSession
from bank.settings import HostSettings, SecuritySettings
from hostlink.pinblock import PinBlockError, PinBlockFormat, decrypt_pin_block

PVV_METHOD = "H1"
_PVV_DOMAIN = b"smart-teller-pvv-v1"
_PVV_HEX_LEN = 16
HSM_KEY_FILE = "hsm.json"


def pin_verification_value(pvk: bytes, pan: str, pin: str) -> str:
    """The PVV stored for ``pin`` on card ``pan``: method tag + truncated HMAC-SHA256 under the PVK.

    Public because the data-dir audit (:mod:`bank.security.loot`) attacks stored PVVs the way a thief
    holding the PVK would; nothing else outside the HSM computes one.
    """
    mac = hmac.new(pvk, _PVV_DOMAIN + b"\x00" + pan.encode() + b"\x00" + pin.encode(), hashlib.sha256)
    return PVV_METHOD + mac.hexdigest()[:_PVV_HEX_LEN].upper()


class HsmError(Exception):
    """A PIN block that cannot be deciphered, or damaged key material (never contains PIN digits)."""


def format_of(pin_block: bytes) -> PinBlockFormat:
    """ISO 9564 format from the enciphered block's size: 8 bytes (TDES) → 0, 16 bytes (AES) → 4."""
    if len(pin_block) == 8:
        return PinBlockFormat.ISO0
    if len(pin_block) == 16:
        return PinBlockFormat.ISO4
    raise HsmError(f"a PIN block is 8 (format 0) or 16 (format 4) bytes, got {len(pin_block)}")


def load_or_create_pvk(key_dir: Path) -> bytes:
    """The PIN verification key from ``key_dir/hsm.json``, created (0600, dir 0700) on first start."""
    path = key_dir / HSM_KEY_FILE
    if path.exists():
        try:
            pvk = base64.b64decode(json.loads(path.read_text())["pvk"], validate=True)
        except (KeyError, ValueError) as exc:
            raise HsmError(f"HSM key file {path} is damaged: {type(exc).__name__}") from None
        if len(pvk) != 32:
            raise HsmError(f"HSM key file {path} is damaged: PVK is not 32 bytes")
        return pvk
    key_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(key_dir, 0o700)
    pvk = secrets.token_bytes(32)
    data = {"pvk": base64.b64encode(pvk).decode(), "created": datetime.now(UTC).isoformat()}
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return pvk


def _weak(pin: str) -> bool:
    """All one digit, or a straight run up or down (1234, 9876): the first guesses of a card thief."""
    if len(set(pin)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(pin)}
    return steps in ({1}, {9})


PvkSigner = Callable[[bytes], bytes]  # data → HMAC-SHA256 under the PVK, computed where the PVK is


def _file_pvk_signer(pvk: bytes) -> PvkSigner:
    def sign(data: bytes) -> bytes:
        return hmac.new(pvk, data, hashlib.sha256).digest()

    return sign


class SimulatedHsm:
    def __init__(self, tdes_pin_key: bytes, aes_pin_key: bytes, pvk: bytes | PvkSigner) -> None:
        if isinstance(pvk, bytes | bytearray):
            if len(pvk) < 16:
                raise HsmError("PVK must be at least 16 bytes")
            self._pvk: PvkSigner = _file_pvk_signer(bytes(pvk))
        else:
            self._pvk = pvk
        self._keys = {PinBlockFormat.ISO0: bytes(tdes_pin_key), PinBlockFormat.ISO4: bytes(aes_pin_key)}

    @classmethod
    def from_settings(
        cls, security: SecuritySettings, key_dir: Path, *, pvk: bytes | PvkSigner | None = None
    ) -> SimulatedHsm:
        """PIN keys from settings; the PVK from ``key_dir`` (created on first start) unless passed in."""
        return cls(
            bytes.fromhex(security.pin_key_hex),
            bytes.fromhex(security.pin_key_aes_hex),
            pvk if pvk is not None else load_or_create_pvk(key_dir),
        )

    def __repr__(self) -> str:
        return "SimulatedHsm(<keys hidden>)"

    def with_tdes_pin_key(self, key: bytes) -> SimulatedHsm:
        """The same HSM with another format 0 PIN key: a terminal's session TPK."""
        return SimulatedHsm(key, self._keys[PinBlockFormat.ISO4], self._pvk)

    # -- the clear PIN lives only inside these -------------------------------------------------
    def _pin_of(self, pin_block: bytes, pan: str) -> str:
        fmt = format_of(pin_block)
        try:
            return decrypt_pin_block(pin_block, self._keys[fmt], pan, fmt)
        except PinBlockError as exc:
            raise HsmError(f"PIN block rejected: {exc}") from None

    def _pvv(self, pan: str, pin: str) -> str:
        mac = self._pvk(_PVV_DOMAIN + b"\x00" + pan.encode() + b"\x00" + pin.encode())
        return PVV_METHOD + mac.hex()[:_PVV_HEX_LEN].upper()

    # -- the HSM's commands ----------------------------------------------------------------------
    def verify_pin(self, pin_block: bytes, pan: str, pvv: str) -> bool:
        """True when the block holds the PIN ``pvv`` was made from; garbage after deciphering is wrong."""
        if not pvv.startswith(PVV_METHOD):
            raise HsmError(f"unknown PVV method {pvv[:2]!r}")
        format_of(pin_block)  # a block of the wrong size is a broken pad link, not a wrong PIN
        try:
            candidate = self._pvv(pan, self._pin_of(pin_block, pan))
        except HsmError:
            return False
        return hmac.compare_digest(candidate, pvv)

    def pvv_from_pin_block(self, pin_block: bytes, pan: str) -> str:
        """Set a new PIN for a new card: the PVV to store for the PIN inside ``pin_block``."""
        return self._pvv(pan, self._pin_of(pin_block, pan))

    def pin_blocks_match(self, block_a: bytes, block_b: bytes, pan: str) -> bool:
        """ "Enter the new PIN again": both blocks hold the same PIN (blocks differ: format 4 is salted)."""
        try:
            return hmac.compare_digest(self._pin_of(block_a, pan), self._pin_of(block_b, pan))
        except HsmError:
            return False

    def is_weak_pin(self, pin_block: bytes, pan: str) -> bool:
        """New-PIN policy: refuse 0000, 1111, 1234, 9876 and the like."""
        return _weak(self._pin_of(pin_block, pan))

    def pvv_for_clear_pin(self, pan: str, pin: str) -> str:
        """ONLY for seeding the documented test cards; customers' PINs always arrive as PIN blocks."""
        if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
            raise HsmError("PIN must be 4..12 decimal digits")
        return self._pvv(pan, pin)


def token_pvk_signer(session: TokenSession) -> PvkSigner:
    """HMAC-SHA256 under the PVK on the token (made there, non-extractable, on first start)."""
    key = session.hmac_key(PVK_LABEL)

    def sign(data: bytes) -> bytes:
        return session.sign_hmac(key, data)

    return sign


def hsm_for_host(settings: HostSettings) -> SimulatedHsm:
    """The host's PIN HSM: the PVK on the PKCS#11 token, or in the development key file."""
    if settings.hsm.backend == "file":
        return SimulatedHsm.from_settings(settings.security, settings.key_dir)
    from bank.security.custody import host_token

    return SimulatedHsm.from_settings(
        settings.security, settings.key_dir, pvk=token_pvk_signer(host_token(settings))
    )


def pvv_for_settings(settings: HostSettings) -> Callable[[str, str], str]:
    """(pan, pin) → PVV with this host's keys: ONLY for seeding the documented test cards."""
    return hsm_for_host(settings).pvv_for_clear_pin
