"""The electronic journal (append-only, hash-chained evidence) and crash recovery from it."""

from kiosk.journal.journal import (
    FILE_EVENTS,
    GENESIS_HASH,
    Journal,
    JournalError,
    JournalRecord,
    RecordFormatError,
    SessionJournal,
    Suspect,
    VerifyReport,
    parse_record,
    verify_file,
)

__all__ = [
    "FILE_EVENTS",
    "GENESIS_HASH",
    "Journal",
    "JournalError",
    "JournalRecord",
    "RecordFormatError",
    "SessionJournal",
    "Suspect",
    "VerifyReport",
    "parse_record",
    "verify_file",
]
