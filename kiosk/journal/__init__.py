"""The electronic journal (append-only, hash-chained evidence) and crash recovery from it."""

from kiosk.journal.journal import (
    GENESIS_HASH,
    Journal,
    JournalError,
    JournalRecord,
    SessionJournal,
    Suspect,
    VerifyReport,
    verify_file,
)

__all__ = [
    "GENESIS_HASH",
    "Journal",
    "JournalError",
    "JournalRecord",
    "SessionJournal",
    "Suspect",
    "VerifyReport",
    "verify_file",
]
