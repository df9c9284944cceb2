"""The ledger's values: what a caller asks for (TransferRequest), what it gets back (TransferOutcome or
TransferRefused, and why: RefusalReason), and the rows the hot path hands to the database."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from bank.models import TransferKind, TransferStatus

# The default bank day (daily limits, statements): China Standard Time, which has no daylight saving.
# A Ledger takes its zone as an argument; this stays the default and the zone of callers that import it.
BANK_TIMEZONE = timezone(timedelta(hours=8), "CST")
KIOSK_CHANNEL = "kiosk"


class RefusalReason(enum.StrEnum):
    INVALID_AMOUNT = "invalid_amount"
    UNKNOWN_ACCOUNT = "unknown_account"
    UNKNOWN_PAYEE = "unknown_payee"
    SAME_ACCOUNT = "same_account"
    NOT_OWN_ACCOUNT = "not_own_account"
    PAYEE_NAME_MISMATCH = "payee_name_mismatch"
    CURRENCY_MISMATCH = "currency_mismatch"
    ACCOUNT_FROZEN = "account_frozen"
    ACCOUNT_CLOSED = "account_closed"
    PAYEE_ACCOUNT_FROZEN = "payee_account_frozen"
    PAYEE_ACCOUNT_CLOSED = "payee_account_closed"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    DAILY_LIMIT = "daily_limit"
    DAILY_COUNT_LIMIT = "daily_count_limit"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    NOT_PENDING = "not_pending"
    BUSY = "busy"  # the database kept failing over; nothing was posted


@dataclass(frozen=True)
class TransferRequest:
    idempotency_key: str
    kind: TransferKind
    debit_account_id: int
    credit_account_id: int
    amount_minor: int
    currency: str
    fee_minor: int = 0
    description: str = ""  # shown on the payer's statement
    payee_description: str = ""  # shown on the payee's statement
    payee_bank_code: str | None = None
    payee_account: str | None = None
    payee_name: str | None = None
    channel: str = KIOSK_CHANNEL  # kiosk transfers count towards the daily limits
    kiosk_id: str = ""

    @property
    def hold_minor(self) -> int:
        return self.amount_minor + self.fee_minor

    def fingerprint(self) -> str:
        """SHA-256 of the fields that make the request what it is, separated by US (0x1f); stored with the
        transfer, so this text must never change."""
        text = (
            f"{self.kind.value}\x1f{self.debit_account_id}\x1f{self.credit_account_id}\x1f"
            f"{self.amount_minor}\x1f{self.currency}\x1f{self.fee_minor}\x1f"
            f"{self.payee_bank_code or ''}\x1f{self.payee_account or ''}"
        )
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class TransferOutcome:
    """A transfer that exists: posted, pending (funds held) or, on a replay, possibly voided since."""

    transfer_id: int
    status: TransferStatus
    amount_minor: int
    fee_minor: int
    currency: str
    created_at: datetime
    replayed: bool = False  # True when this answers a retry of an earlier request with the same key
    void_reason: str | None = None


@dataclass(frozen=True)
class TransferRefused:
    reason: RefusalReason
    detail: str = ""


TransferResult = TransferOutcome | TransferRefused


class _Refusal(Exception):
    """Unwinds the transaction (nothing written) and becomes a TransferRefused value."""

    def __init__(self, reason: RefusalReason, detail: str = "") -> None:
        super().__init__(reason.value)
        self.refused = TransferRefused(reason, detail)


# (id, balance, pending holds, limit day, day amount, day count) written back per touched account.
AccountWrite = tuple[int, int, int, Any, int, int]


class PostArguments(NamedTuple):
    """A transfer for the database to post by itself, in bank_post_transfer's parameter order (migration
    0009); values already in the database's types (see _Statements' binders)."""

    idempotency_key: str
    fingerprint: str
    kind: str
    pending: bool
    debit: int
    credit: int
    amount: int
    fee: int
    currency: str
    payee_bank_code: str | None
    payee_account: str | None
    payee_name: Any  # ciphertext
    description: str
    payee_description: str
    channel: str
    kiosk_id: str
    bank_day: Any
    now: Any
    fee_account: int | None
    use_daily_limits: bool

    def transfer_row(self) -> tuple[Any, ...]:
        """The bank_transfers row these arguments make, in sql.TRANSFER_COLUMNS order."""
        return (
            self.idempotency_key,
            self.fingerprint,
            self.kind,
            TransferStatus.PENDING.value if self.pending else TransferStatus.POSTED.value,
            self.debit,
            self.credit,
            self.amount,
            self.fee,
            self.currency,
            self.payee_bank_code,
            self.payee_account,
            self.payee_name,
            self.description,
            self.channel,
            self.kiosk_id,
            self.bank_day,
            self.now,
            None if self.pending else self.now,
        )
