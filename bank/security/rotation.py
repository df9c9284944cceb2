"""Key rotation: a new vault key, then every encrypted column re-encrypted under it.

Encrypted columns are found from the ORM metadata (any column typed ``EncryptedText``/``EncryptedBytes``),
so a table added later is covered without touching this file. Rows are read as raw ciphertext (the
TypeDecorator is bypassed) and only those made under an older key are rewritten, so an interrupted run
can simply be repeated. Old keys stay in the key file: a backup restored later still decrypts.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from sqlalchemy import Engine, LargeBinary, column, select, table, update

from bank.db.base import Base
from bank.security.vault import EncryptedBytes, EncryptedText, Vault

MODEL_MODULES = ("bank.db.models", "bank.models", "bank.security.models")


@dataclass(frozen=True)
class RotationReport:
    old_key: str
    new_key: str
    rewritten: dict[str, int]  # "table.column" → rows re-encrypted


def encrypted_columns() -> list[tuple[str, list[str], str]]:
    """(table, primary key columns, encrypted column) for every encrypted column the models declare."""
    for module in MODEL_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise
    found = []
    for tbl in Base.metadata.sorted_tables:
        keys = [c.name for c in tbl.primary_key.columns]
        for col in tbl.columns:
            if isinstance(col.type, EncryptedText | EncryptedBytes):
                found.append((tbl.name, keys, col.name))
    return found


def reencrypt_all(engine: Engine, vault: Vault, *, batch: int = 500) -> dict[str, int]:
    """Re-encrypt every value not made under the vault's active key; returns counts per column."""
    counts: dict[str, int] = {}
    for table_name, keys, column_name in encrypted_columns():
        raw = table(table_name, *(column(k) for k in keys), column(column_name, LargeBinary))
        value = raw.c[column_name]
        rewritten = 0
        with engine.begin() as conn:
            rows = conn.execute(select(*(raw.c[k] for k in keys), value).where(value.is_not(None))).all()
            for start in range(0, len(rows), batch):
                for row in rows[start : start + batch]:
                    blob = bytes(row[-1])
                    if vault.key_id_of(blob) == vault.active_key_id:
                        continue
                    where = [raw.c[k] == row[i] for i, k in enumerate(keys)]
                    conn.execute(update(raw).where(*where).values({column_name: vault.reencrypt(blob)}))
                    rewritten += 1
        counts[f"{table_name}.{column_name}"] = rewritten
    return counts


def rotate_and_reencrypt(engine: Engine, vault: Vault) -> RotationReport:
    old = vault.active_key_id
    new = vault.rotate()
    return RotationReport(old, new, reencrypt_all(engine, vault))
