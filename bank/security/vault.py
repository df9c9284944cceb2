"""Encryption at rest (AES-256-GCM) and keyed look-up hashes (HMAC-SHA256), with key rotation.

The keys live in the host's HSM (:class:`TokenKeys`, PKCS#11, docs/security.md "Keys in the HSM
(PKCS#11)"): non-extractable, sensitive token objects; encryption, decryption and look-up hashes are token
operations. :class:`FileKeys` keeps them in process memory instead: in memory only for tests and
benchmarks (:meth:`Vault.ephemeral`), or in ``<keys dir>/vault.json`` as the development fallback
(``hsm.backend = "file"``, refused when ``deployment`` is production).

Each ciphertext names the key that made it, so after :meth:`Vault.rotate` old rows still decrypt and are
re-encrypted at leisure; another host process finds a key it has not seen on the token by its id. Look-up
hashes (PAN, ID number) use a separate HMAC key that is never rotated in place, since every stored hash
would have to be recomputed from plaintext we no longer hold.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_MAGIC = b"ST1"


class VaultError(Exception):
    """Missing or damaged key material, or a ciphertext that fails authentication."""


def _key_number(kid: str) -> int:
    return int(kid[1:]) if kid.startswith("k") and kid[1:].isdigit() else 0


class KeyBackend(Protocol):
    """Where the data keys and the look-up key are, and who runs the cipher with them."""

    custody: str  # "pkcs11", "file" or "memory"

    def active_key_id(self) -> str: ...
    def key_ids(self) -> list[str]: ...
    def seal(self, kid: str, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes: ...
    def unseal(self, kid: str, nonce: bytes, sealed: bytes, associated: bytes) -> bytes: ...
    def lookup_mac(self, data: bytes) -> bytes: ...
    def new_key(self) -> str: ...
    def destroy_key(self, kid: str) -> None: ...


class FileKeys:
    """Keys in process memory: in memory only, or saved in a development key file (0600)."""

    def __init__(
        self, keys: dict[str, bytes], active: str, hmac_key: bytes, path: Path | None = None
    ) -> None:
        if active not in keys:
            raise VaultError(f"active key {active!r} is not in the key file")
        self._keys = dict(keys)
        self._active = active
        self._hmac_key = hmac_key
        self._path = path
        self.custody = "memory" if path is None else "file"

    @classmethod
    def open(cls, key_dir: Path) -> FileKeys:
        """Load ``key_dir/vault.json``, creating it (0600, dir 0700) on first start."""
        path = key_dir / "vault.json"
        if not path.exists():
            key_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(key_dir, 0o700)
            keys = cls({"k1": AESGCM.generate_key(256)}, "k1", secrets.token_bytes(32), path)
            keys._save()
            return keys
        try:
            data = json.loads(path.read_text())
            keys_ = {kid: base64.b64decode(k) for kid, k in data["keys"].items()}
            return cls(keys_, data["active"], base64.b64decode(data["hmac"]), path)
        except (KeyError, ValueError) as exc:
            raise VaultError(f"key file {path} is damaged: {exc}") from None

    def _save(self) -> None:
        if self._path is None:
            return
        data = {
            "active": self._active,
            "keys": {kid: base64.b64encode(k).decode() for kid, k in self._keys.items()},
            "hmac": base64.b64encode(self._hmac_key).decode(),
        }
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._path)

    def export_for_migration(self) -> tuple[dict[str, bytes], bytes]:
        """The raw keys, ONLY for ``keys import-file-keys`` (moving them onto the token once)."""
        return dict(self._keys), self._hmac_key

    def active_key_id(self) -> str:
        return self._active

    def key_ids(self) -> list[str]:
        return sorted(self._keys, key=_key_number)

    def seal(self, kid: str, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
        return AESGCM(self._keys[kid]).encrypt(nonce, plaintext, associated)

    def unseal(self, kid: str, nonce: bytes, sealed: bytes, associated: bytes) -> bytes:
        key = self._keys.get(kid)
        if key is None:
            raise VaultError(f"ciphertext made with unknown key {kid!r}")
        try:
            return AESGCM(key).decrypt(nonce, sealed, associated)
        except Exception:
            raise VaultError("ciphertext failed authentication") from None

    def lookup_mac(self, data: bytes) -> bytes:
        return hmac.new(self._hmac_key, data, hashlib.sha256).digest()

    def new_key(self) -> str:
        kid = f"k{max(_key_number(k) for k in self._keys) + 1}"
        self._keys[kid] = AESGCM.generate_key(256)
        self._active = kid
        self._save()
        return kid

    def destroy_key(self, kid: str) -> None:
        del self._keys[kid]
        self._save()


class TokenKeys:
    """Keys as PKCS#11 token objects: AES-256 data keys (``CKA_ID`` = key id) and the HMAC look-up key.

    The active key is the data key with the highest number; a process looks again every ``refresh_s``
    seconds, so a rotation made by another process is followed within that time, and a key id it has not
    seen yet is looked up on the token on first use.
    """

    custody = "pkcs11"

    def __init__(self, session: Any, *, refresh_s: float = 2.0, clock: Any = time.monotonic) -> None:
        from bank.security.pkcs11token import DATA_KEY_LABEL, LOOKUP_KEY_LABEL, TokenSession

        assert isinstance(session, TokenSession)
        self._token = session
        self._label = DATA_KEY_LABEL
        self._refresh_s = refresh_s
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._lookup = session.hmac_key(LOOKUP_KEY_LABEL)
        self._active = ""
        self._checked = float("-inf")
        if not self._refresh():
            self.new_key()

    def _refresh(self) -> bool:
        ids = [kid.decode() for kid in self._token.key_ids(self._label)]
        self._checked = self._clock()
        if not ids:
            return False
        self._active = max(ids, key=_key_number)
        return True

    def _key(self, kid: str) -> Any:
        key = self._keys.get(kid)
        if key is None:
            found = self._token.find_keys(self._label, kid.encode())
            if not found:
                raise VaultError(f"ciphertext made with unknown key {kid!r}")
            key = self._keys[kid] = found[0]
        return key

    def active_key_id(self) -> str:
        with self._lock:
            if self._clock() - self._checked >= self._refresh_s:
                self._refresh()
            return self._active

    def key_ids(self) -> list[str]:
        return sorted((kid.decode() for kid in self._token.key_ids(self._label)), key=_key_number)

    def seal(self, kid: str, nonce: bytes, plaintext: bytes, associated: bytes) -> bytes:
        from pkcs11 import GCMParams, Mechanism

        with self._token.lock:
            return bytes(
                self._key(kid).encrypt(
                    plaintext,
                    mechanism=Mechanism.AES_GCM,
                    mechanism_param=GCMParams(nonce, associated or None),
                )
            )

    def unseal(self, kid: str, nonce: bytes, sealed: bytes, associated: bytes) -> bytes:
        from pkcs11 import GCMParams, Mechanism
        from pkcs11.exceptions import PKCS11Error

        with self._token.lock:
            key = self._key(kid)
            try:
                return bytes(
                    key.decrypt(
                        sealed,
                        mechanism=Mechanism.AES_GCM,
                        mechanism_param=GCMParams(nonce, associated or None),
                    )
                )
            except PKCS11Error:
                raise VaultError("ciphertext failed authentication") from None

    def lookup_mac(self, data: bytes) -> bytes:
        return self._token.sign_hmac(self._lookup, data)

    def new_key(self) -> str:
        with self._lock:
            numbers = [_key_number(kid.decode()) for kid in self._token.key_ids(self._label)]
            kid = f"k{max(numbers, default=0) + 1}"
            self._keys[kid] = self._token.generate_aes_key(self._label, kid.encode())
            if len(self._token.find_keys(self._label, kid.encode())) > 1:  # a rotation elsewhere, same id
                self._keys.pop(kid).destroy()
                raise VaultError(f"another process made key {kid} at the same moment; run the rotation again")
            self._active = kid
            self._checked = self._clock()
            return kid

    def destroy_key(self, kid: str) -> None:
        with self._lock, self._token.lock:
            for key in self._token.find_keys(self._label, kid.encode()):
                key.destroy()
            self._keys.pop(kid, None)


class Vault:
    def __init__(self, backend: KeyBackend) -> None:
        self._backend = backend
        self._lock = threading.Lock()

    @classmethod
    def open(cls, key_dir: Path) -> Vault:
        """The development fallback: keys in ``key_dir/vault.json`` (created 0600 on first start)."""
        return cls(FileKeys.open(key_dir))

    @classmethod
    def ephemeral(cls) -> Vault:
        """An in-memory vault (tests, benchmarks)."""
        return cls(FileKeys({"k1": AESGCM.generate_key(256)}, "k1", secrets.token_bytes(32)))

    @classmethod
    def on_token(cls, session: Any, *, refresh_s: float = 2.0) -> Vault:
        """Keys on the PKCS#11 token of ``session`` (a :class:`bank.security.pkcs11token.TokenSession`);
        the first data key and the look-up key are made there on first start."""
        return cls(TokenKeys(session, refresh_s=refresh_s))

    def __repr__(self) -> str:
        return f"Vault(custody={self.custody!r})"

    @property
    def backend(self) -> KeyBackend:
        return self._backend

    @property
    def custody(self) -> str:
        """Where the keys are: ``pkcs11`` (the HSM), ``file`` (development key file), ``memory``."""
        return self._backend.custody

    @property
    def active_key_id(self) -> str:
        return self._backend.active_key_id()

    @property
    def key_ids(self) -> list[str]:
        return self._backend.key_ids()

    def rotate(self) -> str:
        """Make a new active key; old keys stay for decryption. Returns the new key id."""
        with self._lock:
            return self._backend.new_key()

    def destroy_key(self, kid: str) -> None:
        """Destroy an old key for good (:func:`bank.security.rotation.retire_key` checks no row uses it)."""
        if kid == self.active_key_id:
            raise VaultError(f"key {kid} is the active key")
        if kid not in self.key_ids:
            raise VaultError(f"no key {kid!r}")
        self._backend.destroy_key(kid)

    # -- crypto ------------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, associated: bytes = b"") -> bytes:
        active = self._backend.active_key_id()
        kid = active.encode()
        nonce = secrets.token_bytes(12)
        sealed = self._backend.seal(active, nonce, plaintext, associated)
        return _MAGIC + bytes([len(kid)]) + kid + nonce + sealed

    def decrypt(self, blob: bytes, associated: bytes = b"") -> bytes:
        if not blob.startswith(_MAGIC) or len(blob) < 4:
            raise VaultError("not a vault ciphertext")
        size = blob[3]
        kid = blob[4 : 4 + size].decode()
        nonce = blob[4 + size : 16 + size]
        return self._backend.unseal(kid, nonce, blob[16 + size :], associated)

    def key_id_of(self, blob: bytes) -> str:
        return blob[4 : 4 + blob[3]].decode()

    def reencrypt(self, blob: bytes, associated: bytes = b"") -> bytes:
        return self.encrypt(self.decrypt(blob, associated), associated)

    def lookup_hash(self, value: str, domain: str) -> str:
        """Keyed hash for equality look-ups (e.g. the PAN on card insert) without storing the value."""
        return self._backend.lookup_mac(f"{domain}\x00{value}".encode()).hex()


_current: Vault | None = None


def install_vault(vault: Vault) -> None:
    """Set the process-wide vault used by encrypted columns (done once at start-up)."""
    global _current
    _current = vault


def current_vault() -> Vault:
    if _current is None:
        raise VaultError("no vault installed: call install_vault() at start-up")
    return _current


class EncryptedText(TypeDecorator[str]):
    """A text column stored as AES-GCM ciphertext under the installed vault."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else current_vault().encrypt(value.encode("utf-8"))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else current_vault().decrypt(bytes(value)).decode("utf-8")


class EncryptedBytes(TypeDecorator[bytes]):
    """A binary column (face template, photo) stored as AES-GCM ciphertext."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: Dialect) -> bytes | None:
        return None if value is None else current_vault().encrypt(bytes(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> bytes | None:
        return None if value is None else current_vault().decrypt(bytes(value))
