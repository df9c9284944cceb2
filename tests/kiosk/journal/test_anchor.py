"""Journal anchoring against a real bank host (the API in this process over SQLite, our own client):
checkpoints go out, wait on disk while the host is down, and the host's checkpoints and seals catch a
chain re-hashed with fresh SHA-256 values, a cut tail and a deleted file, each attack made on the bytes."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bank.api.app import BodyLimit, create_app
from bank.host import Host
from bank.settings import load_host_settings
from bank.terminals.models import AuditEvent
from hostlink import api, signing
from kiosk.hostclient import Credential, HostClient, HostUnavailable
from kiosk.journal import GENESIS_HASH, Journal
from kiosk.journal.anchor import JournalAnchor, verify_against_host
from kiosk.monitoring.monitor import SecurityMonitor


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    bank_host = Host.start(load_host_settings(data_dir=tmp_path / "host"))
    yield bank_host
    bank_host.close()


@pytest.fixture
def client(host: Host) -> Iterator[HostClient]:
    credential = Credential(*signing.decode_credential(host.registry.enrol("KIOSK-0001")))
    with TestClient(BodyLimit(create_app(host), host.settings.api.max_body_bytes)) as test_client:
        yield HostClient(["http://testserver"], credential, transport=test_client._transport, attempts=1)


def rehash(lines: list[bytes]) -> list[bytes]:
    prev = GENESIS_HASH
    out = []
    for raw in lines:
        row = json.loads(raw)
        row["prev"] = prev
        body = {k: v for k, v in row.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        row["hash"] = prev = hashlib.sha256((prev + text).encode()).hexdigest()
        out.append(
            json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        )
    return out


def anchored_journal(tmp_path: Path, client: HostClient, records: int = 30) -> tuple[Journal, JournalAnchor]:
    journal = Journal(tmp_path / "journal", "KIOSK-0001")
    anchor = JournalAnchor(journal, client.anchor_journal, every_records=10)
    for index in range(records):
        journal.record("transfer_posted", amount_minor=index + 1)
        if (index + 1) % 10 == 0:
            anchor.checkpoint()
            assert anchor.flush() == 0
    return journal, anchor


def test_checkpoints_reach_the_host_with_their_count_and_a_seal_the_file_keeps(
    tmp_path: Path, client: HostClient, host: Host
) -> None:
    journal, _ = anchored_journal(tmp_path, client)
    journal.close()
    held = {c.seq: c for c in client.checkpoints().checkpoints}
    # records 10, 21 and 32: each checkpoint's seal record moves the head on by one
    assert [(s, held[s].records) for s in sorted(held) if held[s].records is not None] == [
        (10, 10),
        (21, 21),
        (32, 32),
    ]
    lines = [json.loads(x) for x in journal.path.read_bytes().splitlines()]
    sealed = [x["fields"] for x in lines if x["event"] == "journal_sealed"]
    assert [s["seq_sealed"] for s in sealed] == [10, 21, 32]
    assert all(s["seal"] == held[s["seq_sealed"]].seal and s["conflict"] is False for s in sealed)
    assert all(lines[s["seq_sealed"] - 1]["hash"] == s["hash"] for s in sealed)
    assert verify_against_host(journal.path, client.checkpoints, client.check_journal_seals).ok


def test_checkpoints_wait_on_disk_while_the_host_is_down_and_go_out_when_it_answers(
    tmp_path: Path, client: HostClient
) -> None:
    journal = Journal(tmp_path / "journal", "KIOSK-0001")
    down = HostClient(
        ["http://127.0.0.1:9"], client.credential, attempts=1, transport=httpx.HTTPTransport(retries=0)
    )
    anchor = JournalAnchor(journal, down.anchor_journal)
    journal.record("session_started", session_id="S1")
    journal.record("session_ended", session_id="S1", outcome="done")
    anchor.checkpoint()
    assert anchor.flush() == 1
    with pytest.raises(HostUnavailable):
        down.anchor_journal(anchor.pending())
    queued = json.loads(anchor.queue_path.read_text())
    assert queued == [{"seq": 2, "hash": journal.head_hash, "records": 2}]  # hashes and counts only
    assert oct(os.stat(anchor.queue_path).st_mode & 0o777) == "0o600"
    later = JournalAnchor(journal, client.anchor_journal)  # the next start, the host back
    assert later.flush() == 0 and later.pending() == []
    assert [c.seq for c in client.checkpoints().checkpoints if c.records == 2] == [2]
    journal.close()
    down.close()


def test_a_session_end_wakes_the_anchor_at_once(tmp_path: Path, client: HostClient) -> None:
    journal = Journal(tmp_path / "journal", "KIOSK-0001")
    anchor = JournalAnchor(journal, client.anchor_journal, every_records=1000, interval_s=300.0)
    anchor.start()
    try:
        journal.record("card_inserted", session_id="S1")
        journal.record("session_ended", session_id="S1", outcome="done")
        for _ in range(100):
            if any(c.records == 2 for c in client.checkpoints().checkpoints):
                break
            anchor._stop.wait(0.05)
        assert any(c.seq == 2 and c.records == 2 for c in client.checkpoints().checkpoints)
    finally:
        anchor.close()
        journal.close()


def test_a_rehashed_chain_is_named_at_the_first_checkpoint_it_changed(
    tmp_path: Path, client: HostClient
) -> None:
    journal, _ = anchored_journal(tmp_path, client)
    journal.close()
    path = journal.path
    lines = path.read_bytes().splitlines(keepends=True)
    lines[14] = lines[14].replace(b'"amount_minor":14', b'"amount_minor":1400000')  # record 15
    path.write_bytes(b"".join(rehash(lines)))
    result = verify_against_host(path, client.checkpoints, client.check_journal_seals)
    assert result.file.ok  # the chain alone says nothing
    assert not result.ok
    kinds = {(f.kind, f.seq) for f in result.findings}
    assert ("rewritten", 21) in kinds  # the first checkpoint after record 15
    first = next(f for f in result.findings if f.kind == "rewritten" and f.seq == 21)
    assert "checkpoint hash mismatch at seq 21" in first.detail


def test_forged_seals_are_refused_by_the_host(tmp_path: Path, client: HostClient, host: Host) -> None:
    journal, _ = anchored_journal(tmp_path, client)
    journal.close()
    path = journal.path
    lines = path.read_bytes().splitlines(keepends=True)
    lines[14] = lines[14].replace(b'"amount_minor":14', b'"amount_minor":1400000')
    forged = rehash(lines)
    # The attacker also rewrites each seal record to the new hashes, with a seal of their own making.
    new_hashes = {json.loads(x)["seq"]: json.loads(x)["hash"] for x in forged}
    for index, raw in enumerate(forged):
        row = json.loads(raw)
        if row["event"] == "journal_sealed":
            seq = row["fields"]["seq_sealed"]
            row["fields"]["hash"] = new_hashes[seq]
            row["fields"]["seal"] = hashlib.sha256(f"{seq}{new_hashes[seq]}".encode()).hexdigest()
            forged[index] = (
                json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
            )
    path.write_bytes(b"".join(rehash(forged)))
    # Even a host that lost its checkpoint rows knows its seals: only the key is needed.
    result = verify_against_host(path, lambda: api.Checkpoints(checkpoints=[]), client.check_journal_seals)
    assert not result.ok
    assert [f.seq for f in result.findings if f.kind == "forged_seal"] == [10, 21, 32]


def test_a_cut_tail_is_named_from_the_host_checkpoints_past_the_end(
    tmp_path: Path, client: HostClient
) -> None:
    journal, _ = anchored_journal(tmp_path, client)
    journal.close()
    path = journal.path
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:18]))
    result = verify_against_host(path, client.checkpoints, client.check_journal_seals)
    assert result.file.ok and not result.ok
    truncated = next(f for f in result.findings if f.kind == "truncated")
    assert truncated.seq == 19
    assert "ends at record 18" in truncated.detail and "up to record 32" in truncated.detail


def test_a_deleted_or_emptied_file_is_named(tmp_path: Path, client: HostClient) -> None:
    journal, _ = anchored_journal(tmp_path, client)
    journal.close()
    journal.path.write_bytes(b"")
    emptied = verify_against_host(journal.path, client.checkpoints)
    journal.path.unlink()
    gone = verify_against_host(journal.path, client.checkpoints)
    assert [f.kind for f in emptied.findings] == ["deleted"] and "is empty" in emptied.findings[0].detail
    assert [f.kind for f in gone.findings] == ["deleted"] and "is gone" in gone.findings[0].detail
    assert "up to record 32 (32 records)" in gone.findings[0].detail


def test_a_replaced_journal_anchored_again_is_a_conflict_at_the_host(
    tmp_path: Path, client: HostClient, host: Host
) -> None:
    journal, _ = anchored_journal(tmp_path, client, records=10)
    journal.close()
    journal.path.unlink()
    fresh = Journal(tmp_path / "journal", "KIOSK-0001")  # a new chain from seq 1 after the deletion
    anchor = JournalAnchor(fresh, client.anchor_journal)
    for index in range(10):
        fresh.record("something_else", n=index)
    anchor.checkpoint()
    assert anchor.flush() == 0
    assert [r.seq for r in anchor.conflicts] == [10]
    last = json.loads(fresh.path.read_bytes().splitlines()[-1])
    fresh.close()
    assert last["event"] == "journal_sealed" and last["fields"]["conflict"] is True
    monitor = SecurityMonitor(kiosk_id="KIOSK-0001")
    monitor.observe_journal(last)
    assert [(a.rule, a.severity) for a in monitor.alerts()] == [("journal_tamper", "critical")]
    with host.engine.connect() as connection:
        rows = connection.execute(
            select(AuditEvent.fields).where(AuditEvent.event == "journal_checkpoint_conflict")
        ).all()
    assert [json.loads(fields)["seq"] for (fields,) in rows] == [10]


def test_the_host_lists_a_terminals_checkpoints_with_their_seals_checked(
    tmp_path: Path,
    client: HostClient,
    host: Host,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bank.cli import main

    journal, _ = anchored_journal(tmp_path, client, records=20)
    journal.close()
    monkeypatch.setenv("SMART_TELLER_HOST_DATA_DIR", str(tmp_path / "host"))
    monkeypatch.setenv("SMART_TELLER_HOST_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.delenv("SMART_TELLER_HOST_DATABASE_URL", raising=False)
    assert main(["journal-checkpoints", "KIOSK-0001", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["seq"], r["records"], r["sealed"]) for r in rows if r["records"] is not None] == [
        (21, 21, True),
        (10, 10, True),
    ]
