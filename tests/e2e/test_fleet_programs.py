"""The fleet with the real programs: two kiosk processes, two bank host processes, one PostgreSQL.

Each terminal is the kiosk program itself (``smart-teller demo JOURNEY --host URL --host URL``: the
touchscreen offscreen, its own simulators, its own data dir and enrolment credential), driven like a
customer. A customer opened at terminal A (ID card, face + liveness, details, PIN, card dispensed) logs in
by face and by card + PIN at terminal B; then both terminals transfer from one account at once for more
than it holds, and the host lets exactly one through. The in-process variant (many transfers racing, a
host killed mid-transfer) is ``tests/e2e/test_fleet.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from app.services import TerminalServices
from bank.check import check_ledger
from bank.db.engine import make_engine
from bank.models import Account
from bank.security.custody import open_host_vault
from bank.settings import load_host_settings
from hostlink import api
from kiosk.settings import load_settings

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
OPENED_ID_NUMBER = "440305197811051533"  # the account-opening demo's ID card (赵建国)
OPENED_PIN = "258036"  # the PIN the account-opening demo sets
WANG_FANG_CURRENT = "0001100000010014"  # seed: ¥12,345.67; the transfer demo pays ¥6,000.00 from it
WANG_FANG_SAVINGS = "0001200000010020"


def run_terminal(hosts: Any, terminal_id: str, journey: str, out: Path, *extra: str) -> subprocess.Popen[str]:
    """Start terminal ``terminal_id``'s kiosk program on one journey (the caller waits for it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(out.parent / f"config-{terminal_id}"),
        SMART_TELLER_KIOSK_ID=terminal_id,
    )
    command = [sys.executable, "-m", "ui.cli", "demo", journey, "--out", str(out)]
    command += ["--data-dir", str(hosts.data_dir(terminal_id))]
    for url in hosts.urls_for(terminal_id):
        command += ["--host", url]
    return subprocess.Popen(
        [*command, *extra],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str]:
    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return process.returncode, stderr


def summary(out: Path) -> dict[str, Any]:
    return dict(json.loads((out / "summary.json").read_text(encoding="utf-8")))


def opened_card(hosts: Any) -> tuple[str, str]:
    """The newest card's PAN and expiry, read at the bank (with its keys) as the card's holder knows it."""
    vault = open_host_vault(load_host_settings(data_dir=hosts.root / "host-0", keys_dir=str(hosts.keys_dir)))
    engine = make_engine(hosts.database_url)
    try:
        with engine.connect() as conn:
            blob, expiry = conn.execute(  # the raw cell: the ORM column would want a process-wide vault
                text("SELECT pan_encrypted, expiry FROM bank_cards ORDER BY id DESC LIMIT 1")
            ).one()
    finally:
        engine.dispose()
    return vault.decrypt(bytes(blob)).decode(), str(expiry)


def balance_of(hosts: Any, number: str) -> int:
    engine = make_engine(hosts.database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(select(Account.balance_minor).where(Account.number == number)).scalar_one()
            )
    finally:
        engine.dispose()


def test_a_fleet_of_kiosk_programs_shares_customers_and_never_overdraws(
    start_fleet_hosts: Any, tmp_path: Path
) -> None:
    with start_fleet_hosts(("KIOSK-A", "KIOSK-B", "KIOSK-T")) as hosts:
        # Terminal A opens the account (the customer walks in with the ID card).
        code, stderr = finish(run_terminal(hosts, "KIOSK-A", "open-account", tmp_path / "a-open"))
        assert code == 0, stderr[-2000:]
        pan, expiry = opened_card(hosts)
        # Terminal B, another process, data dir and credential, through the other host first: the new
        # customer logs in by face (picked by ID number), then by the new card and the PIN set at A.
        code, stderr = finish(run_terminal(hosts, "KIOSK-B", "face-login", tmp_path / "b-face"))
        assert code == 0, stderr[-2000:]
        assert "face_login_identify" in summary(tmp_path / "b-face")["screens"]
        card = f"{pan},{expiry},ZHAO/JIANGUO"
        code, stderr = finish(
            run_terminal(
                hosts, "KIOSK-B", "enquiry", tmp_path / "b-card", "--card", card, "--pin", OPENED_PIN
            )
        )
        assert code == 0, stderr[-2000:]
        assert "balance" in summary(tmp_path / "b-card")["screens"]

        # Leave Wang Fang's current account ¥6,000.00 (a third terminal moves the rest to her savings),
        # then both kiosks pay ¥6,000.00 from it at once: one is posted, the other refused, never both.
        bank_side = TerminalServices.start(
            load_settings(
                data_dir=str(hosts.data_dir("KIOSK-T")), kiosk_id="KIOSK-T", host={"urls": hosts.urls}
            ),
            probe=False,
        )
        try:
            payer = bank_side.host.card_lookup("43219876543210987")
            savings = next(
                a
                for a in bank_side.host.accounts(payer.customer_id).accounts
                if a.account_id != payer.account_id
            )
            moved = bank_side.host.transfer(
                api.TransferOrder(
                    idempotency_key=api.new_idempotency_key("ST"),
                    kind="own",
                    from_account_id=payer.account_id,
                    to_account_id=savings.account_id,
                    amount_minor=balance_of(hosts, WANG_FANG_CURRENT) - 6_000_00,
                )
            )
            assert moved.reference, moved.refused
        finally:
            bank_side.close()
        assert balance_of(hosts, WANG_FANG_CURRENT) == 6_000_00
        racers = {
            terminal_id: run_terminal(hosts, terminal_id, "transfer", tmp_path / f"race-{terminal_id}")
            for terminal_id in ("KIOSK-A", "KIOSK-B")
        }
        results = {terminal_id: finish(process) for terminal_id, process in racers.items()}
        codes = sorted(code for code, _ in results.values())
        assert codes == [0, 1], {t: (c, e[-600:]) for t, (c, e) in results.items()}
        loser = next(t for t, (code, _) in results.items() if code == 1)
        outcomes = [
            json.loads(line)["fields"]
            for line in (hosts.data_dir(loser) / "journal" / "journal.jsonl").read_text().splitlines()
            if '"transfer_outcome"' in line
        ]
        if "transfer.error.amount_funds" in results[loser][1]:
            # The winner was posted before the loser read the balance: the loser's terminal refused the
            # amount against the balance it showed and never sent the transfer.
            assert outcomes == [], outcomes
        else:
            # Both read ¥6,000.00: the host refused the second one ("not enough money").
            assert "screen: notice" in results[loser][1], results[loser][1][-600:]
            assert outcomes[-1] == {"result": "refused", "detail": "insufficient_funds"}, outcomes
        assert balance_of(hosts, WANG_FANG_CURRENT) == 0

        engine = make_engine(hosts.database_url)
        try:
            with engine.connect() as conn:
                report = check_ledger(conn)
                kiosks = {
                    row[0]
                    for row in conn.execute(
                        text("SELECT DISTINCT kiosk_id FROM bank_transfers WHERE kiosk_id IS NOT NULL")
                    )
                }
        finally:
            engine.dispose()
        assert report.ok, [f"{v.rule}: {v.detail}" for v in report.violations]
        assert "KIOSK-T" in kiosks and len(kiosks & {"KIOSK-A", "KIOSK-B"}) == 1  # the race's one winner
