"""Key rotation on the PKCS#11 token: every encrypted column, other vaults following, retiring old keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from bank.audit import HostAudit
from bank.billing.models import BillSchedule
from bank.db.base import Base
from bank.db.registry import import_all_models
from bank.models import Customer
from bank.runtime import Runtime, start_runtime
from bank.security.custody import host_token
from bank.security.hsm import pvv_for_settings
from bank.security.rotation import KeyInUse, encrypted_columns, key_usage, retire_key, rotate_and_reencrypt
from bank.security.vault import EncryptedBytes, EncryptedText, Vault, VaultError
from bank.seed import seed_bank
from bank.settings import load_host_settings as load_settings
from bank.terminals.service import TerminalRegistry


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    runtime = start_runtime(load_settings(data_dir=str(tmp_path / "data")))
    yield runtime
    runtime.close()


def _metadata_encrypted_columns() -> set[str]:
    import_all_models()
    return {
        f"{tbl.name}.{col.name}"
        for tbl in Base.metadata.tables.values()
        for col in tbl.columns
        if isinstance(col.type, EncryptedText | EncryptedBytes)
    }


def _ciphertext_cells(runtime: Runtime) -> dict[str, set[str]]:
    """Every vault ciphertext in the database, found by reading every column of every table (not from
    the rotation's own list): "table.column" → the key ids seen."""
    found: dict[str, set[str]] = {}
    with runtime.engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{name}"')).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes) and value.startswith(b"ST1"):
                        found.setdefault(f"{name}.{column}", set()).add(runtime.vault.key_id_of(value))
    return found


def _populate(runtime: Runtime) -> None:
    with Session(runtime.engine) as session:
        seed_bank(session, runtime.vault, pvv_for=pvv_for_settings(runtime.settings))
    TerminalRegistry(runtime.engine, HostAudit(runtime.engine, "HOST-1")).enrol("KIOSK-0042")
    with Session(runtime.engine) as session, session.begin():
        customer = session.scalars(select(Customer)).first()
        assert customer is not None
        account_id = session.execute(text("SELECT id FROM bank_accounts LIMIT 1")).scalar_one()
        session.add(
            BillSchedule(
                customer_id=customer.id,
                from_account_id=account_id,
                biller_code="POWER",
                account_number="1234567890",
                account_hash="x" * 64,
                account_masked="******7890",
                day_of_month=5,
            )
        )


def test_every_encrypted_column_of_the_metadata_is_rotated(runtime: Runtime) -> None:
    _populate(runtime)
    declared = _metadata_encrypted_columns()
    assert {"bill_schedules.account_number", "host_terminals.secret"} <= declared
    assert {f"{t}.{c}" for t, _, c in encrypted_columns()} == declared
    before = _ciphertext_cells(runtime)
    assert set(before) <= declared  # nothing encrypted that the metadata does not declare
    assert {"bill_schedules.account_number", "host_terminals.secret", "bank_cards.pan_encrypted"} <= set(
        before
    )
    report = rotate_and_reencrypt(runtime.engine, runtime.vault)
    assert set(report.rewritten) == declared
    assert report.rewritten["bill_schedules.account_number"] == 1
    after = _ciphertext_cells(runtime)
    assert set(after) == set(before)
    assert {kid for kids in after.values() for kid in kids} == {"k2"}, after
    with Session(runtime.engine) as session:  # still readable through the ORM
        (schedule,) = session.scalars(select(BillSchedule)).all()
        assert schedule.account_number == "1234567890"
    assert sum(rotate_and_reencrypt(runtime.engine, runtime.vault).rewritten.values()) == sum(
        report.rewritten.values()
    )  # the next rotation rewrites the same values again, under k3


def test_another_vault_on_the_token_follows_a_rotation(runtime: Runtime) -> None:
    """Another host process's vault: it finds the new key by its id at once, and encrypts under it
    within its refresh interval."""
    other = Vault.on_token(host_token(runtime.settings), refresh_s=0.3)
    assert other.key_id_of(other.encrypt(b"before")) == "k1"
    assert runtime.vault.rotate() == "k2"
    blob = runtime.vault.encrypt(b"made under k2")
    assert other.decrypt(blob) == b"made under k2"  # looked up on the token on the miss
    time.sleep(0.35)
    assert other.key_id_of(other.encrypt(b"after")) == "k2"


def test_an_old_key_is_retired_only_when_no_row_uses_it(runtime: Runtime) -> None:
    _populate(runtime)
    vault = runtime.vault
    kept = vault.encrypt(b"a backup's value under k1")
    with pytest.raises(KeyInUse, match="active key"):
        retire_key(runtime.engine, vault, "k1")
    vault.rotate()
    with pytest.raises(KeyInUse, match=r"key k1 still encrypts \d+ values: .*bank_cards.pan_encrypted"):
        retire_key(runtime.engine, vault, "k1")
    assert vault.decrypt(kept) == b"a backup's value under k1"
    rotate = rotate_and_reencrypt(runtime.engine, vault)  # k3; nothing under k1 or k2 any more
    assert rotate.new_key == "k3" and "k1" not in key_usage(runtime.engine, vault)
    retire_key(runtime.engine, vault, "k1")
    assert vault.key_ids == ["k2", "k3"]
    assert host_token(runtime.settings).find_keys("smart-teller-data-key", b"k1") == []
    with pytest.raises(VaultError, match="unknown key 'k1'"):
        vault.decrypt(kept)
    with pytest.raises(VaultError, match="no key"):
        retire_key(runtime.engine, vault, "k1")


def test_the_rotate_command_covers_every_encrypted_column(tmp_path: Path) -> None:
    """Through ``smart-teller host keys rotate`` in its own process, which imports only what it needs:
    the bill schedules' account numbers were missed there before the columns came from every model."""
    import subprocess
    import sys

    from app.hostproc import host_environment

    data = tmp_path / "data"
    runtime = start_runtime(load_settings(data_dir=str(data)))
    _populate(runtime)
    runtime.close()
    done = subprocess.run(
        [sys.executable, "-m", "bank", "keys", "rotate", "--json", "--settle", "0"],
        env=host_environment(data),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    runtime = start_runtime(load_settings(data_dir=str(data)))
    try:
        cells = _ciphertext_cells(runtime)
        assert "bill_schedules.account_number" in cells
        assert {kid for kids in cells.values() for kid in kids} == {"k2"}, cells
    finally:
        runtime.close()
