"""The after-the-run checks the crash harness (tests/reliability) and the wire chaos run (tests/chaos) share,
made from the outside: the journal file as it lies on disk and the bank's database, not our own objects.

Each returns plain-language problems (empty: all held). The card checks differ between the two runs (one
kill leaves at most one card; chaos counts captures over a whole run) and stay with each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from bank.check import check_ledger
from bank.models import Transfer
from kiosk.journal import verify_file


def journal_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def final_outcomes(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each intent's last outcome record, by the intent's sequence number."""
    outcomes: dict[int, dict[str, Any]] = {}
    for r in records:
        if r["kind"] == "outcome" and r["ref"] is not None:
            outcomes[r["ref"]] = r
    return outcomes


def journal_and_ledger_problems(journal: Path, engine: Engine) -> list[str]:
    """The journal verifies and has no open intent; the ledger balances; every idempotency key posted at
    most once; each journaled transfer's result agrees with the ledger (a reversal undid it: voided while
    pending, or compensated under ``rev:<key>``); no terminal transfer posted without a journaled intent."""
    problems: list[str] = []
    verified = verify_file(journal)
    if not verified.ok:
        problems.append(f"the journal does not verify at {verified.first_bad_seq}: {verified.reason}")
    records = journal_records(journal)
    outcomes = final_outcomes(records)
    open_intents = [r["event"] for r in records if r["kind"] == "intent" and r["seq"] not in outcomes]
    if open_intents:
        problems.append(f"suspects left after recovery: {open_intents}")
    with engine.connect() as conn:
        report = check_ledger(conn)
        rows = conn.execute(select(Transfer.idempotency_key, Transfer.status)).all()
    if not report.ok:
        problems.append(f"bank check: {[f'{v.rule}: {v.detail}' for v in report.violations]}")
    in_ledger: dict[str, list[str]] = {}
    for key, status in rows:
        in_ledger.setdefault(key, []).append(status)
    twice = sorted(k for k, v in in_ledger.items() if len(v) > 1)
    if twice:
        problems.append(f"idempotency keys posted more than once: {twice[:3]}")
    journaled: set[str] = set()
    for r in records:
        if r["kind"] != "intent" or r["event"] != "transfer":
            continue
        key = str(r["fields"].get("idempotency_key", ""))
        journaled.add(key)
        outcome = outcomes.get(r["seq"])
        result = outcome["fields"].get("result") if outcome else None
        posted = key in in_ledger
        undone = f"rev:{key}"[:64] in in_ledger or in_ledger.get(key) == ["voided"]
        if result in ("success", "posted", "pending") and not posted:
            problems.append(f"transfer {key}: the journal says {result}, the ledger has nothing")
        if result in ("not_posted", "refused") and posted:
            problems.append(f"transfer {key}: the journal says {result}, the ledger has it")
        if result == "reversed" and posted and not undone:
            problems.append(f"transfer {key}: the journal says reversed, the ledger still has it")
    unjournaled = [k for k in in_ledger if k.startswith("S") and k not in journaled]
    if unjournaled:
        problems.append(f"transfers posted with no journaled intent: {unjournaled[:3]}")
    return problems
