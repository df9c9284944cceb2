"""Electronic journal writes: records/s plain and with anchoring at the host (checkpoints and seals).

References measured in the same run: the same number of lines of the same size written with ``O_APPEND``
and an ``fsync`` each, the floor any durable journal pays; and the journal without anchoring. With
anchoring, a checkpoint is sent every 100 records to a real bank host (the API in this process on SQLite,
signed calls through the terminal's own client) and its seal journaled: the keyed MAC the terminal cannot
compute is made at the host, off the write path, so a write costs what it did plus a listener call.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bank.api.app import BodyLimit, create_app
from bank.host import Host
from bank.settings import load_host_settings
from hostlink import signing
from kiosk.hostclient import Credential, HostClient
from kiosk.journal import Journal
from kiosk.journal.anchor import JournalAnchor

FIELDS = {"amount_minor": 123_456, "account_masked": "0001****5678", "reference": "T" * 24}


def _raw_append(path: Path, line: bytes, count: int) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        started = time.perf_counter()
        for _ in range(count):
            os.write(fd, line)
            os.fsync(fd)
        return time.perf_counter() - started
    finally:
        os.close(fd)


def _journal(journal: Journal, anchor: JournalAnchor | None, count: int) -> tuple[float, list[float]]:
    """Seconds spent writing ``count`` records (checkpoint sends excluded) and each checkpoint's time."""
    checkpoints: list[float] = []
    writing = 0.0
    for _ in range(count):
        started = time.perf_counter()
        journal.record("transfer_posted", session_id="S1", **FIELDS)
        writing += time.perf_counter() - started
        if anchor is not None and (journal.last_seq % 100) == 0:
            sent = time.perf_counter()
            anchor.checkpoint()
            if anchor.flush():
                raise RuntimeError("benchmark host refused a checkpoint")
            checkpoints.append(time.perf_counter() - sent)
    return writing, checkpoints


def run(quick: bool = False) -> dict[str, Any]:
    count = 300 if quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        host = Host.start(load_host_settings(data_dir=root / "host"))
        try:
            credential = Credential(*signing.decode_credential(host.registry.enrol("KIOSK-0001")))
            with TestClient(BodyLimit(create_app(host), host.settings.api.max_body_bytes)) as test_client:
                client = HostClient(["http://testserver"], credential, transport=test_client._transport)
                plain = Journal(root / "plain", "KIOSK-0001")
                anchored = Journal(root / "anchored", "KIOSK-0001")
                anchor = JournalAnchor(anchored, client.anchor_journal)
                plain_s = anchored_s = raw_s = 0.0
                checkpoints: list[float] = []
                rounds = 4  # interleaved, so a busy disk weighs on every figure alike
                try:
                    for _ in range(rounds):
                        plain_s += _journal(plain, None, count // rounds)[0]
                        spent, sent = _journal(anchored, anchor, count // rounds)
                        anchored_s += spent
                        checkpoints += sent
                        line = plain.path.read_bytes().splitlines(keepends=True)[-1]
                        raw_s += _raw_append(root / "raw.jsonl", line, count // rounds)
                    if not (plain.verify().ok and anchored.verify().ok):
                        raise RuntimeError("benchmark journal does not verify")
                    seals = anchored.last_seq - count
                finally:
                    plain.close()
                    anchored.close()
                client.close()
            sample = line
        finally:
            host.close()
    return {
        "journal": {
            "records": count,
            "record_bytes": len(sample),
            "reference_raw_append_fsync_per_s": round(count / raw_s, 1),
            "journal_plain_records_per_s": round(count / plain_s, 1),
            "journal_anchored_records_per_s": round(count / anchored_s, 1),
            "ratio_plain_to_raw": round(raw_s / plain_s, 3),
            "ratio_anchored_to_plain": round(plain_s / anchored_s, 3),
            "anchored_seal_records": seals,
            "checkpoints": len(checkpoints),
            "checkpoint_round_trip_median_ms": round(statistics.median(checkpoints) * 1000, 2),
            "note": (
                "records/s count the writes only; a checkpoint (every 100 records: queued on disk, sent to "
                "the host, sealed there, the seal journaled) is timed apart, as in service it goes out "
                "from its own thread; every record and every raw line is fsynced"
            ),
        }
    }
