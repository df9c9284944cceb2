"""The host's HSM through PKCS#11 (``python-pkcs11``): the token, its login, and the key objects on it.

A bank points ``hsm.module`` (its vendor's PKCS#11 library), ``hsm.token_label`` and the user PIN (the
``SMART_TELLER_HSM_PIN`` environment variable or ``hsm.pin_file``, never inside the data dir) at its HSM.
With ``hsm.module`` empty the host uses an **embedded SoftHSM2** token: its store, configuration and PIN file
live in ``hsm_dir`` (by default ``<data dir>-hsm``, beside the data dir and never in it); the token is
initialised with a random PIN on first start.

Every key the host makes here is a token object with ``CKA_SENSITIVE`` true and ``CKA_EXTRACTABLE``
false: its value never leaves the token, and the host asks the token to encrypt, decrypt and sign with it.
Objects are told apart by ``CKA_LABEL`` (their role) and ``CKA_ID`` (the key id a ciphertext names).

A PKCS#11 session must not run two operations at once, so one :class:`TokenSession` per process is shared
by the vault and the PIN HSM behind a lock; operations are single-part and take tens of microseconds.
"""

from __future__ import annotations

import fcntl
import logging
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import NoSuchToken, PKCS11Error

log = logging.getLogger(__name__)

PIN_ENV = "SMART_TELLER_HSM_PIN"
EMBEDDED_LABEL = "smart-teller"
SOFTHSM_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
    "/opt/homebrew/lib/softhsm/libsofthsm2.so",
)
# The roles of the host's key objects (CKA_LABEL); data keys carry their key id in CKA_ID as well.
DATA_KEY_LABEL = "smart-teller-data-key"
LOOKUP_KEY_LABEL = "smart-teller-lookup-key"
PVK_LABEL = "smart-teller-pvk"


# Data keys: AES-GCM only. Look-up key and PVK: HMAC (C_Sign) only. Neither can leave the token.
AES_TEMPLATE: dict[Attribute, Any] = {
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.ENCRYPT: True,
    Attribute.DECRYPT: True,
    Attribute.WRAP: False,
    Attribute.UNWRAP: False,
    Attribute.SIGN: False,
    Attribute.DERIVE: False,
    Attribute.PRIVATE: True,
}
HMAC_TEMPLATE: dict[Attribute, Any] = {
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.DECRYPT: False,
    Attribute.DERIVE: False,
    Attribute.PRIVATE: True,
}


class TokenError(Exception):
    """The token cannot be reached, opened or logged in to (the message never holds the PIN)."""


@dataclass(frozen=True)
class TokenConfig:
    """Where the token is and how to log in; made from the host settings by :func:`token_config`."""

    module: str  # path of the PKCS#11 library
    label: str
    pin_file: Path | None  # None: the PIN comes from SMART_TELLER_HSM_PIN
    softhsm_dir: Path | None  # the embedded SoftHSM2's store (None: a bank's own HSM)

    @property
    def softhsm_conf(self) -> Path | None:
        return None if self.softhsm_dir is None else self.softhsm_dir / "softhsm2.conf"


def find_softhsm() -> str | None:
    for candidate in SOFTHSM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return None


def _read_pin(config: TokenConfig) -> str:
    pin = os.environ.get(PIN_ENV, "")
    if pin:
        return pin
    if config.pin_file is None:
        raise TokenError(f"no HSM PIN: set {PIN_ENV} or hsm.pin_file")
    try:
        pin = config.pin_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise TokenError(f"HSM PIN file {config.pin_file} cannot be read: {exc.strerror}") from None
    if not pin:
        raise TokenError(f"HSM PIN file {config.pin_file} is empty")
    return pin


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def prepare_embedded_softhsm(config: TokenConfig) -> None:
    """Write the embedded SoftHSM2's configuration (its store in ``softhsm_dir/tokens``) and, on first
    start, initialise its token with a random user PIN written to the PIN file (0600). Several host
    processes sharing one store take turns (a file lock)."""
    assert config.softhsm_dir is not None and config.softhsm_conf is not None
    base = config.softhsm_dir
    tokens = base / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o700)
    os.chmod(tokens, 0o700)
    with _locked(base / ".lock"):
        conf = (
            f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n"
            "slots.removable = false\n"
        )
        if not config.softhsm_conf.exists() or config.softhsm_conf.read_text(encoding="utf-8") != conf:
            _write_private(config.softhsm_conf, conf)  # rewritten when the store moved (a copied dir)
        if any(tokens.iterdir()):
            return
        util = shutil.which("softhsm2-util")
        if util is None:
            raise TokenError("softhsm2-util not found: install SoftHSM2 (apt-get install softhsm2)")
        pin = secrets.token_hex(16)
        so_pin = secrets.token_hex(16)  # not kept: the embedded token is never re-initialised in place
        if config.pin_file is not None and not os.environ.get(PIN_ENV):
            config.pin_file.parent.mkdir(parents=True, exist_ok=True)
            _write_private(config.pin_file, pin + "\n")
        else:
            pin = _read_pin(config)
        done = subprocess.run(
            [util, "--init-token", "--free", "--label", config.label, "--pin", pin, "--so-pin", so_pin],
            env={**os.environ, "SOFTHSM2_CONF": str(config.softhsm_conf)},
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"exit {done.returncode}"]
            raise TokenError(f"SoftHSM2 token could not be initialised: {reason[0]}")
        log.info("embedded SoftHSM2 token %r initialised in %s", config.label, tokens)


# The PKCS#11 library is loaded once per process; SoftHSM2 reads SOFTHSM2_CONF when it is initialised, so
# a process that moves to another store (tests do) re-initialises it, which ends the old sessions.
_lib_lock = threading.Lock()
_loaded_conf: dict[str, str | None] = {}


def _library(config: TokenConfig, *, rescan: bool = False) -> Any:
    with _lib_lock:
        conf = str(config.softhsm_conf) if config.softhsm_conf is not None else None
        if conf is not None:
            os.environ["SOFTHSM2_CONF"] = conf
        try:
            lib = pkcs11.lib(config.module)
        except (PKCS11Error, OSError, RuntimeError) as exc:
            raise TokenError(f"PKCS#11 module {config.module} cannot be loaded: {exc}") from None
        if config.module in _loaded_conf and (_loaded_conf[config.module] != conf or rescan):
            lib.reinitialize()
        _loaded_conf[config.module] = conf
        return lib


class TokenSession:
    """One logged-in read/write session on the token, shared behind a lock by everything in the process."""

    def __init__(self, config: TokenConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        if config.softhsm_dir is not None:
            prepare_embedded_softhsm(config)
        lib = _library(config)
        try:
            token = lib.get_token(token_label=config.label)
        except NoSuchToken:
            try:  # a token made after the library was initialised (a new store) shows after a rescan
                token = _library(config, rescan=True).get_token(token_label=config.label)
            except NoSuchToken:
                raise TokenError(f"no PKCS#11 token labelled {config.label!r} in {config.module}") from None
        try:
            self.session = token.open(user_pin=_read_pin(config), rw=True)
        except PKCS11Error as exc:
            raise TokenError(f"cannot log in to token {config.label!r}: {type(exc).__name__}") from None

    def __repr__(self) -> str:
        return f"TokenSession(module={self.config.module!r}, label={self.config.label!r})"

    def close(self) -> None:
        with self.lock, suppress(PKCS11Error):
            self.session.close()

    # -- key objects -----------------------------------------------------------------------------------
    def find_keys(self, label: str, key_id: bytes | None = None) -> list[Any]:
        template: dict[Attribute, Any] = {Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label}
        if key_id is not None:
            template[Attribute.ID] = key_id
        with self.lock:
            return list(self.session.get_objects(template))

    def key_ids(self, label: str) -> list[bytes]:
        with self.lock:
            return [bytes(key[Attribute.ID]) for key in self.find_keys(label)]

    def generate_aes_key(self, label: str, key_id: bytes) -> Any:
        """A new AES-256 key on the token: sensitive, never extractable, for AES-GCM only."""
        with self.lock:
            return self.session.generate_key(
                KeyType.AES, 256, label=label, id=key_id, store=True, template=AES_TEMPLATE
            )

    def hmac_key(self, label: str, *, import_value: bytes | None = None) -> Any:
        """The HMAC-SHA256 key of ``label``: made on the token on first use (or imported once from a
        file key being migrated), sensitive and never extractable, for C_Sign only."""
        with self.lock:
            found = self.find_keys(label)
            if found:
                return found[0]
            if import_value is None:
                return self.session.generate_key(
                    KeyType.GENERIC_SECRET,
                    256,
                    label=label,
                    id=label.encode(),
                    store=True,
                    template=HMAC_TEMPLATE,
                )
            return self.import_secret(
                label, label.encode(), KeyType.GENERIC_SECRET, import_value, HMAC_TEMPLATE
            )

    def import_secret(
        self, label: str, key_id: bytes, key_type: KeyType, value: bytes, template: dict[Attribute, Any]
    ) -> Any:
        """Bring a file key onto the token once (migration from the development key files)."""
        attrs = {
            Attribute.CLASS: ObjectClass.SECRET_KEY,
            Attribute.KEY_TYPE: key_type,
            Attribute.TOKEN: True,
            Attribute.LABEL: label,
            Attribute.ID: key_id,
            Attribute.VALUE: value,
            **template,
        }
        with self.lock:
            return self.session.create_object(attrs)

    def sign_hmac(self, key: Any, data: bytes) -> bytes:
        with self.lock:
            return bytes(key.sign(data, mechanism=Mechanism.SHA256_HMAC))


_shared: dict[TokenConfig, TokenSession] = {}
_shared_lock = threading.Lock()


def shared_session(config: TokenConfig) -> TokenSession:
    """The process's session on the token of ``config`` (opened and logged in on first use)."""
    with _shared_lock:
        session = _shared.get(config)
        if session is None:
            for other in list(_shared.values()):
                if other.config.module == config.module and other.config.softhsm_conf != config.softhsm_conf:
                    _shared.pop(other.config, None)  # its library is about to be re-initialised
            session = TokenSession(config)
            _shared[config] = session
        return session
