"""The double-entry ledger: transfers, immutable postings, pending → posted | voided, idempotency, locks.

A transfer is one ``bank_transfers`` row plus, once posted, two or more ``bank_postings`` rows whose signed
amounts sum to zero (debits equal credits). Each request carries an idempotency key (unique in the
database): a retry — even one racing the original on another kiosk — returns the original outcome and
never posts twice. A pending transfer holds the payer's funds (``pending_debits_minor``) without posting;
posting it writes the postings and releases the hold, voiding just releases the hold.

Concurrency: each transfer is one database transaction. The transfer row is inserted first (the unique
key is the idempotency guard), then the account rows are locked in ascending id order (``SELECT … FOR NO
KEY UPDATE`` on PostgreSQL, so two kiosks never deadlock on a pair of accounts; SQLite's ``BEGIN
IMMEDIATE`` serialises writers). Serialisation failures, deadlocks, a busy SQLite and lost connections are
retried with jitter.

The hot path (transfer, post, void) runs on this thread's DBAPI connection with SQL text written once per
dialect, kept between transfers: a transfer is one commit, and ``benchmarks/ledger.py`` holds it against
the database's raw commit rate. A transfer is run by the database itself (migration 0009): on PostgreSQL
a call to the function ``bank_post_transfer`` sent together with COMMIT in psycopg's pipeline mode (one
round trip); on SQLite the transfer row's INSERT … RETURNING id, then an INSERT into the view
``bank_transfer_requests``, whose trigger does the rest in SQLite's C. Either posts only what every rule
in ``rules`` clearly allows and declines anything else; a declined transfer runs again on the general path
— insert + lock, then the rules, then postings + balances (two round trips on PostgreSQL) — which names
the refusal. Everything else (look-ups, replays, internal accounts) uses SQLAlchemy Core.

A bank day (the day a transfer is booked on, which its daily limits count towards) runs from midnight to
midnight in the bank's time zone: a Ledger's ``timezone`` argument, China Standard Time (BANK_TIMEZONE)
unless told otherwise.

The modules: ``types`` (requests, outcomes, refusals, constants), ``rules`` (pure: the checks and the
bank day), ``sql`` (the hot path's SQL per dialect and its binders), ``transaction`` (a transaction on
this thread's connection, retries, crash points), ``core`` (the Ledger). This package re-exports what
callers use, including the private names that bank.simulation, the benchmarks and the tests reach for.
"""

from bank.ledger.core import INTERNAL_SERIALS, Ledger
from bank.ledger.rules import bank_day_of, is_retryable
from bank.ledger.sql import (
    ACCOUNTS,
    DECLINED_MESSAGE,
    DECLINED_SQLSTATE,
    POSTINGS,
    TRANSFERS,
    _Statements,
    sqlite_date_text,
    sqlite_utc_text,
)
from bank.ledger.transaction import MAX_ATTEMPTS, _Locked, _Tx
from bank.ledger.types import (
    BANK_TIMEZONE,
    KIOSK_CHANNEL,
    PostArguments,
    RefusalReason,
    TransferOutcome,
    TransferRefused,
    TransferRequest,
    TransferResult,
    _Refusal,
)

# The rules (_check_can_pay, ...) are deliberately not re-exported: the Ledger looks them up in
# bank.ledger.core, so that is where a test patches one; a patch here would silently do nothing.
__all__ = [
    "ACCOUNTS",
    "BANK_TIMEZONE",
    "DECLINED_MESSAGE",
    "DECLINED_SQLSTATE",
    "INTERNAL_SERIALS",
    "KIOSK_CHANNEL",
    "MAX_ATTEMPTS",
    "POSTINGS",
    "TRANSFERS",
    "Ledger",
    "PostArguments",
    "RefusalReason",
    "TransferOutcome",
    "TransferRefused",
    "TransferRequest",
    "TransferResult",
    "_Locked",
    "_Refusal",
    "_Statements",
    "_Tx",
    "bank_day_of",
    "is_retryable",
    "sqlite_date_text",
    "sqlite_utc_text",
]
