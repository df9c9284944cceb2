"""The electronic journal: an append-only, hash-chained record of what the kiosk did.

Storage is one JSON-lines file, ``<data dir>/journal/journal.jsonl``, written with ``O_APPEND`` and an
``fsync`` after every record. Why a flat file and not SQLite: the journal is the evidence a bank uses to
settle disputes, so it must be readable with nothing but a text editor and ``sha256sum``, it must survive a
damaged bank database, and a JSON line per record is exactly what the dispute team's export wants.

Each record carries ``hash = SHA-256(prev_hash + canonical JSON of the record without "hash")`` and
``prev`` (the previous record's hash; 64 zeros for the first), so changing, removing or reordering any
record breaks the chain at that record. A stored line must be exactly the canonical JSON of the record it
parses to (sorted keys, compact separators, UTF-8, no duplicate key), so the hash covers the stored bytes:
a line that parses to the same record but is spelled differently is refused, and so is a line with a key
twice. Field values are redacted before they are written (PANs masked, PIN / PIN block / track / password
fields dropped), so the journal never holds a secret.

Concurrency: one ``threading.Lock`` within the process and ``fcntl.flock`` on the file across processes
(two kiosk processes on one data dir, or ``smart-teller journal verify`` while the kiosk runs). A writer
re-reads whatever another process appended before it chains its own record.

Crash safety: a record is one ``write`` of one line. A crash mid-write can leave a last line without its
newline (a *torn tail*); it never damages earlier lines. :meth:`Journal.repair` (the kiosk's start-up
recovery, ``smart-teller journal repair``) moves the torn bytes to a side file (``torn-<time>.bin``, kept
as evidence), cuts the file back to the last whole record and journals ``journal_tail_recovered``;
verification only reads. A writer that meets a torn tail repairs it the same way before it appends, so a
record is never glued to torn bytes.

The file under the kiosk: before every write the journal checks that its path still names the file it
holds open and that the last record it wrote is still there, byte for byte. A file deleted or replaced
while the kiosk runs is restored from the open descriptor into a fresh file (a replacement is kept aside
as evidence); a file cut short or rewritten in place keeps the chain going from the record the kiosk knows
was last, so verification names the break. Each is journaled (``journal_file_deleted``,
``journal_file_replaced``, ``journal_file_truncated``, ``journal_file_rewritten``), and the security
monitor raises them as critical alerts.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hostlink.chaos import crash_point
from hostlink.redaction import mask_pan, redact

log = logging.getLogger(__name__)

GENESIS_HASH = "0" * 64
JOURNAL_FILE = "journal.jsonl"

KIND_EVENT = "event"
KIND_INTENT = "intent"
KIND_OUTCOME = "outcome"

TAIL_RECOVERED_EVENT = "journal_tail_recovered"
# What the journal journals when the file under it changed while it ran (the security monitor's alerts).
FILE_DELETED_EVENT = "journal_file_deleted"
FILE_REPLACED_EVENT = "journal_file_replaced"
FILE_TRUNCATED_EVENT = "journal_file_truncated"
FILE_REWRITTEN_EVENT = "journal_file_rewritten"
FILE_EVENTS = frozenset({FILE_DELETED_EVENT, FILE_REPLACED_EVENT, FILE_TRUNCATED_EVENT, FILE_REWRITTEN_EVENT})

# Fields whose value is a secret in any form: never written, whatever the type.
_SECRET_KEYS = frozenset(
    {
        "pin",
        "pin_block",
        "pinblock",
        "new_pin",
        "old_pin",
        "pvv",
        "track",
        "track1",
        "track2",
        "track3",
        "track_data",
        "cvv",
        "cvv2",
        "password",
        "key",
        "pin_key",
    }
)
# Fields that hold a PAN: masked (first 6 / last 4) even when the value is a number.
_PAN_KEYS = frozenset({"pan", "card_number", "account_pan"})
_RECORD_KEYS = ("seq", "ts", "kiosk_id", "session_id", "event", "kind", "ref", "fields", "prev", "hash")


class JournalError(Exception):
    """The journal cannot be opened or written (the kiosk must go out of service)."""


class RecordFormatError(ValueError):
    """A stored line that is not one canonical journal record (a key twice, NaN, not an object, …)."""


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_file` found. ``count`` records check out; ``line`` is the bad line's number.

    ``hashes`` holds the hash of each record whose seq was asked for (``want``); ``seals`` the host's
    seals the file holds (``journal_sealed`` records that check out), for verification against the host.
    """

    ok: bool
    first_bad_seq: int | None
    reason: str
    count: int
    line: int | None = None
    torn_tail: bool = False
    missing: bool = False
    last_hash: str = GENESIS_HASH
    hashes: dict[int, str] = field(default_factory=dict)
    seals: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class JournalRecord:
    seq: int
    ts: str
    kiosk_id: str
    session_id: str | None
    event: str
    kind: str
    ref: int | None
    fields: dict[str, Any]
    prev: str
    hash: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JournalRecord:
        return cls(**{key: data[key] for key in _RECORD_KEYS})


@dataclass(frozen=True)
class Suspect:
    """An intent with no outcome: the process stopped between starting a hardware action and ending it."""

    intent_seq: int
    event: str
    ts: str
    session_id: str | None
    fields: dict[str, Any]


def utc_now() -> datetime:
    return datetime.now(UTC)


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise RecordFormatError(f"key {key!r} appears twice")
        data[key] = value
    return data


def _no_constant(name: str) -> Any:
    raise RecordFormatError(f"{name} is not a JSON value")


def parse_record(raw: bytes) -> dict[str, Any]:
    """One stored line (without its newline) as a dict; a key twice, NaN or a non-object is refused."""
    data = json.loads(raw, object_pairs_hook=_unique_pairs, parse_constant=_no_constant)
    if not isinstance(data, dict):
        raise RecordFormatError("not a JSON object")
    return data


def chain_hash(prev_hash: str, content: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash (hex, ASCII) followed by the record's canonical JSON sans "hash"."""
    body = {key: value for key, value in content.items() if key != "hash"}
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(body)).hexdigest()


def clean_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Make fields JSON-safe and secret-free: every string redacted, PAN fields masked, secrets dropped."""
    return {str(key): _clean(str(key), value) for key, value in fields.items()}


def _clean(key: str, value: Any) -> Any:
    name = key.lower()
    if name in _SECRET_KEYS:
        return "[REDACTED]"
    if name in _PAN_KEYS and isinstance(value, str | int) and not isinstance(value, bool):
        return mask_pan(str(value))
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # A 13+ digit integer could be a PAN passed under an innocent name; amounts never get that big.
        return value if abs(value) < 10**12 else redact(str(value))
    if isinstance(value, enum.Enum):
        return _clean(key, value.value)
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes>"
    if isinstance(value, Mapping):
        return {str(k): _clean(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(key, item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return redact(str(value))


def _format_ts(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise JournalError("journal clock must return timezone-aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _parse_ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Journal:
    """Append-only hash-chained journal in ``directory``. Thread-safe and multi-process safe."""

    def __init__(self, directory: Path, kiosk_id: str, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._dir = directory
        self._kiosk_id = kiosk_id
        self._clock = clock
        self._lock = threading.Lock()
        try:
            directory.mkdir(parents=True, exist_ok=True)
            os.chmod(directory, 0o700)
            self._path = directory / JOURNAL_FILE
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise JournalError(f"cannot open the journal in {directory}: {exc.strerror}") from None
        self._offset = 0  # bytes of the file already folded into the state below
        self._seq = 0
        self._hash = GENESIS_HASH
        self._open_intents: dict[int, Suspect] = {}
        self._records = 0  # whole records in the file as this process knows it
        self._last_line = b""  # the newest whole line, as stored: it must still be there at the next write
        self._listeners: list[Callable[[int, str, str], None]] = []
        self._closed = False
        with self._lock, self._flocked(fcntl.LOCK_SH):
            self._catch_up()

    # -- public API ------------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self._path

    @property
    def kiosk_id(self) -> str:
        return self._kiosk_id

    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int:
        """Journal a plain event; returns its sequence number."""
        return self._append(event, KIND_EVENT, None, session_id, fields)

    def intent(self, event: str, *, session_id: str | None = None, **fields: Any) -> int:
        """Journal the intent to do a hardware action *before* doing it; returns the intent id (its seq)."""
        crash_point("journal.intent.before")
        seq = self._append(event, KIND_INTENT, None, session_id, fields)
        crash_point("journal.intent.after")
        return seq

    def outcome(
        self,
        intent_id: int,
        result: str,
        *,
        event: str | None = None,
        session_id: str | None = None,
        **fields: Any,
    ) -> int:
        """Journal how the action announced by ``intent_id`` ended."""
        with self._lock, self._flocked(fcntl.LOCK_EX):
            self._prepare_write()
            intent = self._open_intents.get(intent_id)
            if intent is None:
                raise JournalError(f"intent {intent_id} is unknown or already has an outcome")
            name = event or f"{intent.event}_outcome"
            sid = session_id if session_id is not None else intent.session_id
            crash_point("journal.outcome.before")
            seq = self._append_locked(name, KIND_OUTCOME, intent_id, sid, {"result": result, **fields})
        crash_point("journal.outcome.after")
        return seq

    def for_session(self, session_id: str) -> SessionJournal:
        return SessionJournal(self, session_id)

    def suspects(self) -> list[Suspect]:
        """Intents without an outcome (including those another process left behind), oldest first."""
        with self._lock, self._flocked(fcntl.LOCK_SH):
            self._catch_up()
            return [self._open_intents[seq] for seq in sorted(self._open_intents)]

    @property
    def last_seq(self) -> int:
        with self._lock, self._flocked(fcntl.LOCK_SH):
            self._catch_up()
            return self._seq

    @property
    def head_hash(self) -> str:
        """The newest record's hash: anchoring it elsewhere (host, printout) detects a full rewrite."""
        with self._lock, self._flocked(fcntl.LOCK_SH):
            self._catch_up()
            return self._hash

    def head_text(self) -> str | None:
        """``seq:hash`` of the newest record, as host calls carry it (None while the journal is empty)."""
        with self._lock, self._flocked(fcntl.LOCK_SH):
            self._catch_up()
            return f"{self._seq}:{self._hash}" if self._seq else None

    def anchor_point(self) -> tuple[int, str, int]:
        """``(seq, hash, records)`` of the newest record: what a checkpoint at the host anchors."""
        with self._lock, self._flocked(fcntl.LOCK_SH):
            self._catch_up()
            return self._seq, self._hash, self._records

    def subscribe(self, listener: Callable[[int, str, str], None]) -> None:
        """``listener(seq, hash, event)`` after every record this process writes (must not write here)."""
        self._listeners.append(listener)

    def repair(self) -> dict[str, Any] | None:
        """Move a torn last line aside and journal it (start-up recovery, ``journal repair``).

        Returns the facts journaled with ``journal_tail_recovered``, or None when the tail was whole.
        """
        with self._lock, self._flocked(fcntl.LOCK_EX):
            self._guard_file()
            self._catch_up()
            return self._repair_locked()

    def check_file(self) -> list[str]:
        """The file-under-the-kiosk check a write makes, without writing a record; the events journaled."""
        with self._lock, self._flocked(fcntl.LOCK_EX):
            return self._guard_file()

    def verify(self) -> VerifyReport:
        """Walk the chain of the file as it is now; changes nothing."""
        with self._lock, self._flocked(fcntl.LOCK_SH):
            return verify_file(self._path, lock=False)

    def records(self) -> Iterator[JournalRecord]:
        for line in self._snapshot_lines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                yield JournalRecord.from_dict(parse_record(line.encode()))

    def export(self, start: int | datetime | None = None, end: int | datetime | None = None) -> Iterator[str]:
        """Stored lines (with their hashes, so a range can be re-verified) whose seq or time is in range.

        Bounds are inclusive; an ``int`` bound is a sequence number, a ``datetime`` a UTC time.
        """
        for line in self._snapshot_lines():
            try:
                data = parse_record(line.encode())
                seq, moment = int(data["seq"]), _parse_ts(str(data["ts"]))
            except (ValueError, KeyError, TypeError):
                continue  # damaged lines are reported by verify, not exported as evidence
            if _in_range(seq, moment, start, end):
                yield line

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                os.close(self._fd)
                self._closed = True

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _flocked(self, mode: int) -> Iterator[None]:
        if self._closed:
            raise JournalError("journal is closed")
        fcntl.flock(self._fd, mode)
        try:
            yield
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _append(
        self, event: str, kind: str, ref: int | None, session_id: str | None, fields: Mapping[str, Any]
    ) -> int:
        with self._lock, self._flocked(fcntl.LOCK_EX):
            self._prepare_write()
            return self._append_locked(event, kind, ref, session_id, fields)

    def _prepare_write(self) -> None:
        """Under the exclusive lock: the file is ours and whole, and every record in it is folded in."""
        self._guard_file()
        self._catch_up()
        self._repair_locked()

    def _repair_locked(self) -> dict[str, Any] | None:
        torn = self._cut_torn_tail()
        if torn is not None:
            self._append_locked(TAIL_RECOVERED_EVENT, KIND_EVENT, None, None, torn)
        return torn

    def _append_locked(
        self, event: str, kind: str, ref: int | None, session_id: str | None, fields: Mapping[str, Any]
    ) -> int:
        seq = self._seq + 1
        content: dict[str, Any] = {
            "seq": seq,
            "ts": _format_ts(self._clock()),
            "kiosk_id": self._kiosk_id,
            "session_id": None if session_id is None else redact(session_id),
            "event": redact(event),
            "kind": kind,
            "ref": ref,
            "fields": clean_fields(fields),
            "prev": self._hash,
        }
        content["hash"] = chain_hash(self._hash, content)
        line = canonical_json(content) + b"\n"
        try:
            _write_all(self._fd, line)
            os.fsync(self._fd)
        except OSError as exc:
            raise JournalError(f"cannot write the journal: {exc.strerror}") from None
        self._offset += len(line)
        self._fold(content, line)
        for listener in list(self._listeners):
            try:
                listener(seq, self._hash, event)
            except Exception:  # a listener must never stop the journal
                log.exception("journal listener failed")
        return seq

    def _fold(self, data: Mapping[str, Any], line: bytes) -> None:
        """Update the in-memory head (seq, hash, open intents) with one parsed record and its stored line."""
        self._seq = int(data["seq"])
        self._hash = str(data["hash"])
        self._records += 1
        self._last_line = line
        kind = data.get("kind")
        if kind == KIND_INTENT:
            self._open_intents[self._seq] = Suspect(
                self._seq, str(data["event"]), str(data["ts"]), data.get("session_id"), dict(data["fields"])
            )
        elif kind == KIND_OUTCOME and data.get("ref") is not None:
            self._open_intents.pop(int(data["ref"]), None)

    def _catch_up(self) -> None:
        """Fold in records appended since we last looked (by us or by another process)."""
        size = os.fstat(self._fd).st_size
        if size <= self._offset:  # nothing new (a file cut short is the next write's business)
            return
        chunk = os.pread(self._fd, size - self._offset, self._offset)
        end = chunk.rfind(b"\n") + 1  # only whole lines; a tail being written is read next time
        for raw in chunk[:end].splitlines(keepends=True):
            try:
                self._fold(parse_record(raw.rstrip(b"\n")), raw)
            except (ValueError, KeyError, TypeError):
                # A damaged line: verify names it; new records keep chaining from the last good one.
                self._last_line = raw
                log.error(
                    "journal line after record %d is damaged; run `smart-teller journal verify`", self._seq
                )
        self._offset += end

    def _cut_torn_tail(self) -> dict[str, Any] | None:
        """Move a last line without its newline (a crash mid-write) aside; returns facts for the journal."""
        size = os.fstat(self._fd).st_size
        if size == 0 or os.pread(self._fd, 1, size - 1) == b"\n":
            return None
        keep = _whole_lines_end(self._fd, size)
        torn = os.pread(self._fd, size - keep, keep)
        side = self._evidence("torn", ".bin", torn)
        os.ftruncate(self._fd, keep)
        os.fsync(self._fd)
        log.warning("journal: cut a torn last line of %d bytes (saved as %s)", len(torn), side.name)
        return {"bytes": len(torn), "sha256": hashlib.sha256(torn).hexdigest(), "saved_as": side.name}

    def _evidence(self, prefix: str, suffix: str, data: bytes) -> Path:
        """Keep ``data`` in a new 0600 side file ``<prefix>-<time>[-n]<suffix>``; returns its path."""
        stamp = _format_ts(self._clock()).replace(":", "")
        for n in range(1000):
            side = self._dir / f"{prefix}-{stamp}{f'-{n}' if n else ''}{suffix}"
            try:
                fd = os.open(side, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            try:
                _write_all(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            return side
        raise JournalError("cannot name a side file for journal evidence")

    def _guard_file(self) -> list[str]:
        """Under the exclusive lock: is the file at our path still the one we hold, with our last record?

        A deleted or replaced file is restored from the open descriptor (the replacement kept aside); a
        file cut short or rewritten in place is left as evidence and the chain goes on from the record we
        know was last. Each is journaled; returns the events journaled.
        """
        held = os.fstat(self._fd)
        try:
            named = os.stat(self._path)
        except FileNotFoundError:
            named = None
        if named is None or (named.st_dev, named.st_ino) != (held.st_dev, held.st_ino):
            return self._restore(named is not None)
        end = self._offset
        last = self._last_line
        if held.st_size < end:
            found = held.st_size
            self._offset = _whole_lines_end(self._fd, found)
            self._records = _count_lines(self._fd, self._offset)
            self._last_line = b""
            facts: dict[str, Any] = {"expected_bytes": end, "found_bytes": found, "last_seq": self._seq}
            facts["torn_tail"] = self._cut_torn_tail()  # a line cut in half must not swallow ours
            log.critical("journal: the file was cut from %d to %d bytes under the kiosk", end, found)
            self._append_locked(FILE_TRUNCATED_EVENT, KIND_EVENT, None, None, facts)
            return [FILE_TRUNCATED_EVENT]
        if last and os.pread(self._fd, len(last), end - len(last)) != last:
            self._offset = _whole_lines_end(self._fd, held.st_size)
            self._records = _count_lines(self._fd, self._offset)
            self._last_line = b""
            rewritten: dict[str, Any] = {
                "last_seq": self._seq,
                "last_hash": self._hash,
                "bytes": held.st_size,
            }
            rewritten["torn_tail"] = self._cut_torn_tail()
            log.critical("journal: record %d was rewritten in place under the kiosk", self._seq)
            self._append_locked(FILE_REWRITTEN_EVENT, KIND_EVENT, None, None, rewritten)
            return [FILE_REWRITTEN_EVENT]
        return []

    def _restore(self, replaced: bool) -> list[str]:
        """Our file was deleted (``replaced`` False) or another file put at its path: restore ours."""
        self._catch_up()  # whatever another process appended to our file before it went
        keep = _whole_lines_end(self._fd, os.fstat(self._fd).st_size)
        ours = os.pread(self._fd, keep, 0)
        facts: dict[str, Any] = {"restored_bytes": keep, "restored_records": self._records}
        event = FILE_DELETED_EVENT
        for _ in range(3):
            if replaced:
                try:
                    with open(self._path, "rb") as handle:
                        theirs = handle.read()
                except FileNotFoundError:  # gone again before we could look: restore into a fresh file
                    replaced = False
                    continue
                if theirs[:keep] == ours:  # another process of ours restored it already: adopt it
                    return self._adopt([])
                side = self._dir / f"replaced-{_format_ts(self._clock()).replace(':', '')}.jsonl"
                os.replace(self._path, side)
                os.chmod(side, 0o600)
                event = FILE_REPLACED_EVENT
                facts.update(saved_as=side.name, bytes=len(theirs), sha256=hashlib.sha256(theirs).hexdigest())
            staged = self._dir / f".{JOURNAL_FILE}.restore-{os.getpid()}"
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                _write_all(fd, ours)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(staged, self._path)  # atomic: a whole file appears at the path, or none
            except FileExistsError:
                replaced = True  # someone was quicker: look at what they put there
                continue
            finally:
                staged.unlink(missing_ok=True)
            log.critical("journal: %s under the kiosk; restored %d records", event, self._records)
            return self._adopt([event], facts)
        raise JournalError("the journal file keeps changing under the kiosk")

    def _adopt(self, events: list[str], facts: Mapping[str, Any] | None = None) -> list[str]:
        """Hold the file now at our path (locked like the one it replaces) and journal ``events``."""
        try:
            fd = os.open(self._path, os.O_RDWR | os.O_APPEND)
        except OSError as exc:
            raise JournalError(f"cannot reopen the journal: {exc.strerror}") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.close(self._fd)
        self._fd = fd
        self._catch_up()
        for event in events:
            self._append_locked(event, KIND_EVENT, None, None, facts or {})
        return events

    def _snapshot_lines(self) -> Iterator[str]:
        """Whole lines present now; read without holding the lock (records before the end never change)."""
        with self._lock, self._flocked(fcntl.LOCK_SH):
            size = os.fstat(self._fd).st_size
        with open(self._path, "rb") as handle:
            remaining = size
            for raw in handle:
                remaining -= len(raw)
                if remaining < 0 or not raw.endswith(b"\n"):
                    break
                yield raw.decode("utf-8", errors="replace").rstrip("\n")


class SessionJournal:
    """The journal bound to one customer or technician session."""

    def __init__(self, journal: Journal, session_id: str) -> None:
        self.journal = journal
        self.session_id = session_id

    def record(self, event: str, **fields: Any) -> int:
        return self.journal.record(event, session_id=self.session_id, **fields)

    def intent(self, event: str, **fields: Any) -> int:
        return self.journal.intent(event, session_id=self.session_id, **fields)

    def outcome(self, intent_id: int, result: str, **fields: Any) -> int:
        return self.journal.outcome(intent_id, result, session_id=self.session_id, **fields)


def _in_range(seq: int, moment: datetime, start: int | datetime | None, end: int | datetime | None) -> bool:
    if isinstance(start, datetime) and moment < start:
        return False
    if isinstance(end, datetime) and moment > end:
        return False
    if isinstance(start, int) and seq < start:
        return False
    return not (isinstance(end, int) and seq > end)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _whole_lines_end(fd: int, size: int) -> int:
    """The offset just after the last newline in the first ``size`` bytes (0 when there is none)."""
    keep = size
    while keep > 0:
        start = max(0, keep - 4096)
        index = os.pread(fd, keep - start, start).rfind(b"\n")
        if index >= 0:
            return start + index + 1
        keep = start
    return 0


def _count_lines(fd: int, end: int) -> int:
    count, offset = 0, 0
    while offset < end:
        chunk = os.pread(fd, min(1 << 20, end - offset), offset)
        if not chunk:
            break
        count += chunk.count(b"\n")
        offset += len(chunk)
    return count


SEALED_EVENT = "journal_sealed"


def verify_file(path: Path, *, want: Collection[int] = (), lock: bool = True) -> VerifyReport:
    """Walk the chain of the file as stored; the first record that does not check out is named.

    Read-only: the file is opened for reading and never changed (a torn tail is reported, not cut).
    ``want``: sequence numbers whose hashes the report should carry (checkpoints held by the host).
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return VerifyReport(True, None, "no journal file", 0, missing=True)
    with os.fdopen(fd, "rb") as handle:
        if lock:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        return _walk(handle, set(want))


def _walk(handle: Any, want: set[int]) -> VerifyReport:
    prev_hash = GENESIS_HASH
    expected = 1
    hashes: dict[int, str] = {}
    seals: list[dict[str, Any]] = []

    def broken(reason: str, line: int, *, torn: bool = False) -> VerifyReport:
        return VerifyReport(
            False,
            expected,
            f"line {line}: {reason}",
            expected - 1,
            line,
            torn,
            False,
            prev_hash,
            hashes,
            seals,
        )

    for line, raw in enumerate(handle, start=1):
        if not raw.endswith(b"\n"):
            return broken(
                "torn last line (a crash mid-write); `smart-teller journal repair` moves it aside",
                line,
                torn=True,
            )
        try:
            data = parse_record(raw[:-1])
            record = JournalRecord.from_dict(data)
        except RecordFormatError as exc:
            return broken(f"not a valid journal record: {exc}", line)
        except (ValueError, KeyError, TypeError):
            return broken("not a valid journal record", line)
        if set(data) != set(_RECORD_KEYS):
            return broken("not a valid journal record: unexpected or missing keys", line)
        if canonical_json(data) + b"\n" != raw:
            return broken("not stored as canonical JSON (the hash covers the stored bytes)", line)
        if record.seq != expected:
            return broken(f"sequence {record.seq} where {expected} was expected", line)
        if record.prev != prev_hash:
            return broken("previous-hash link does not match the record before", line)
        if chain_hash(prev_hash, data) != record.hash:
            return broken("content does not match its hash", line)
        if record.seq in want:
            hashes[record.seq] = record.hash
        if record.event == SEALED_EVENT:
            seals.append(dict(record.fields))
        prev_hash = record.hash
        expected += 1
    count = expected - 1
    return VerifyReport(
        True, None, "ok" if count else "empty journal", count, None, False, False, prev_hash, hashes, seals
    )
