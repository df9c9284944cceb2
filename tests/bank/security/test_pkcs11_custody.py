"""Keys in the HSM through PKCS#11, against a real SoftHSM2 token made for each test in its temp dir.

The token's store, configuration and PIN file are in ``<data dir>-hsm`` under ``tmp_path``: no global
SoftHSM state is used or left behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pkcs11 import Attribute
from pkcs11.exceptions import AttributeSensitive

from bank.security.custody import host_token, open_host_vault, token_config
from bank.security.hsm import hsm_for_host
from bank.security.pkcs11token import DATA_KEY_LABEL, LOOKUP_KEY_LABEL, PIN_ENV, PVK_LABEL, TokenError
from bank.security.vault import VaultError
from bank.settings import HostSettings, HostSettingsError
from bank.settings import load_host_settings as load_settings
from hostlink.pinblock import PinBlockFormat, encrypt_pin_block

PAN = "6212340000001017"


@pytest.fixture
def settings(tmp_path: Path) -> HostSettings:
    return load_settings(data_dir=str(tmp_path / "data"))


def test_every_host_key_is_a_sensitive_non_extractable_token_object(settings: HostSettings) -> None:
    vault = open_host_vault(settings)
    hsm_for_host(settings).pvv_for_clear_pin(PAN, "2468")
    assert vault.custody == "pkcs11" and vault.active_key_id == "k1"
    token = host_token(settings)
    for label in (DATA_KEY_LABEL, LOOKUP_KEY_LABEL, PVK_LABEL):
        (key,) = token.find_keys(label)
        assert key[Attribute.SENSITIVE] is True, label
        assert key[Attribute.EXTRACTABLE] is False, label
        assert key[Attribute.NEVER_EXTRACTABLE] is True, label
        assert key[Attribute.TOKEN] is True, label
        with pytest.raises(AttributeSensitive):
            key[Attribute.VALUE]


def test_token_encryption_round_trips_and_refuses_a_tampered_ciphertext(settings: HostSettings) -> None:
    vault = open_host_vault(settings)
    blob = vault.encrypt("李娜".encode(), b"bank_customers\x00name\x001")
    assert blob.startswith(b"ST1\x02k1") and "李娜".encode() not in blob
    assert vault.decrypt(blob, b"bank_customers\x00name\x001").decode() == "李娜"
    with pytest.raises(VaultError, match="failed authentication"):
        vault.decrypt(blob[:-1] + bytes([blob[-1] ^ 1]), b"bank_customers\x00name\x001")
    with pytest.raises(VaultError, match="failed authentication"):
        vault.decrypt(blob, b"bank_customers\x00name\x002")
    assert vault.lookup_hash(PAN, "pan") == vault.lookup_hash(PAN, "pan") != vault.lookup_hash(PAN, "id")


def test_pin_checks_sign_with_the_pvk_on_the_token(settings: HostSettings) -> None:
    hsm = hsm_for_host(settings)
    pvv = hsm.pvv_for_clear_pin(PAN, "2468")
    key = bytes.fromhex(settings.security.pin_key_hex)
    aes = bytes.fromhex(settings.security.pin_key_aes_hex)
    assert hsm.verify_pin(encrypt_pin_block("2468", PAN, key), PAN, pvv)
    assert hsm.verify_pin(encrypt_pin_block("2468", PAN, aes, PinBlockFormat.ISO4), PAN, pvv)
    assert not hsm.verify_pin(encrypt_pin_block("2469", PAN, key), PAN, pvv)
    # The same PVK after a restart: it is the token's, not the process's.
    assert hsm_for_host(settings).pvv_for_clear_pin(PAN, "2468") == pvv


def test_another_process_on_the_same_token_decrypts_and_hashes_the_same(settings: HostSettings) -> None:
    vault = open_host_vault(settings)
    blob = vault.encrypt(b"shared by every host process")
    code = (
        "import sys; from pathlib import Path; from bank.settings import load_host_settings as l;"
        "from bank.security.custody import open_host_vault as o;"
        f"v = o(l(data_dir={str(settings.data_dir)!r}));"
        "print(v.decrypt(bytes.fromhex(sys.argv[1])).decode(), v.lookup_hash('x', 'pan'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, blob.hex()], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert out == ["shared", "by", "every", "host", "process", vault.lookup_hash("x", "pan")]


def test_a_wrong_token_pin_is_refused_without_naming_it(
    settings: HostSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_host_vault(settings)  # the token exists
    config = token_config(settings)
    from bank.security.pkcs11token import TokenSession

    monkeypatch.setenv(PIN_ENV, "not-the-pin-0000")
    with pytest.raises(TokenError) as refused:
        TokenSession(config)
    assert "cannot log in" in str(refused.value) and "not-the-pin-0000" not in str(refused.value)
    monkeypatch.delenv(PIN_ENV)
    (settings.hsm_dir / "user.pin").unlink()
    with pytest.raises(TokenError, match="cannot be read"):
        TokenSession(config)


def test_a_bank_hsm_needs_its_pin_from_the_environment_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bank's own module: no store is made and no PIN file is assumed."""
    embedded = load_settings(data_dir=str(tmp_path / "data"))
    open_host_vault(embedded)
    pin = (embedded.hsm_dir / "user.pin").read_text().strip()
    module = token_config(embedded).module
    monkeypatch.setenv("SOFTHSM2_CONF", str(embedded.hsm_dir / "softhsm2.conf"))
    bank = load_settings(
        data_dir=str(tmp_path / "data"), hsm={"module": module, "token_label": "smart-teller"}
    )
    assert bank.hsm_pin_file is None
    monkeypatch.delenv(PIN_ENV, raising=False)
    with pytest.raises(TokenError, match=PIN_ENV):
        open_host_vault(bank)
    monkeypatch.setenv(PIN_ENV, pin)
    assert open_host_vault(bank).decrypt(open_host_vault(embedded).encrypt(b"one token")) == b"one token"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"hsm": {"backend": "file"}}, "development fallback"),
        ({"hsm": {"backend": "file"}, "deployment": "production"}, "development fallback"),
        ({"hsm": {"pin_file": "{data}/pin"}}, "must not be kept inside the data dir"),
        ({"hsm": {"softhsm_dir": "{data}/hsm"}}, "outside the data dir"),
        ({"keys_dir": "{data}/keys"}, "outside the data dir"),
    ],
)
def test_settings_refuse_keys_or_the_pin_in_the_data_dir_and_file_keys_in_production(
    tmp_path: Path, overrides: dict[str, Any], reason: str
) -> None:
    data = tmp_path / "data"

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        return value.replace("{data}", str(data)) if isinstance(value, str) else value

    with pytest.raises(HostSettingsError, match=reason):
        load_settings(data_dir=str(data), **{k: fill(v) for k, v in overrides.items()})
    # Development and test may use the file keys.
    assert load_settings(data_dir=str(data), deployment="test", hsm={"backend": "file"}).hsm.backend == "file"


def test_the_host_command_exits_2_with_one_line_when_softhsm_is_unusable(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
    env["SMART_TELLER_HOST_DATA_DIR"] = str(tmp_path / "data")
    env["SMART_TELLER_HOST_HSM__MODULE"] = str(tmp_path / "no-such-module.so")
    env[PIN_ENV] = "1234"
    done = subprocess.run(
        [sys.executable, "-m", "bank", "bank", "seed"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "cannot be loaded" in done.stderr


def test_a_host_upgraded_from_file_keys_moves_them_onto_the_token(tmp_path: Path) -> None:
    """The file-key host's data still opens after the import: same key ids, same look-up key, same PVK."""
    from sqlalchemy.orm import Session

    from bank.models import find_card_by_pan
    from bank.runtime import start_runtime
    from bank.security.custody import import_file_keys
    from bank.security.hsm import pvv_for_settings
    from bank.security.loot import loot_data_dir
    from bank.seed import SEED_CARDS, seed_bank

    data = tmp_path / "data"
    old = load_settings(data_dir=str(data), deployment="development", hsm={"backend": "file"})
    runtime = start_runtime(old)
    with Session(runtime.engine) as session:
        seed_bank(session, runtime.vault, pvv_for=pvv_for_settings(old))
    runtime.vault.rotate()  # k1 and k2 both in use afterwards
    with Session(runtime.engine) as session, session.begin():
        card = find_card_by_pan(session, runtime.vault, SEED_CARDS[1].pan)
        assert card is not None
        card.pan_encrypted = SEED_CARDS[1].pan  # re-written under k2
    runtime.close()

    new = load_settings(data_dir=str(data))
    with pytest.raises(VaultError, match="import-file-keys"):
        start_runtime(new)
    done = import_file_keys(new)
    assert done == {
        "data_keys": ["k1", "k2"],
        "lookup_key": True,
        "pvk": True,
        "removed": ["vault.json", "hsm.json"],
    }
    assert not (data / "keys" / "vault.json").exists() and not (data / "keys" / "hsm.json").exists()
    with pytest.raises(VaultError, match="already holds host keys"):
        (data / "keys" / "vault.json").write_text('{"active": "k1", "keys": {"k1": "AAAA"}, "hmac": "AAAA"}')
        import_file_keys(new)
    (data / "keys" / "vault.json").unlink()

    runtime = start_runtime(new)
    try:
        assert runtime.vault.custody == "pkcs11" and runtime.vault.active_key_id == "k2"
        hsm = hsm_for_host(new)
        with Session(runtime.engine) as session:
            for seed in SEED_CARDS[:2]:
                card = find_card_by_pan(session, runtime.vault, seed.pan)  # the same look-up hash
                assert card is not None and card.pan_encrypted == seed.pan  # k1 and k2 both open
                block = encrypt_pin_block(seed.pin, seed.pan, bytes.fromhex(new.security.pin_key_hex))
                assert card.pvv is not None and hsm.verify_pin(block, seed.pan, card.pvv)  # the same PVK
        (key,) = host_token(new).find_keys(DATA_KEY_LABEL, b"k1")
        assert key[Attribute.SENSITIVE] is True and key[Attribute.EXTRACTABLE] is False
    finally:
        runtime.close()
    assert loot_data_dir(data).loot == []
