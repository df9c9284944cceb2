"""Key rotation: a new data key, then every encrypted column re-encrypted under it; old keys retired after.

Encrypted columns are found from the ORM metadata with every ``bank.<area>.models`` module imported
(:func:`bank.db.registry.import_all_models`): any column typed ``EncryptedText``/``EncryptedBytes`` is
covered, so a table added later needs no change here. Rows are read as raw ciphertext (the TypeDecorator is
bypassed) and only those made under an older key are rewritten, each with a compare-and-set on the old
ciphertext (a row a running host process changed meanwhile is left to it), so an interrupted run can
simply be repeated.

Safe while terminals and host processes run: the new key is made on the token first; every host process
looks for a newer key every ``hsm.refresh_s`` seconds and finds a key it has not seen by its id, so the
rewrite waits that long (``settle_s``) before it starts, after which nothing new is written under the old
key. :func:`retire_key` destroys an old key on the token, and refuses while any row still uses it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, LargeBinary, column, select, table, update

from bank.db.base import Base
from bank.db.registry import import_all_models
from bank.security.vault import EncryptedBytes, EncryptedText, Vault, VaultError


@dataclass(frozen=True)
class RotationReport:
    old_key: str
    new_key: str
    rewritten: dict[str, int]  # "table.column" → rows re-encrypted


class KeyInUse(VaultError):
    """A key still used by stored rows cannot be retired."""


def encrypted_columns() -> list[tuple[str, list[str], str]]:
    """(table, primary key columns, encrypted column) for every encrypted column the models declare."""
    import_all_models()
    found = []
    for tbl in Base.metadata.sorted_tables:
        keys = [c.name for c in tbl.primary_key.columns]
        for col in tbl.columns:
            if isinstance(col.type, EncryptedText | EncryptedBytes):
                found.append((tbl.name, keys, col.name))
    return found


def key_usage(engine: Engine, vault: Vault) -> dict[str, Counter[str]]:
    """Key id → ("table.column" → rows whose value was made under it)."""
    usage: dict[str, Counter[str]] = {}
    for table_name, _keys, column_name in encrypted_columns():
        raw = table(table_name, column(column_name, LargeBinary))
        value = raw.c[column_name]
        with engine.connect() as conn:
            for (blob,) in conn.execute(select(value).where(value.is_not(None))):
                kid = vault.key_id_of(bytes(blob))
                usage.setdefault(kid, Counter())[f"{table_name}.{column_name}"] += 1
    return usage


def reencrypt_all(engine: Engine, vault: Vault, *, batch: int = 500) -> dict[str, int]:
    """Re-encrypt every value not made under the vault's active key; returns counts per column."""
    counts: dict[str, int] = {}
    active = vault.active_key_id
    for table_name, keys, column_name in encrypted_columns():
        raw = table(table_name, *(column(k) for k in keys), column(column_name, LargeBinary))
        value = raw.c[column_name]
        rewritten = 0
        with engine.connect() as conn:
            rows = conn.execute(select(*(raw.c[k] for k in keys), value).where(value.is_not(None))).all()
        for start in range(0, len(rows), batch):
            with engine.begin() as conn:
                for row in rows[start : start + batch]:
                    blob = bytes(row[-1])
                    if vault.key_id_of(blob) == active:
                        continue
                    where = [raw.c[k] == row[i] for i, k in enumerate(keys)]
                    done = conn.execute(
                        update(raw).where(*where, value == blob).values({column_name: vault.reencrypt(blob)})
                    )
                    rewritten += done.rowcount
        counts[f"{table_name}.{column_name}"] = rewritten
    return counts


def rotate_and_reencrypt(engine: Engine, vault: Vault, *, settle_s: float = 0.0) -> RotationReport:
    """A new active key, then (after ``settle_s``, the other host processes' refresh interval) every
    value under an older key rewritten under it."""
    old = vault.active_key_id
    new = vault.rotate()
    if settle_s > 0:
        time.sleep(settle_s)
    return RotationReport(old, new, reencrypt_all(engine, vault))


def retire_key(engine: Engine, vault: Vault, kid: str) -> None:
    """Destroy key ``kid`` for good; refused (KeyInUse) while any row still uses it, or if it is active."""
    if kid == vault.active_key_id:
        raise KeyInUse(f"key {kid} is the active key; rotate first")
    if kid not in vault.key_ids:
        raise VaultError(f"no key {kid!r}")
    used = key_usage(engine, vault).get(kid)
    if used:
        where = ", ".join(f"{name} ({count})" for name, count in sorted(used.items()))
        raise KeyInUse(f"key {kid} still encrypts {sum(used.values())} values: {where}; run keys rotate")
    vault.destroy_key(kid)
