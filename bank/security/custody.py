"""Where the host's keys are kept, from its settings: the PKCS#11 token (default) or the development files.

``hsm.backend = "pkcs11"`` (the default): :func:`token_config` names the module (the bank's, or the
embedded SoftHSM2), the token label and where the user PIN comes from; :func:`host_token` is the process's
one logged-in session on it, shared by the vault and the PIN HSM. ``hsm.backend = "file"`` keeps the keys
in ``<keys dir>/vault.json`` and ``hsm.json`` beside the database: a development fallback that the settings
refuse when ``deployment`` is production.
"""

from __future__ import annotations

from bank.security.pkcs11token import TokenConfig, TokenError, TokenSession, find_softhsm, shared_session
from bank.security.vault import Vault
from bank.settings import HostSettings


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
    return Vault.on_token(host_token(settings), refresh_s=settings.hsm.refresh_s)
