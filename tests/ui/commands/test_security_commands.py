"""``smart-teller journal`` through the real entry point, on a temporary data dir."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from kiosk.hostclient import Credential, HostClient
from kiosk.journal import Journal
from kiosk.journal.anchor import JournalAnchor
from kiosk.settings import load_settings
from ui.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMART_TELLER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMART_TELLER_CONFIG", "/dev/null")
    return tmp_path / "data"


def test_journal_verify_ok_then_names_the_tampered_record(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal(data_dir / "journal", "KIOSK-0001") as journal:
        for index in range(5):
            journal.record("transfer_posted", amount_minor=1000 + index)
    assert main(["journal", "verify"]) == 0
    assert capsys.readouterr().out.strip() == "journal ok: 5 records"
    path = data_dir / "journal" / "journal.jsonl"
    rows = path.read_text().splitlines()
    rows[3] = rows[3].replace('"amount_minor":1003', '"amount_minor":9003')
    path.write_text("\n".join(rows) + "\n")
    assert main(["journal", "verify"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "smart-teller: journal broken at record 4: line 4: content does not match its hash"
    )


def test_journal_verify_changes_nothing_and_repair_moves_the_torn_tail_aside(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal(data_dir / "journal", "KIOSK-0001") as journal:
        journal.record("card_inserted")
    path = data_dir / "journal" / "journal.jsonl"
    with open(path, "ab") as handle:
        handle.write(b'{"event":"dispense_ca')
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    assert main(["journal", "verify"]) == 1
    assert "record 2: line 2: torn last line" in capsys.readouterr().err
    assert (path.read_bytes(), path.stat().st_mtime_ns) == (before, mtime)
    assert main(["journal", "repair"]) == 0
    assert "journal repaired: 21 torn bytes moved to torn-" in capsys.readouterr().out
    assert main(["journal", "verify"]) == 0
    assert capsys.readouterr().out.strip() == "journal ok: 2 records"
    assert main(["journal", "repair"]) == 0
    assert capsys.readouterr().out.strip() == "journal tail whole: nothing to repair"


def test_journal_verify_against_the_host_names_a_rehashed_chain(
    data_dir: Path, bank_host: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMART_TELLER_HOST__URLS", json.dumps([bank_host.url]))
    bank_host.install_credential(data_dir)
    settings = load_settings()
    client = HostClient(settings.host.urls, Credential.load(settings.host_credential_path))
    journal = Journal(data_dir / "journal", "KIOSK-0001")
    anchor = JournalAnchor(journal, client.anchor_journal)
    for index in range(8):
        journal.record("transfer_posted", amount_minor=100 + index)
    anchor.checkpoint()
    assert anchor.flush() == 0
    journal.close()
    client.close()
    assert main(["journal", "verify", "--against-host"]) == 0
    assert capsys.readouterr().out.strip() == "journal ok: 9 records, 1 host checkpoints agree"
    # The attacker edits record 3 and re-hashes the whole chain with fresh SHA-256 values.
    path = data_dir / "journal" / "journal.jsonl"
    rows = [json.loads(line) for line in path.read_bytes().splitlines()]
    rows[2]["fields"]["amount_minor"] = 990000
    prev = "0" * 64
    out = []
    for row in rows:
        row["prev"] = prev
        body = {k: v for k, v in row.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        row["hash"] = prev = hashlib.sha256((prev + text).encode()).hexdigest()
        out.append(json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
    path.write_text("".join(out))
    assert main(["journal", "verify"]) == 0  # the chain alone cannot tell
    capsys.readouterr()
    assert main(["journal", "verify", "--against-host"]) == 1
    err = capsys.readouterr().err
    assert "rewritten at record 8: checkpoint hash mismatch at seq 8" in err
    assert "forged_seal" not in err and "record 8 does not have the hash the host sealed" in err


def test_journal_export_range_to_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal(data_dir / "journal", "KIOSK-0001") as journal:
        for index in range(5):
            journal.record("e", n=index)
    out = tmp_path / "dispute.jsonl"
    assert main(["journal", "export", "--from", "2", "--to", "3", "--out", str(out)]) == 0
    assert [json.loads(line)["seq"] for line in out.read_text().splitlines()] == [2, 3]
    assert main(["journal", "export", "--from", "last tuesday"]) == 2


def test_journal_show_and_export_bounds_are_in_bank_time(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    monkeypatch.setenv("SMART_TELLER_TIMEZONE", "Europe/London")
    moments = iter(datetime(2026, 12, 6, 3, 16, 36, tzinfo=UTC) + timedelta(hours=h) for h in range(3))
    with Journal(data_dir / "journal", "KIOSK-0001", clock=lambda: next(moments)) as journal:
        for index in range(3):
            journal.record("e", n=index)
    capsys.readouterr()
    assert main(["journal", "show", "--last", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert "2026-12-06 04:16:36 GMT" in lines[0] and "2026-12-06 05:16:36 GMT" in lines[1]
    # A bound without a zone is read as bank time: 04:16 London is 04:16 UTC in December, record 2.
    out = tmp_path / "range.jsonl"
    assert main(["journal", "export", "--from", "2026-12-06T04:16:36", "--out", str(out)]) == 0
    assert [json.loads(line)["seq"] for line in out.read_text().splitlines()] == [2, 3]
