"""The electronic journal: chain, tamper detection, torn tail, redaction, intents, multi-process use."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.journal import GENESIS_HASH, Journal, JournalError, verify_file

PAN = "4321987654321098"  # Luhn-valid test PAN


class StepClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def lines(journal: Journal) -> list[dict]:
    return [json.loads(line) for line in journal.path.read_text().splitlines()]


def test_records_are_chained_with_sha256_over_prev_hash_and_canonical_json(tmp_path: Path) -> None:
    with Journal(tmp_path / "journal", "KIOSK-7", clock=StepClock()) as journal:
        assert journal.record("kiosk_started", version="0.1.0") == 1
        assert journal.record("card_inserted", session_id="s1", pan_masked="432198******1098") == 2
        rows = lines(journal)
    assert rows[0]["prev"] == GENESIS_HASH
    assert rows[1]["prev"] == rows[0]["hash"]
    # Recompute independently of the module: hash = sha256(prev hex + sorted compact JSON without "hash").
    for row in rows:
        body = {k: v for k, v in row.items() if k != "hash"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256((row["prev"] + text).encode()).hexdigest() == row["hash"]
    assert rows[0]["ts"] == "2026-11-26T09:00:01.000000Z"
    assert rows[1]["kiosk_id"] == "KIOSK-7" and rows[1]["session_id"] == "s1"
    assert rows[1]["fields"] == {"pan_masked": "432198******1098"}


def test_verify_names_the_tampered_record(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1", clock=StepClock())
    for index in range(10):
        journal.record("transfer_posted", amount_minor=100 * index)
    assert journal.verify().ok and journal.verify().count == 10
    rows = journal.path.read_text().splitlines()
    rows[6] = rows[6].replace('"amount_minor":600', '"amount_minor":60000')  # seq 7
    journal.path.write_text("\n".join(rows) + "\n")
    report = journal.verify()
    assert not report.ok
    assert report.first_bad_seq == 7
    assert "hash" in report.reason
    assert report.count == 6
    journal.close()


def test_verify_names_a_deleted_record_and_a_rehashed_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1", clock=StepClock())
    for index in range(5):
        journal.record("e", n=index)
    journal.close()
    rows = journal.path.read_text().splitlines()
    (tmp_path / "deleted.jsonl").write_text("\n".join(rows[:2] + rows[3:]) + "\n")
    deleted = verify_file(tmp_path / "deleted.jsonl")
    assert (deleted.ok, deleted.first_bad_seq) == (False, 3)
    # An attacker who re-hashes the changed record still breaks the next record's prev link.
    row = json.loads(rows[1])
    row["fields"]["n"] = 99
    body = {k: v for k, v in row.items() if k != "hash"}
    row["hash"] = hashlib.sha256(
        (row["prev"] + json.dumps(body, sort_keys=True, separators=(",", ":"))).encode()
    ).hexdigest()
    rows[1] = json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    (tmp_path / "rehashed.jsonl").write_text("\n".join(rows) + "\n")
    rehashed = verify_file(tmp_path / "rehashed.jsonl")
    assert (rehashed.ok, rehashed.first_bad_seq) == (False, 3)
    assert "previous-hash" in rehashed.reason
    # The same record spelled another way (spaces after the separators) is refused where it stands.
    rows[1] = json.dumps(row)
    (tmp_path / "respelled.jsonl").write_text("\n".join(rows) + "\n")
    respelled = verify_file(tmp_path / "respelled.jsonl")
    assert (respelled.ok, respelled.first_bad_seq, respelled.line) == (False, 2, 2)
    assert "canonical" in respelled.reason


def test_garbage_line_is_reported_and_new_records_still_append(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1")
    journal.record("a")
    journal.close()
    with open(journal.path, "ab") as handle:
        handle.write(b"this is not json\n")
    again = Journal(tmp_path, "K1")
    assert again.record("b") == 2
    report = again.verify()
    assert (report.ok, report.first_bad_seq, report.line) == (False, 2, 2)
    assert report.reason == "line 2: not a valid journal record"
    again.close()


def test_torn_tail_is_cut_saved_and_journaled_so_the_chain_verifies(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1", clock=StepClock())
    journal.record("a")
    journal.record("b")
    journal.close()
    torn = b'{"event":"dispense_card","fields":{"ca'
    with open(journal.path, "ab") as handle:
        handle.write(torn)
    assert verify_file(journal.path).first_bad_seq == 3  # before recovery: named, not silently accepted
    reopened = Journal(tmp_path, "K1", clock=StepClock())
    assert reopened.verify().torn_tail  # opening the journal repairs nothing
    facts = reopened.repair()
    assert facts is not None and reopened.repair() is None
    report = reopened.verify()
    assert report.ok and report.count == 3
    last = lines(reopened)[-1]
    assert last["event"] == "journal_tail_recovered"
    assert last["fields"]["bytes"] == len(torn)
    assert last["fields"]["sha256"] == hashlib.sha256(torn).hexdigest()
    assert (tmp_path / last["fields"]["saved_as"]).read_bytes() == torn
    reopened.close()


def test_secrets_are_redacted_before_they_are_written(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1")
    journal.record(
        "card_read",
        pan=PAN,
        card_number=int(PAN),
        pin="1234",
        pin_block=bytes.fromhex("0412AC89ABCDEF67"),
        track2=f";{PAN}=28121010000000000000?",
        note=f"customer said {PAN} and pin=1234",
        nested={"items": [{"pan": PAN}], "blob": b"\x01\x02"},
        amount_minor=12_345,
    )
    text = journal.path.read_text()
    journal.close()
    assert PAN not in text and '1234"' not in text and "0412AC89" not in text.upper()
    fields = json.loads(text)["fields"]
    assert fields["pan"] == "432198******1098"
    assert fields["card_number"] == "432198******1098"
    assert fields["pin"] == fields["pin_block"] == fields["track2"] == "[REDACTED]"
    assert fields["note"] == "customer said 432198******1098 and pin=[REDACTED]"
    assert fields["nested"] == {"items": [{"pan": "432198******1098"}], "blob": "<2 bytes>"}
    assert fields["amount_minor"] == 12_345


def test_intent_without_outcome_is_a_suspect_until_its_outcome(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1")
    printing = journal.intent("print", session_id="s9", receipt="transfer")
    card = journal.intent("dispense_card", session_id="s9")
    journal.outcome(printing, "printed", lines=12)
    suspects = journal.suspects()
    assert [(s.intent_seq, s.event, s.session_id) for s in suspects] == [(card, "dispense_card", "s9")]
    with pytest.raises(JournalError):
        journal.outcome(printing, "printed")  # an outcome closes an intent once
    journal.close()
    # A new process (here: a new instance) sees the same open intent.
    again = Journal(tmp_path, "K1")
    assert [s.intent_seq for s in again.suspects()] == [card]
    outcome_row = lines(again)[2]
    assert (outcome_row["kind"], outcome_row["ref"], outcome_row["event"]) == (
        "outcome",
        printing,
        "print_outcome",
    )
    assert outcome_row["session_id"] == "s9" and outcome_row["fields"]["result"] == "printed"
    again.close()


def test_export_by_sequence_and_by_time(tmp_path: Path) -> None:
    clock = StepClock()
    journal = Journal(tmp_path, "K1", clock=clock)
    for index in range(6):
        journal.record("e", n=index)
    assert [json.loads(line)["seq"] for line in journal.export(2, 4)] == [2, 3, 4]
    start = datetime(2026, 11, 26, 9, 0, 5, tzinfo=UTC)
    assert [json.loads(line)["seq"] for line in journal.export(start, None)] == [5, 6]
    assert len(list(journal.export())) == 6
    journal.close()


def test_threads_append_without_breaking_the_chain(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1")

    def worker(name: str) -> None:
        for index in range(25):
            journal.record("tick", worker=name, n=index)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = journal.verify()
    assert report.ok and report.count == 100
    journal.close()


def _append_from_child(directory: str, name: str, count: int) -> None:
    journal = Journal(Path(directory), "K1")
    for index in range(count):
        journal.record("tick", worker=name, n=index)
    journal.close()


def test_two_processes_on_one_journal_keep_one_chain(tmp_path: Path) -> None:
    parent = Journal(tmp_path, "K1")
    parent.record("start")
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=_append_from_child, args=(str(tmp_path), f"p{i}", 30)) for i in range(2)
    ]
    for child in children:
        child.start()
    for index in range(30):
        parent.record("tick", worker="parent", n=index)
    for child in children:
        child.join(60)
        assert child.exitcode == 0
    parent.record("end")
    report = parent.verify()
    assert report.ok and report.count == 92
    assert parent.last_seq == 92
    parent.close()


def test_naive_clock_is_refused(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1", clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(JournalError):
        journal.record("x")
    journal.close()
