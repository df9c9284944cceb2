"""The JSON API between terminal and host (``/v1/...``): request and response models, refusal codes.

Both programs import these models: the host (FastAPI) validates requests and serialises answers with
them, the terminal's client builds requests and reads answers with them, and ``docs/host-api.json`` (the
OpenAPI document) is generated from them. Amounts are integer minor units; dates are ISO text.

Two kinds of "no":

- **A protocol refusal** (unknown or revoked terminal, bad signature, replay, malformed body, an
  idempotency key reused for another request): HTTP 4xx with a :class:`RefusalBody`; nothing changed.
- **A business refusal** (insufficient funds, an unknown payee, a frozen account): HTTP 200 with the
  operation's answer carrying ``refused`` — it is an answer, journaled as such, and replayed as such.
"""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hostlink.redaction import key_token

API_VERSION = "1"
API_PREFIX = "/v1"


class RefusalCode(enum.StrEnum):
    BAD_REQUEST = "bad_request"  # malformed JSON, wrong types, missing fields
    BODY_TOO_LARGE = "body_too_large"
    UNAUTHENTICATED = "unauthenticated"  # headers missing or malformed
    UNKNOWN_TERMINAL = "unknown_terminal"
    TERMINAL_REVOKED = "terminal_revoked"
    BAD_SIGNATURE = "bad_signature"
    STALE_REQUEST = "stale_request"  # timestamp outside the allowed skew
    REPLAYED_REQUEST = "replayed_request"  # nonce seen before
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"  # same key, different request
    IN_PROGRESS = "in_progress"  # the same key is being served right now: ask again shortly
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    UNAVAILABLE = "unavailable"  # the host cannot serve now (database down): retry


class Refusal(BaseModel):
    code: RefusalCode
    message: str


class RefusalBody(BaseModel):
    refusal: Refusal


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


IdempotencyKey = Field(min_length=8, max_length=96, pattern=r"^[A-Za-z0-9:._-]+$")


def new_idempotency_key(session_id: str) -> str:
    """One per request that changes something at the host (``<session>:<16 hex>``): a request sent
    again with the same key never acts twice."""
    return f"{session_id or 'T'}:{key_token()}"


Pan = Field(min_length=12, max_length=19, pattern=r"^[0-9]+$")
HexBlock = Field(min_length=16, max_length=32, pattern=r"^[0-9A-Fa-f]+$")


# -- health --


class Health(_Model):
    status: Literal["ok"]
    host_id: str
    api_version: str
    bank_day: str
    timezone: str


# -- cards and PINs --


class CardLookup(_Model):
    pan: str = Pan


class CardInfo(_Model):
    found: bool
    card_id: int = 0
    status: str = ""
    expiry: str = ""
    customer_id: int = 0
    account_id: int = 0
    account_masked: str = ""
    has_pin: bool = False
    tries_left: int = 0


class PinVerify(_Model):
    pan: str = Pan
    pin_block: str = HexBlock  # enciphered under the PIN pad's key; the host's HSM deciphers it
    session_id: str = Field(default="", max_length=32)


class PinVerified(_Model):
    outcome: str  # ok | wrong_pin | blocked | unknown_card | no_pin | error
    tries_left: int


class PinSet(_Model):
    pan: str = Pan
    first_block: str = HexBlock
    second_block: str = HexBlock
    session_id: str = Field(default="", max_length=32)


class PinSetResult(_Model):
    outcome: str  # ok | mismatch | weak | …


class CardStatusChange(_Model):
    status: Literal["active", "retained", "blocked"]
    reason: str = Field(default="", max_length=64)


class Done(_Model):
    ok: bool


# -- accounts and enquiries --


class AccountView(_Model):
    account_id: int
    masked: str
    kind: str
    status: str
    available_minor: int


class Accounts(_Model):
    accounts: list[AccountView]


class BalanceView(_Model):
    refused: str = ""
    ledger_minor: int = 0
    available_minor: int = 0
    pending_minor: int = 0
    overdraft_minor: int = 0
    status: str = ""


class StatementLineView(_Model):
    date: str
    description: str
    amount_minor: int
    balance_minor: int


class Statement(_Model):
    refused: str = ""
    lines: list[StatementLineView] = []
    next_cursor: int | None = None


class HistoryQuery(_Model):
    start: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    end: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    page_size: int = Field(default=8, ge=1, le=50)
    before: int | None = None


# -- transfers --


class TransferOrder(_Model):
    idempotency_key: str = IdempotencyKey
    kind: Literal["own", "customer", "other_bank"]
    from_account_id: int
    to_account_id: int | None = None
    payee_account: str = Field(default="", max_length=34)
    payee_name: str = Field(default="", max_length=64)
    bank_code: str = Field(default="", max_length=12)
    amount_minor: int = Field(gt=0, lt=10**15)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class TransferAnswer(_Model):
    refused: str = ""
    reference: str = ""
    transfer_id: int = 0
    status: str = ""
    fee_minor: int = 0
    replayed: bool = False


class TransferState(_Model):
    idempotency_key: str
    status: str  # not_posted | posted | pending | voided | manual_review


# -- account opening and face login --


class CustomerQuery(_Model):
    id_number: str = Field(min_length=15, max_length=18)


class CustomerExists(_Model):
    exists: bool


class OpeningOrder(_Model):
    idempotency_key: str = IdempotencyKey
    name: str = Field(min_length=1, max_length=64)
    id_number: str = Field(min_length=15, max_length=18)
    id_expiry: str | None = None
    phone: str = Field(min_length=5, max_length=20)
    address: str = Field(default="", max_length=200)
    occupation: str = Field(default="", max_length=64)
    photo_b64: str | None = Field(default=None, max_length=700_000)
    face_template: list[float] | None = Field(default=None, min_length=128, max_length=128)
    account_kind: Literal["current", "savings"]
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class OpeningAnswer(_Model):
    refused: str = ""
    customer_id: int = 0
    account_id: int = 0
    card_id: int = 0
    account_number: str = ""
    pan: str = ""  # the new card's PAN: written to track 2 by the dispenser, kept in memory only
    pan_masked: str = ""
    card_expiry: str = ""


class OpeningVoid(_Model):
    customer_id: int
    account_id: int | None = None  # None: the card's account
    card_id: int
    reason: str = Field(default="", max_length=64)


class Voided(_Model):
    voided: bool


class FaceFind(_Model):
    mode: Literal["id_number", "phone"]
    value: str = Field(min_length=5, max_length=20)


class FaceAccount(_Model):
    account_id: int
    masked: str
    kind: str


class FaceCustomer(_Model):
    found: bool
    customer_id: int = 0
    has_template: bool = False
    accounts: list[FaceAccount] = []


class FaceMatch(_Model):
    customer_id: int
    encoding: list[float] = Field(min_length=128, max_length=128)


class FaceMatched(_Model):
    outcome: Literal["match", "no_match", "reference_unusable"]
    distance: float | None
    threshold: float


# -- bill payment --


class BillLookup(_Model):
    biller: str = Field(min_length=1, max_length=16)
    number: str = Field(min_length=1, max_length=20)


class BillView(_Model):
    refused: str = ""
    biller: str = ""
    account_masked: str = ""
    period: str | None = ""
    billed_minor: int = 0
    paid_minor: int = 0
    due_minor: int = 0
    due_date: str | None = None
    topup_amounts_minor: list[int] = []


class BillPayment(_Model):
    idempotency_key: str = IdempotencyKey
    customer_id: int
    from_account_id: int
    biller: str = Field(min_length=1, max_length=16)
    number: str = Field(min_length=1, max_length=20)
    amount_minor: int = Field(gt=0, lt=10**15)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class BillPaidView(_Model):
    refused: str = ""
    reference: str = ""
    transfer_id: int = 0
    amount_minor: int = 0
    replayed: bool = False


class BillState(_Model):
    idempotency_key: str
    status: str  # not_posted | posted | …


class ScheduleView(_Model):
    schedule_id: int
    biller: str
    account_masked: str
    amount_minor: int | None
    day_of_month: int
    last_period: str | None
    last_result: str | None


class Schedules(_Model):
    schedules: list[ScheduleView]


class ScheduleOrder(_Model):
    customer_id: int
    from_account_id: int
    biller: str = Field(min_length=1, max_length=16)
    number: str = Field(min_length=1, max_length=20)
    day_of_month: int = Field(ge=1, le=28)
    amount_minor: int | None = Field(default=None, gt=0, lt=10**15)
    currency: str = Field(default="CNY", pattern=r"^[A-Z]{3}$")


class ScheduleAnswer(_Model):
    refused: str = ""
    schedule: ScheduleView | None = None


class ScheduleCancel(_Model):
    customer_id: int
    schedule_id: int


# -- loans, advice, staff alerts --


class LoanApplicationOrder(_Model):
    idempotency_key: str = IdempotencyKey
    customer_id: int
    account_id: int
    amount_minor: int = Field(gt=0, lt=10**15)
    term_months: int = Field(gt=0, le=360)
    monthly_income_minor: int = Field(ge=0, lt=10**15)
    monthly_debt_minor: int = Field(ge=0, lt=10**15)
    purpose: str = Field(min_length=1, max_length=32)
    session_id: str = Field(default="", max_length=32)


class LoanAnswer(_Model):
    refused: str = ""
    detail: str = ""
    reference: str = ""
    outcome: str = ""
    status: str = ""
    score: int = 0
    reasons: list[str] = []
    amount_minor: int = 0
    term_months: int = 0
    instalment_minor: int = 0


class AdviceSave(_Model):
    session_id: str = Field(min_length=1, max_length=32)
    customer_id: int
    answers: dict[str, str]
    amount_minor: int = Field(ge=0, lt=10**15)
    years: int = Field(ge=1, le=50)


class AdviceSaved(_Model):
    record_id: int
    level: str


class AdviceRefusal(_Model):
    record_id: int
    product: str = Field(min_length=1, max_length=32)
    reason: str = Field(default="", max_length=64)


class AdviceInterest(_Model):
    record_id: int
    product: str = Field(min_length=1, max_length=32)
    acknowledged: bool = False


class AdviceInterestAnswer(_Model):
    product: str
    cooling_off_until: str | None  # ISO moment (UTC) or None


class StaffAlertOrder(_Model):
    kind: str = Field(default="call_staff", max_length=32)
    session_id: str = Field(default="", max_length=32)
    lang: str = Field(default="en", max_length=8)
    topic: str = Field(default="", max_length=64)


class StaffAlertRaised(_Model):
    alert_id: int


# -- technicians --


class TechLogin(_Model):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TechLoginAnswer(_Model):
    outcome: str  # ok | bad_credentials | locked | …
    username: str = ""
    role: str = ""
    tries_left: int | None = None
    locked_until: str | None = None


class TechInfoView(_Model):
    username: str
    role: str
    locked: bool
    failed_logins: int
    last_login: str | None


class TechList(_Model):
    technicians: list[TechInfoView]


class TechManage(_Model):
    by: str = Field(min_length=1, max_length=64)  # the supervisor asking
    username: str = Field(min_length=1, max_length=64)
    password: str | None = Field(default=None, max_length=256)
    role: str | None = Field(default=None, max_length=16)


class TechLogout(_Model):
    username: str = Field(min_length=1, max_length=64)
    reason: str = Field(default="logout", max_length=32)


class LoanReviewItem(_Model):
    application_id: int
    reference: str
    customer_id: int
    amount_minor: int
    term_months: int
    monthly_income_minor: int
    monthly_debt_minor: int
    purpose: str
    instalment_minor: int
    score: int
    outcome: str
    status: str
    factors: list[list[Any]]
    rule_hits: list[list[Any]]
    reasons: list[str]
    created_at: str
    reviewed_by: str | None
    review_note: str | None
    model_version: str = ""
    default_probability: float | None = None
    adverse_reasons: list[str] = []
    bank_history: dict[str, Any] = {}

    @classmethod
    def from_view(cls, view: Any) -> LoanReviewItem:
        """From the host's application view (a dataclass with these fields)."""
        values = {name: getattr(view, name) for name in cls.model_fields}
        values["created_at"] = view.created_at.isoformat()
        return cls(**values)


class LoanReviewQueue(_Model):
    items: list[LoanReviewItem]


class LoanStability(_Model):
    """PSI of the scores the live model recorded against its training scores."""

    model_version: str
    decisions: int
    psi: float | None
    level: str  # stable | watch | shifted | too_few
    minimum: int  # fewer decisions than this: the PSI is shown, not judged
    shares: list[float]
    reference_shares: list[float]


class LoanReviewDecision(_Model):
    application_id: int
    approve: bool
    reviewer: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=200)


# -- journal checkpoints --


class Checkpoint(_Model):
    """A journal head the host holds; ``records`` and ``seal`` when the terminal anchored it on purpose."""

    seq: int
    hash: str
    records: int | None = None
    seal: str | None = None


class Checkpoints(_Model):
    checkpoints: list[Checkpoint]


_SHA256_HEX = r"^[0-9a-f]{64}$"


class JournalAnchor(_Model):
    """One checkpoint of the terminal's journal: its newest record's seq and hash, and the record count."""

    seq: int = Field(ge=1, le=10**18)
    hash: str = Field(pattern=_SHA256_HEX)
    records: int = Field(ge=0, le=10**18)


class JournalAnchorOrder(_Model):
    """Checkpoints the terminal queued (oldest first); sending one again is harmless."""

    checkpoints: list[JournalAnchor] = Field(min_length=1, max_length=500)


class JournalAnchorReceipt(_Model):
    """What the host keeps for one checkpoint. ``seal`` = HMAC-SHA256 under the terminal's journal key
    (the host's alone) over the checkpoint; ``conflict``: the host already held another hash for this
    seq (``held_hash``), and keeps that one: the journal was rewritten or replaced."""

    seq: int
    hash: str
    records: int
    seal: str
    held_hash: str
    conflict: bool


class JournalAnchorReceipts(_Model):
    receipts: list[JournalAnchorReceipt]


class JournalSeal(_Model):
    seq: int = Field(ge=1, le=10**18)
    hash: str = Field(pattern=_SHA256_HEX)
    records: int = Field(ge=0, le=10**18)
    seal: str = Field(pattern=_SHA256_HEX)


class JournalSealCheck(_Model):
    """Seals a journal file holds (its ``journal_sealed`` records) with the hash the file has at each seq."""

    seals: list[JournalSeal] = Field(min_length=1, max_length=5000)


class JournalSealVerdict(_Model):
    seq: int
    valid: bool


class JournalSealVerdicts(_Model):
    verdicts: list[JournalSealVerdict]
