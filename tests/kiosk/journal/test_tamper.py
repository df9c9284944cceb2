"""Attacks on the journal file as an attacker makes them: bytes edited on disk with Python, the chain
re-hashed with fresh SHA-256 values, the file cut, deleted or swapped while the kiosk runs. Nothing here
goes through the journal's own API to do the damage; the journal (and verify) must name it."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk.journal import GENESIS_HASH, Journal, verify_file
from kiosk.journal.recovery import recover
from kiosk.monitoring.monitor import JournalFollower, SecurityMonitor


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def write_records(directory: Path, count: int) -> Journal:
    journal = Journal(directory, "K1", clock=StepClock())
    for index in range(count):
        journal.record("transfer_posted", amount_minor=index + 1)
    return journal


def rehash(lines: list[bytes]) -> list[bytes]:
    """What an attacker with the format's description does: fresh hashes over the whole chain."""
    prev = GENESIS_HASH
    out = []
    for raw in lines:
        row = json.loads(raw)
        row["prev"] = prev
        body = {k: v for k, v in row.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        row["hash"] = hashlib.sha256((prev + text).encode()).hexdigest()
        prev = row["hash"]
        out.append(
            json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
        )
    return out


def events(path: Path) -> list[str]:
    return [json.loads(line)["event"] for line in path.read_bytes().splitlines()]


def test_verify_reads_only_a_torn_tail_is_reported_and_left_as_it_is(tmp_path: Path) -> None:
    write_records(tmp_path, 3).close()
    path = tmp_path / "journal.jsonl"
    with open(path, "ab") as handle:
        handle.write(b'{"event":"dispense_card","fie')
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    before, stat = path.read_bytes(), os.stat(path)
    report = verify_file(path)
    journal = Journal(tmp_path, "K1")  # opening the journal does not repair either
    also = journal.verify()
    journal.close()
    assert (report.ok, report.torn_tail, report.first_bad_seq, report.line, report.count) == (
        False,
        True,
        4,
        4,
        3,
    )
    assert "torn last line" in report.reason and also.torn_tail
    assert path.read_bytes() == before
    after = os.stat(path)
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.jsonl"]  # no side file either


def test_start_up_recovery_repairs_the_torn_tail_and_journals_it(tmp_path: Path) -> None:
    write_records(tmp_path, 2).close()
    torn = b'{"event":"dispense_card","fie'
    with open(tmp_path / "journal.jsonl", "ab") as handle:
        handle.write(torn)
    journal = Journal(tmp_path, "K1", clock=StepClock())
    recover(journal, {})
    report = journal.verify()
    journal.close()
    assert report.ok and report.count == 3
    assert events(tmp_path / "journal.jsonl")[-1] == "journal_tail_recovered"
    sides = [p for p in tmp_path.iterdir() if p.name.startswith("torn-")]
    assert len(sides) == 1 and sides[0].read_bytes() == torn


def test_a_key_written_twice_is_refused_with_its_line_number(tmp_path: Path) -> None:
    write_records(tmp_path, 3).close()
    path = tmp_path / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    assert b'"amount_minor":2' in lines[1]
    # The JSON parser keeps the last value, so the hash still matches; another reader sees 600000.
    lines[1] = lines[1].replace(b'"amount_minor":2', b'"amount_minor":600000,"amount_minor":2')
    path.write_bytes(b"".join(lines))
    report = verify_file(path)
    assert (report.ok, report.first_bad_seq, report.line) == (False, 2, 2)
    assert "line 2" in report.reason and "'amount_minor' appears twice" in report.reason


def test_a_record_spelled_another_way_is_refused(tmp_path: Path) -> None:
    write_records(tmp_path, 3).close()
    path = tmp_path / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    row = json.loads(lines[2])
    lines[2] = json.dumps(row, sort_keys=True, ensure_ascii=True).encode() + b"\n"  # same record, new bytes
    path.write_bytes(b"".join(lines))
    report = verify_file(path)
    assert (report.ok, report.first_bad_seq, report.line) == (False, 3, 3)
    assert "canonical" in report.reason


def test_a_journal_deleted_under_the_kiosk_is_restored_journaled_and_alerted(tmp_path: Path) -> None:
    journal = write_records(tmp_path, 5)
    monitor = SecurityMonitor(journal=journal, kiosk_id="K1")
    follower = JournalFollower(journal.path, monitor.observe_journal)
    follower.poll()
    os.unlink(tmp_path / "journal.jsonl")  # the attacker
    journal.record("card_inserted")
    follower.poll()
    report = journal.verify()
    journal.close()
    assert report.ok and report.count == 8  # the five records of before are in the fresh file
    after = ["journal_file_deleted", "card_inserted", "security_alert"]
    assert events(tmp_path / "journal.jsonl")[5:] == after
    alerts = monitor.alerts()
    assert [(a.rule, a.severity, a.detail) for a in alerts] == [
        ("journal_tamper", "critical", "journal_file_deleted")
    ]


def test_a_file_deleted_while_nothing_is_written_is_noticed_by_the_check(tmp_path: Path) -> None:
    journal = write_records(tmp_path, 2)
    os.unlink(tmp_path / "journal.jsonl")
    assert journal.check_file() == ["journal_file_deleted"]
    assert journal.check_file() == []
    assert verify_file(tmp_path / "journal.jsonl").count == 3
    journal.close()


def test_a_rehashed_file_swapped_in_under_the_kiosk_is_kept_aside_and_ours_restored(tmp_path: Path) -> None:
    journal = write_records(tmp_path, 5)
    path = tmp_path / "journal.jsonl"
    ours = path.read_bytes()
    lines = ours.splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"amount_minor":3', b'"amount_minor":300000')
    forged = b"".join(rehash(lines))
    (tmp_path / "forged").write_bytes(forged)
    assert verify_file(tmp_path / "forged").ok  # the chain alone cannot tell
    os.replace(tmp_path / "forged", path)
    journal.record("card_inserted")
    report = journal.verify()
    journal.close()
    assert report.ok and path.read_bytes().startswith(ours)
    assert events(path)[5:] == ["journal_file_replaced", "card_inserted"]
    facts = json.loads(path.read_bytes().splitlines()[5])["fields"]
    assert (tmp_path / facts["saved_as"]).read_bytes() == forged
    assert facts["sha256"] == hashlib.sha256(forged).hexdigest()


def test_a_file_cut_short_under_the_kiosk_is_journaled_and_verify_names_the_gap(tmp_path: Path) -> None:
    journal = write_records(tmp_path, 6)
    path = tmp_path / "journal.jsonl"
    keep = sum(len(line) for line in path.read_bytes().splitlines(keepends=True)[:3])
    os.truncate(path, keep + 10)  # records 4-6 gone, and half a line left behind
    journal.record("card_inserted")
    report = verify_file(path)
    journal.close()
    assert (report.ok, report.first_bad_seq, report.count) == (False, 4, 3)
    assert "sequence 7 where 4 was expected" in report.reason
    assert events(path)[3:] == ["journal_file_truncated", "card_inserted"]
    facts = json.loads(path.read_bytes().splitlines()[3])["fields"]
    assert (facts["last_seq"], facts["found_bytes"], facts["torn_tail"]["bytes"]) == (6, keep + 10, 10)
    assert (tmp_path / facts["torn_tail"]["saved_as"]).stat().st_size == 10


def test_a_chain_rehashed_in_place_under_the_kiosk_is_journaled_and_verify_names_it(tmp_path: Path) -> None:
    journal = write_records(tmp_path, 5)
    path = tmp_path / "journal.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"amount_minor":2', b'"amount_minor":900000')
    forged = b"".join(rehash(lines))
    with open(path, "r+b") as handle:  # same file, same inode: written over in place
        handle.write(forged)
        handle.truncate()
    journal.record("card_inserted")
    report = verify_file(path)
    journal.close()
    assert (report.ok, report.first_bad_seq) == (False, 6)
    assert "previous-hash" in report.reason
    assert events(path)[5:] == ["journal_file_rewritten", "card_inserted"]


def test_records_appended_by_another_writer_are_not_taken_for_tampering(tmp_path: Path) -> None:
    first = write_records(tmp_path, 2)
    second = Journal(tmp_path, "K1")
    second.record("from_second")
    first.record("from_first")
    second.record("again_second")
    report = first.verify()
    first.close()
    second.close()
    assert report.ok and report.count == 5
    assert not any(e.startswith("journal_file_") for e in events(tmp_path / "journal.jsonl"))
