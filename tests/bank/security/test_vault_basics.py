import stat
from pathlib import Path

import pytest

from bank.security.vault import Vault, VaultError


def test_key_file_is_created_owner_only_and_reopens(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path / "keys")
    key_file = tmp_path / "keys" / "vault.json"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    blob = vault.encrypt("张三 / 110105194912310021".encode())
    assert Vault.open(tmp_path / "keys").decrypt(blob).decode() == "张三 / 110105194912310021"


def test_ciphertext_is_authenticated_and_not_plaintext() -> None:
    vault = Vault.ephemeral()
    blob = vault.encrypt(b"4321987654321098")
    assert b"4321987654321098" not in blob
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(VaultError):
        vault.decrypt(tampered)
    with pytest.raises(VaultError):
        Vault.ephemeral().decrypt(blob)


def test_rotation_keeps_old_ciphertexts_readable(tmp_path: Path) -> None:
    vault = Vault.open(tmp_path / "keys")
    old = vault.encrypt(b"old secret")
    new_id = vault.rotate()
    assert new_id == "k2"
    new = vault.encrypt(b"new secret")
    reopened = Vault.open(tmp_path / "keys")
    assert reopened.active_key_id == "k2"
    assert reopened.decrypt(old) == b"old secret"
    assert reopened.key_id_of(new) == "k2"
    assert reopened.key_id_of(reopened.reencrypt(old)) == "k2"


def test_lookup_hash_is_keyed_and_stable() -> None:
    vault = Vault.ephemeral()
    assert vault.lookup_hash("4321987654321098", "pan") == vault.lookup_hash("4321987654321098", "pan")
    assert vault.lookup_hash("4321987654321098", "pan") != vault.lookup_hash("4321987654321098", "id")
    assert vault.lookup_hash("4321987654321098", "pan") != Vault.ephemeral().lookup_hash(
        "4321987654321098", "pan"
    )
