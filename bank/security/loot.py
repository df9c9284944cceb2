"""What a thief gets from a copied data dir alone: an audit that attacks it as one would.

The thief has the product's source (it is open), so knows its formats: vault ciphertexts (``ST1`` +
key id + 12-byte nonce + AES-GCM), PVVs (``H1`` + 16 hex digits of HMAC-SHA256 under the PVK) and the
SQLite layout. The audit

1. reads every file under the directory, and every cell of every table of every SQLite database in it
   (a copy is opened, WAL included, so the original is not touched);
2. collects every candidate key: any base64 or hex token, or whole file, of 16, 24 or 32 bytes;
3. tries every candidate key on every vault ciphertext, and on every other blob of at least 29 bytes read
   as nonce + AES-GCM ciphertext;
4. brute-forces every 4-digit PIN against every PVV it finds, for every full PAN it can read (in clear or
   decrypted) and every candidate key, keys from key-like places first, within a fixed budget;
5. looks for the personal data it is told to look for (names, ID numbers, phones, addresses), in clear
   or in what it decrypted.

Run against a terminal's data dir it must find nothing to use (the issue's test); run against the host's
data dir with file keys it recovers customers' data and PINs, which is why keys move to PKCS#11.

``python -m bank.security.loot DIR [--known TEXT ...]`` prints the report as JSON and exits 1 when loot
was found. Recovered values never appear in the report: PANs and PINs are masked, data is described.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bank.security.hsm import PVV_METHOD, pin_verification_value
from hostlink.checkdigits import luhn_valid
from hostlink.redaction import mask_pan

VAULT_MAGIC = b"ST1"
KEY_SIZES = frozenset({16, 24, 32})
GCM_MIN = 12 + 16 + 1  # nonce + tag + at least one byte
SQLITE_HEADER = b"SQLite format 3\x00"
# Key-like names: tokens found in files or columns so named are tried first in the PIN attack.
KEY_HINTS = ("key", "pvk", "hmac", "secret", "credential", "vault", "hsm")
PIN_ATTACK_BUDGET = 3_000_000  # PVV computations (a few seconds); the report says when it ran out
GENERIC_GCM_BUDGET = 400_000  # (key, blob) trials of blobs not in the vault format

_B64 = re.compile(rb"[A-Za-z0-9+/_-]{20,}={0,2}")
_HEX = re.compile(rb"\b[0-9A-Fa-f]{32,}\b")
_PVV = re.compile(PVV_METHOD.encode() + rb"[0-9A-F]{16}\b")
# A digit run inside a word (a hex hash such as "…66ce1190479732214d70…") is not a card number: letters
# count as boundaries, as in hostlink.redaction.
_DIGITS = re.compile(rb"(?<![0-9A-Za-z])[1-9][0-9]{12,18}(?![0-9A-Za-z])")


@dataclass(frozen=True)
class Loot:
    kind: str  # "plaintext" (a ciphertext opened), "pin" (a PVV cracked), "pan" (a full PAN), "pii"
    where: str  # file relative to the audited dir, with table.column for database cells
    detail: str  # what was recovered, described or masked, never the value itself


@dataclass
class LootReport:
    root: str
    files: int = 0
    cells: int = 0
    candidate_keys: int = 0
    vault_ciphertexts: int = 0
    other_blobs: int = 0
    check_values: int = 0
    pans_seen: int = 0
    pin_trials: int = 0
    pin_budget_exhausted: bool = False
    loot: list[Loot] = field(default_factory=list)

    def as_json(self) -> str:
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class _Item:
    where: str
    data: bytes
    hint: int  # 2: a key-like file name, 1: a key-like table or column name, 0: neither


def _hinted(name: str) -> bool:
    lowered = name.lower()
    return any(hint in lowered for hint in KEY_HINTS)


def _sqlite_cells(path: Path, rel: str) -> Iterator[_Item]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")  # committed rows not yet checkpointed
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        db = sqlite3.connect(copy)
        try:
            tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            for table in tables:
                cursor = db.execute(f'SELECT * FROM "{table}"')
                columns = [d[0] for d in cursor.description]
                for row in cursor:
                    for column, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        data = value if isinstance(value, bytes) else str(value).encode()
                        where = f"{rel}:{table}.{column}"
                        yield _Item(where, data, 1 if _hinted(column) or _hinted(table) else 0)
        except sqlite3.DatabaseError:
            return  # a damaged database is read as bytes by the caller's fallback
        finally:
            db.close()


def _items(root: Path) -> Iterator[tuple[_Item, bool]]:
    """Every file's bytes and every database cell; the flag says whether the item is a database cell."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = str(path.relative_to(root))
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue  # read with its database
        data = path.read_bytes()
        if data.startswith(SQLITE_HEADER):
            yield from ((cell, True) for cell in _sqlite_cells(path, rel))
        yield _Item(rel, data, 2 if _hinted(rel) else 0), False


def _tokens(data: bytes) -> Iterator[bytes]:
    """Byte strings a text token could encode (base64, URL-safe base64, hex)."""
    for match in _HEX.finditer(data):
        text = match.group()
        if len(text) % 2 == 0:
            yield binascii.unhexlify(text)
    for match in _B64.finditer(data):
        text = match.group()
        padded = text + b"=" * (-len(text) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                yield decode(padded)
            except (binascii.Error, ValueError):
                continue


def _pans(data: bytes) -> set[str]:
    return {m.group().decode() for m in _DIGITS.finditer(data) if luhn_valid(m.group().decode())}


def _open_vault(blob: bytes, key: bytes) -> bytes | None:
    size = blob[3]
    nonce = blob[4 + size : 16 + size]
    try:
        return AESGCM(key).decrypt(nonce, blob[16 + size :], b"")
    except (InvalidTag, ValueError):
        return None


def _open_generic(blob: bytes, key: bytes) -> bytes | None:
    try:
        return AESGCM(key).decrypt(blob[:12], blob[12:], b"")
    except (InvalidTag, ValueError):
        return None


def loot_data_dir(root: Path, known: Iterable[str] = ()) -> LootReport:
    """Attack ``root`` with nothing but its own contents; see the module docstring for the steps."""
    report = LootReport(root=str(root))
    keys: dict[bytes, int] = {}  # key → the best hint of the places it was found
    vault_blobs: list[tuple[str, bytes]] = []
    other_blobs: list[tuple[str, bytes]] = []
    texts: list[tuple[str, bytes]] = []  # what the PAN, PVV and known-data searches read
    pvvs: list[tuple[str, str]] = []
    seen_pvv: set[str] = set()

    def add_key(candidate: bytes, hint: int) -> None:
        if len(candidate) in KEY_SIZES:
            keys[candidate] = max(keys.get(candidate, 0), hint)

    for item, is_cell in _items(root):
        if is_cell:
            report.cells += 1
        else:
            report.files += 1
        data = item.data
        add_key(data, item.hint)
        for token in _tokens(data):
            add_key(token, item.hint)
            if token.startswith(VAULT_MAGIC) and len(token) > 4 + GCM_MIN:
                vault_blobs.append((item.where, token))
        if data.startswith(VAULT_MAGIC) and len(data) > 4 + GCM_MIN:
            vault_blobs.append((item.where, data))
        elif is_cell and len(data) >= GCM_MIN and not data.isascii():
            other_blobs.append((item.where, data))
        texts.append((item.where, data))
        for match in _PVV.finditer(data):
            value = match.group().decode()
            if value not in seen_pvv:
                seen_pvv.add(value)
                pvvs.append((item.where, value))

    report.candidate_keys = len(keys)
    report.vault_ciphertexts = len(vault_blobs)
    report.other_blobs = len(other_blobs)
    report.check_values = len(pvvs)

    # Step 3: every key on every ciphertext.
    opened: list[tuple[str, bytes]] = []
    for where, blob in vault_blobs:
        for key in keys:
            plain = _open_vault(blob, key)
            if plain is not None:
                opened.append((where, plain))
                report.loot.append(Loot("plaintext", where, f"vault ciphertext opened: {len(plain)} bytes"))
                break
    trials = 0
    for where, blob in other_blobs:
        for key in keys:
            if trials >= GENERIC_GCM_BUDGET:
                break
            trials += 1
            plain = _open_generic(blob, key)
            if plain is not None:
                opened.append((where, plain))
                report.loot.append(Loot("plaintext", where, f"AES-GCM blob opened: {len(plain)} bytes"))
                break

    # Full PANs in clear (files, cells) or in what was decrypted.
    pans: set[str] = set()
    for where, data in texts:
        for pan in sorted(_pans(data)):
            report.loot.append(Loot("pan", where, f"full PAN in clear: {mask_pan(pan)}"))
            pans.add(pan)
    for _, plain in opened:
        pans |= _pans(plain)
        if plain.isdigit() and 13 <= len(plain) <= 19:
            pans.add(plain.decode())  # a decrypted all-digit value is a card number, checked or not
    report.pans_seen = len(pans)

    # Step 4: PINs from PVVs. Each (key, PAN) pair costs the 10,000 PINs once, checked against every
    # PVV still standing; keys from key-like places go first, and the attack stops when all are cracked.
    standing = {pvv: where for where, pvv in pvvs}
    ordered = sorted(keys, key=lambda k: (-keys[k], k))
    for key in ordered:
        if not standing:
            break
        for pan in sorted(pans):
            if report.pin_trials + 10_000 > PIN_ATTACK_BUDGET:
                report.pin_budget_exhausted = True
                break
            report.pin_trials += 10_000
            for n in range(10_000):
                cracked = standing.pop(pin_verification_value(key, pan, f"{n:04d}"), None)
                if cracked is not None:
                    report.loot.append(Loot("pin", cracked, f"PIN of card {mask_pan(pan)} recovered"))
                    break
        if report.pin_budget_exhausted:
            break

    # Step 5: the personal data the caller names, in clear or decrypted.
    for value in {v for v in known if v}:
        needle = value.encode()
        for where, data in [*texts, *opened]:
            if needle in data:
                shown = value[:1] + "*" * max(len(value) - 1, 0)
                report.loot.append(Loot("pii", where, f"known personal data readable: {shown}"))
                break
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bank.security.loot",
        description="Attack a copied data dir with only its contents; exit 1 if anything is recovered.",
    )
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--known", action="append", default=[], help="personal data to look for (repeatable)")
    args = parser.parse_args(argv)
    if not args.data_dir.is_dir():
        parser.error(f"{args.data_dir} is not a directory")
    report = loot_data_dir(args.data_dir, args.known)
    print(report.as_json())
    return 1 if report.loot else 0


if __name__ == "__main__":
    sys.exit(main())
