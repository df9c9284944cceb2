"""Encryption at rest (AES-256-GCM) and keyed look-up hashes (HMAC-SHA256), with key rotation.

The key file lives in ``<data dir>/keys/vault.json``, created on first start with owner-only permissions.
Each ciphertext names the key that made it, so after :meth:`Vault.rotate` old rows still decrypt and are
re-encrypted at leisure. Look-up hashes (PAN, ID number) use a separate HMAC key that is never rotated
in place, since every stored hash would have to be recomputed from plaintext we no longer hold.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

_MAGIC = b"ST1"


class VaultError(Exception):
    """Missing or damaged key material, or a ciphertext that fails authentication."""


class Vault:
    def __init__(
        self, keys: dict[str, bytes], active: str, hmac_key: bytes, path: Path | None = None
    ) -> None:
        if active not in keys:
            raise VaultError(f"active key {active!r} is not in the key file")
        self._keys = dict(keys)
        self._active = active
        self._hmac_key = hmac_key
        self._path = path
        self._lock = threading.Lock()

    # -- key file ----------------------------------------------------------------------------
    @classmethod
    def open(cls, key_dir: Path) -> Vault:
        """Load ``key_dir/vault.json``, creating it (0600, dir 0700) on first start."""
        path = key_dir / "vault.json"
        if not path.exists():
            key_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(key_dir, 0o700)
            vault = cls({"k1": AESGCM.generate_key(256)}, "k1", secrets.token_bytes(32), path)
            vault._save()
            return vault
        try:
            data = json.loads(path.read_text())
            keys = {kid: base64.b64decode(k) for kid, k in data["keys"].items()}
            return cls(keys, data["active"], base64.b64decode(data["hmac"]), path)
        except (KeyError, ValueError) as exc:
            raise VaultError(f"key file {path} is damaged: {exc}") from None

    @classmethod
    def ephemeral(cls) -> Vault:
        """An in-memory vault (tests, benchmarks)."""
        return cls({"k1": AESGCM.generate_key(256)}, "k1", secrets.token_bytes(32))

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

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def rotate(self) -> str:
        """Make a new active key; old keys stay for decryption. Returns the new key id."""
        with self._lock:
            kid = f"k{max(int(k[1:]) for k in self._keys) + 1}"
            self._keys[kid] = AESGCM.generate_key(256)
            self._active = kid
            self._save()
            return kid

    # -- crypto ------------------------------------------------------------------------------
    def encrypt(self, plaintext: bytes, associated: bytes = b"") -> bytes:
        kid = self._active.encode()
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(self._keys[self._active]).encrypt(nonce, plaintext, associated)
        return _MAGIC + bytes([len(kid)]) + kid + nonce + sealed

    def decrypt(self, blob: bytes, associated: bytes = b"") -> bytes:
        if not blob.startswith(_MAGIC) or len(blob) < 4:
            raise VaultError("not a vault ciphertext")
        size = blob[3]
        kid = blob[4 : 4 + size].decode()
        nonce = blob[4 + size : 16 + size]
        key = self._keys.get(kid)
        if key is None:
            raise VaultError(f"ciphertext made with unknown key {kid!r}")
        try:
            return AESGCM(key).decrypt(nonce, blob[16 + size :], associated)
        except Exception:
            raise VaultError("ciphertext failed authentication") from None

    def key_id_of(self, blob: bytes) -> str:
        return blob[4 : 4 + blob[3]].decode()

    def reencrypt(self, blob: bytes, associated: bytes = b"") -> bytes:
        return self.encrypt(self.decrypt(blob, associated), associated)

    def lookup_hash(self, value: str, domain: str) -> str:
        """Keyed hash for equality look-ups (e.g. the PAN on card insert) without storing the value."""
        return hmac.new(self._hmac_key, f"{domain}\x00{value}".encode(), hashlib.sha256).hexdigest()


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
