"""Journal anchoring: checkpoints of the journal kept at the bank host, and verification against them.

Anyone who can write the journal file can also re-hash the whole chain, cut its tail or delete it: the
chain alone proves nothing then. So the terminal hands the host *checkpoints* — the newest record's
``seq`` and ``hash`` and the number of records — every ``every_records`` records, at the end of every
session and every ``interval_s`` while records keep coming. The host keeps the first hash it is given
for each seq and answers with its *seal*, an HMAC-SHA256 over the checkpoint under a per-terminal key
that only the host can derive; the terminal journals each seal (``journal_sealed``), so a journal file
carries proof that the bank saw it up to there, which the terminal's software cannot forge.

While the host cannot be reached the checkpoints wait in ``<journal dir>/anchor-queue.json`` (sequence
numbers, hashes and counts: nothing secret) and go out, oldest first, when it answers again.

:func:`verify_against_host` walks the file and compares it with what the host holds: a checkpoint whose
hash differs from the file's record at that seq (the chain was re-hashed), checkpoints past the file's
end (its tail was cut), checkpoints for a file that is gone or empty (it was deleted), a seal the host
does not recognise (forged), and a conflict the host recorded.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hostlink import api
from kiosk.journal.journal import SEALED_EVENT, Journal, VerifyReport, verify_file

log = logging.getLogger(__name__)

QUEUE_FILE = "anchor-queue.json"
SESSION_END_EVENTS = frozenset({"session_ended"})

SendCheckpoints = Callable[[Sequence[api.JournalAnchor]], api.JournalAnchorReceipts]
FetchCheckpoints = Callable[[], api.Checkpoints]
CheckSeals = Callable[[Sequence[api.JournalSeal]], api.JournalSealVerdicts]


class JournalAnchor:
    """Queues the journal's checkpoints on disk and sends them to the host from one thread."""

    def __init__(
        self,
        journal: Journal,
        send: SendCheckpoints,
        *,
        every_records: int = 100,
        interval_s: float = 30.0,
        max_batch: int = 200,
    ) -> None:
        self.journal = journal
        self.send = send
        self.every_records = max(1, every_records)
        self.interval_s = interval_s
        self.max_batch = max_batch
        self.queue_path = journal.path.parent / QUEUE_FILE
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._since = 0  # records written since the last checkpoint (our own seals not counted)
        self._urgent = False
        self.conflicts: list[api.JournalAnchorReceipt] = []
        journal.subscribe(self._on_record)

    # -- the journal's listener (called under the journal's lock: no journal writes here) -------------
    def _on_record(self, seq: int, digest: str, event: str) -> None:
        if event == SEALED_EVENT:
            return
        self._since += 1
        if event in SESSION_END_EVENTS or self._since >= self.every_records:
            self._urgent = True
            self._wake.set()

    # -- the queue -------------------------------------------------------------------------------
    def pending(self) -> list[api.JournalAnchor]:
        try:
            items = json.loads(self.queue_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []
        if not isinstance(items, list):
            return []
        points = []
        for item in items:
            try:
                points.append(api.JournalAnchor.model_validate(item))
            except ValueError:
                log.error("journal anchor queue: a damaged entry was dropped")
        return points

    def _save(self, points: Sequence[api.JournalAnchor]) -> None:
        tmp = self.queue_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump([p.model_dump() for p in points], handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.queue_path)

    def checkpoint(self) -> api.JournalAnchor | None:
        """Queue the journal's head as a checkpoint (unless it is queued already); returns it."""
        seq, digest, records = self.journal.anchor_point()
        if seq == 0:
            return None
        point = api.JournalAnchor(seq=seq, hash=digest, records=records)
        with self._lock:
            points = self.pending()
            if points and points[-1].seq >= seq:
                return points[-1]
            self._save([*points, point])
            self._since = 0
            self._urgent = False
        return point

    def flush(self) -> int:
        """Send what is queued, oldest first, and journal the seals; returns how many still wait."""
        with self._lock:
            points = self.pending()
            while points:
                batch = points[: self.max_batch]
                try:
                    answer = self.send(batch)
                except Exception as exc:  # host down or refusing: keep them for the next try
                    log.warning("journal checkpoints not delivered yet (%d queued): %s", len(points), exc)
                    return len(points)
                points = points[len(batch) :]
                self._save(points)
                for receipt in answer.receipts:
                    if receipt.conflict:
                        self.conflicts.append(receipt)
                        log.critical(
                            "the host holds another hash for journal record %d: the journal was rewritten",
                            receipt.seq,
                        )
                    self.journal.record(
                        SEALED_EVENT,
                        seq_sealed=receipt.seq,
                        hash=receipt.hash,
                        records=receipt.records,
                        seal=receipt.seal,
                        conflict=receipt.conflict,
                    )
            return 0

    # -- the thread ------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="journal-anchor", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():  # at once first: a queue the last run left goes out now
            try:
                self.journal.check_file()  # a file deleted or replaced while nothing is written
                if self._urgent or self._since:
                    self.checkpoint()
                if self.pending():
                    self.flush()
            except Exception:
                log.exception("journal anchoring failed")
            self._wake.wait(self.interval_s)
            self._wake.clear()

    def close(self) -> None:
        """Stop the thread; the head is queued on disk so the next start sends it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        try:
            if self._since:
                self.checkpoint()
        except Exception:
            log.exception("queueing the last journal checkpoint failed")


@dataclass(frozen=True)
class HostFinding:
    """One thing the host's checkpoints say about the file: ``kind`` and where (``seq``)."""

    kind: str  # rewritten | truncated | deleted | forged_seal | conflict
    seq: int
    detail: str


@dataclass(frozen=True)
class HostVerifyReport:
    file: VerifyReport
    checkpoints: int
    findings: list[HostFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.file.ok and not self.findings


def verify_against_host(
    path: Path, fetch: FetchCheckpoints, check_seals: CheckSeals | None = None
) -> HostVerifyReport:
    """Verify the file's chain, then compare it with the checkpoints (and seals) the host holds."""
    held = fetch().checkpoints
    wanted = {c.seq for c in held}
    report = verify_file(path, want=wanted)
    findings: list[HostFinding] = []
    if held:
        findings.extend(_compare(report, held))
    if check_seals is not None and report.seals:
        findings.extend(_check_seals(path, report, wanted, check_seals))
    return HostVerifyReport(report, len(held), findings)


def _compare(report: VerifyReport, held: Sequence[api.Checkpoint]) -> list[HostFinding]:
    """What the host's checkpoints say about the file's chain as ``report`` walked it."""
    findings: list[HostFinding] = []
    newest = max(held, key=lambda c: c.seq)
    if report.missing or (report.count == 0 and report.ok):
        records = newest.records if newest.records is not None else newest.seq
        state = "is gone" if report.missing else "is empty"
        findings.append(
            HostFinding(
                "deleted",
                1,
                f"the journal file {state}, but the host holds checkpoints up to record {newest.seq} "
                f"({records} records)",
            )
        )
        return findings
    mismatched = sorted(c.seq for c in held if c.seq in report.hashes and report.hashes[c.seq] != c.hash)
    if mismatched:
        findings.append(
            HostFinding(
                "rewritten",
                mismatched[0],
                f"checkpoint hash mismatch at seq {mismatched[0]}"
                + (f" (and {len(mismatched) - 1} later checkpoints)" if len(mismatched) > 1 else "")
                + ": the chain was re-hashed from there or before",
            )
        )
    end = report.count
    beyond = sorted(c.seq for c in held if c.seq > end)
    if beyond and report.ok:
        findings.append(
            HostFinding(
                "truncated",
                end + 1,
                f"the file ends at record {end}, but the host holds checkpoints up to record {beyond[-1]}: "
                f"records {end + 1}-{beyond[-1]} are missing",
            )
        )
    elif beyond:
        findings.append(
            HostFinding(
                "truncated",
                end + 1,
                f"the chain checks out only to record {end}; the host holds checkpoints up to {beyond[-1]}",
            )
        )
    return findings


def _check_seals(
    path: Path, report: VerifyReport, wanted: set[int], check_seals: CheckSeals
) -> list[HostFinding]:
    """Each seal the file holds must be the host's, for the hash the file has at the sealed record."""
    findings: list[HostFinding] = []
    seals: list[api.JournalSeal] = []
    for item in report.seals:
        try:
            seals.append(
                api.JournalSeal(
                    seq=int(item["seq_sealed"]),
                    hash=str(item["hash"]),
                    records=int(item["records"]),
                    seal=str(item["seal"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            findings.append(HostFinding("forged_seal", 0, "a journal_sealed record is malformed"))
    hashes = report.hashes
    if any(s.seq not in hashes for s in seals):
        hashes = verify_file(path, want=wanted | {s.seq for s in seals}).hashes
    for seal in seals:
        if seal.seq in hashes and hashes[seal.seq] != seal.hash:
            findings.append(
                HostFinding(
                    "rewritten",
                    seal.seq,
                    f"record {seal.seq} does not have the hash the host sealed: the chain was re-hashed",
                )
            )
    for start in range(0, len(seals), 5000):
        for verdict in check_seals(seals[start : start + 5000]).verdicts:
            if not verdict.valid:
                findings.append(
                    HostFinding(
                        "forged_seal", verdict.seq, f"the seal of record {verdict.seq} is not the host's"
                    )
                )
    return findings
