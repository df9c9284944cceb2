"""Where the host's keys are kept, from its settings: the PKCS#11 token (default) or the development files.

``hsm.backend = "pkcs11"`` (the default): :func:`token_config` names the module (the bank's, or the
embedded SoftHSM2), the token label and where the user PIN comes from; :func:`host_token` is the process's
one logged-in session on it, shared by the vault and the PIN HSM. ``hsm.backend = "file"`` keeps the keys
in ``<keys dir>/vault.json`` and ``hsm.json`` beside the database: a development fallback that the settings
refuse when ``deployment`` is production.
"""

from __future__ import annotations

import os
from pathlib import Path

from bank.security.pkcs11token import (
    AES_TEMPLATE,
    DATA_KEY_LABEL,
    LOOKUP_KEY_LABEL,
    PVK_LABEL,
    TokenConfig,
    TokenError,
    TokenSession,
    find_softhsm,
    shared_session,
)
from bank.security.vault import FileKeys, Vault, VaultError
from bank.settings import HostSettings

FILE_KEY_NAMES = ("vault.json", "hsm.json")


def token_config(settings: HostSettings) -> TokenConfig:
    hsm = settings.hsm
    if hsm.module:
        return TokenConfig(hsm.module, hsm.token_label, settings.hsm_pin_file, None)
    module = find_softhsm()
    if module is None:
        raise TokenError(
            "SoftHSM2 is not installed (the embedded HSM): apt-get install softhsm2, "
            "or set hsm.module to your HSM's PKCS#11 library"
        )
    return TokenConfig(module, hsm.token_label, settings.hsm_pin_file, settings.hsm_dir)


def host_token(settings: HostSettings) -> TokenSession:
    return shared_session(token_config(settings))


def open_host_vault(settings: HostSettings) -> Vault:
    """The host's vault: keys on the token, or (development only) in the key file."""
    if settings.hsm.backend == "file":
        return Vault.open(settings.key_dir)
    left = file_keys_present(settings)
    if left:
        raise VaultError(
            f"key files {', '.join(str(p) for p in left)} are beside the data: move them onto the token "
            "with `smart-teller host keys import-file-keys` (a host upgraded from file keys)"
        )
    return Vault.on_token(host_token(settings), refresh_s=settings.hsm.refresh_s)


def file_keys_present(settings: HostSettings) -> list[Path]:
    return [settings.key_dir / name for name in FILE_KEY_NAMES if (settings.key_dir / name).exists()]


def _destroy_file(path: Path) -> None:
    """Overwrite, sync and remove a key file (a copy-on-write or journaling disk may still hold old
    blocks: the keys imported from it should be rotated away, see docs/security.md)."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.write(b"\0" * size)
        handle.flush()
        os.fsync(handle.fileno())
    path.unlink()


def import_file_keys(settings: HostSettings, *, keep_files: bool = False) -> dict[str, object]:
    """Move the development key files (data keys, look-up key, PVK) onto an empty token, as sensitive,
    non-extractable objects under the same ids, so every stored ciphertext, look-up hash and PVV still
    checks out; then destroy the files (unless ``keep_files``)."""
    from pkcs11 import KeyType

    from bank.security.hsm import HSM_KEY_FILE, load_or_create_pvk

    if settings.hsm.backend != "pkcs11":
        raise VaultError("hsm.backend is file: there is no token to import into")
    if not (settings.key_dir / "vault.json").exists():
        raise VaultError(f"no key file {settings.key_dir / 'vault.json'} to import")
    token = host_token(settings)
    if any(token.find_keys(label) for label in (DATA_KEY_LABEL, LOOKUP_KEY_LABEL, PVK_LABEL)):
        raise VaultError(f"token {settings.hsm.token_label!r} already holds host keys; nothing imported")
    keys, lookup = FileKeys.open(settings.key_dir).export_for_migration()
    for kid, value in sorted(keys.items()):
        token.import_secret(DATA_KEY_LABEL, kid.encode(), KeyType.AES, value, AES_TEMPLATE)
    token.hmac_key(LOOKUP_KEY_LABEL, import_value=lookup)
    pvk_imported = (settings.key_dir / HSM_KEY_FILE).exists()
    if pvk_imported:
        token.hmac_key(PVK_LABEL, import_value=load_or_create_pvk(settings.key_dir))
    removed: list[str] = []
    if not keep_files:
        for path in file_keys_present(settings):
            _destroy_file(path)
            removed.append(path.name)
    return {"data_keys": sorted(keys), "lookup_key": True, "pvk": pvk_imported, "removed": removed}
