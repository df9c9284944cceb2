"""The bank API the journeys call: enquiries, transfers, card look-ups. Plain dataclass results.

Refusals are values (``TransferRefused(reason=RefusalReason.INSUFFICIENT_FUNDS)``, ``EnquiryRefused``), so a
journey shows a message instead of catching exceptions. Authentication (card + PIN, face) happens before;
the service trusts the account ids it is given but checks that "own account" transfers really are.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Row, Table, select
from sqlalchemy.orm import sessionmaker

from bank.ledger import (
    BANK_TIMEZONE,
    Ledger,
    RefusalReason,
    TransferOutcome,
    TransferRefused,
    TransferRequest,
    TransferResult,
)
from bank.models import (
    Account,
    AccountKind,
    Card,
    CardStatus,
    Customer,
    InternalAccount,
    Posting,
    TransferKind,
    TransferStatus,
    find_card_by_pan,
    utcnow,
)
from bank.security.vault import Vault
from hostlink.money import Money
from hostlink.redaction import mask_account

OUR_BANK_CODE = "888"
OTHER_BANK_FEE_MINOR = 200  # ¥2.00 per other-bank transfer, posted to the FEES account
MINI_STATEMENT_LINES = 10

ACCOUNTS = cast(Table, Account.__table__)
POSTINGS = cast(Table, Posting.__table__)


class EnquiryRefusal(enum.StrEnum):
    UNKNOWN_ACCOUNT = "unknown_account"
    BAD_RANGE = "bad_range"


@dataclass(frozen=True)
class EnquiryRefused:
    reason: EnquiryRefusal
    detail: str = ""


@dataclass(frozen=True)
class AccountSummary:
    account_id: int
    number: str
    kind: str
    status: str
    currency: str
    balance: Money
    available: Money

    @property
    def masked_number(self) -> str:
        return mask_account(self.number)


@dataclass(frozen=True)
class Balance:
    account_id: int
    masked_number: str
    ledger: Money  # posted postings
    pending: Money  # held by transfers in flight
    available: Money  # ledger - pending + overdraft headroom
    overdraft_limit: Money
    status: str


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    when: datetime
    description: str
    amount: Money  # + money in, - money out
    balance_after: Money


@dataclass(frozen=True)
class MiniStatement:
    account_id: int
    lines: tuple[StatementLine, ...]  # newest first


@dataclass(frozen=True)
class HistoryPage:
    account_id: int
    lines: tuple[StatementLine, ...]  # newest first
    next_cursor: int | None  # pass back as `before` for the next (older) page; None on the last page


@dataclass(frozen=True)
class CardContext:
    card_id: int
    account_id: int
    customer_id: int | None
    status: str
    expiry: str
    pan_masked: str
    pvv: str | None
    pin_failures: int


class BankService:
    def __init__(
        self,
        engine: Engine,
        vault: Vault,
        *,
        kiosk_id: str = "",
        clock: Callable[[], datetime] = utcnow,
        other_bank_fee_minor: int = OTHER_BANK_FEE_MINOR,
        bank_code: str = OUR_BANK_CODE,
        ledger: Ledger | None = None,
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.kiosk_id = kiosk_id
        self.clock = clock
        # One ledger per host process: it keeps a connection per thread between transfers.
        self.ledger = ledger or Ledger(engine, clock=clock)
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.other_bank_fee_minor = other_bank_fee_minor
        self.bank_code = bank_code

    # -- cards and accounts --------------------------------------------------------------------
    def card_by_pan(self, pan: str) -> CardContext | None:
        with self.sessions() as session:
            card = find_card_by_pan(session, self.vault, pan)
            if card is None:
                return None
            account = session.get(Account, card.account_id)
            return CardContext(
                card.id,
                card.account_id,
                account.customer_id if account else None,
                card.status,
                card.expiry,
                card.pan_masked,
                card.pvv,
                card.pin_failures,
            )

    def card(self, card_id: int) -> Card | None:
        with self.sessions() as session:
            return session.get(Card, card_id)

    def set_card_status(self, card_id: int, status: CardStatus, *, pvv: str | None = None) -> bool:
        """Retain, block or activate a card (activation after dispensing stores the HSM's PVV)."""
        with self.sessions.begin() as session:
            card = session.get(Card, card_id)
            if card is None:
                return False
            card.status = status.value
            if pvv is not None:
                card.pvv = pvv
            return True

    def accounts_of_customer(self, customer_id: int) -> list[AccountSummary]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(ACCOUNTS).where(ACCOUNTS.c.customer_id == customer_id).order_by(ACCOUNTS.c.id)
            ).all()
        return [_summary(row) for row in rows]

    def account(self, account_id: int) -> AccountSummary | None:
        row = self._account_row(account_id)
        return None if row is None else _summary(row)

    def _account_row(self, account_id: int) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == account_id)).first()

    def _account_by_number(self, number: str) -> Row[Any] | None:
        with self.engine.connect() as conn:
            return conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.number == number.strip())).first()

    # -- enquiries -----------------------------------------------------------------------------
    def balance(self, account_id: int) -> Balance | EnquiryRefused:
        row = self._account_row(account_id)
        if row is None:
            return EnquiryRefused(EnquiryRefusal.UNKNOWN_ACCOUNT, f"no account {account_id}")
        overdraft = row.overdraft_limit_minor if row.overdraft_allowed else 0
        return Balance(
            row.id,
            f"****{row.number[-4:]}",
            Money(row.balance_minor, row.currency),
            Money(row.pending_debits_minor, row.currency),
            Money(row.balance_minor - row.pending_debits_minor + overdraft, row.currency),
            Money(overdraft, row.currency),
            row.status,
        )

    def mini_statement(self, account_id: int) -> MiniStatement | EnquiryRefused:
        if self._account_row(account_id) is None:
            return EnquiryRefused(EnquiryRefusal.UNKNOWN_ACCOUNT, f"no account {account_id}")
        query = (
            select(POSTINGS)
            .where(POSTINGS.c.account_id == account_id)
            .order_by(POSTINGS.c.id.desc())
            .limit(MINI_STATEMENT_LINES)
        )
        with self.engine.connect() as conn:
            return MiniStatement(account_id, tuple(_line(row) for row in conn.execute(query)))

    def history(
        self,
        account_id: int,
        start: date,
        end: date,
        *,
        page_size: int = 20,
        before: int | None = None,
    ) -> HistoryPage | EnquiryRefused:
        """Postings between two bank days (inclusive), newest first, keyset-paged by posting id."""
        if end < start or page_size < 1 or page_size > 200:
            return EnquiryRefused(EnquiryRefusal.BAD_RANGE, "end before start, or page size not 1-200")
        if self._account_row(account_id) is None:
            return EnquiryRefused(EnquiryRefusal.UNKNOWN_ACCOUNT, f"no account {account_id}")
        since = datetime.combine(start, time(0), BANK_TIMEZONE)
        until = datetime.combine(end + timedelta(days=1), time(0), BANK_TIMEZONE)
        query = select(POSTINGS).where(
            POSTINGS.c.account_id == account_id,
            POSTINGS.c.created_at >= since,
            POSTINGS.c.created_at < until,
        )
        if before is not None:
            query = query.where(POSTINGS.c.id < before)
        query = query.order_by(POSTINGS.c.id.desc()).limit(page_size + 1)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        lines = tuple(_line(row) for row in rows[:page_size])
        next_cursor = lines[-1].posting_id if len(rows) > page_size else None
        return HistoryPage(account_id, lines, next_cursor)

    # -- transfers -----------------------------------------------------------------------------
    def transfer_own(
        self, idempotency_key: str, from_account_id: int, to_account_id: int, amount: Money
    ) -> TransferResult:
        """Between two accounts of the same customer (current ↔ savings)."""
        payer, payee = self._account_row(from_account_id), self._account_row(to_account_id)
        if payer is None or payee is None:
            return TransferRefused(RefusalReason.UNKNOWN_ACCOUNT, "no such account")
        if payer.customer_id is None or payer.customer_id != payee.customer_id:
            return TransferRefused(
                RefusalReason.NOT_OWN_ACCOUNT, "the accounts belong to different customers"
            )
        return self.ledger.transfer(
            self._request(
                idempotency_key,
                TransferKind.OWN,
                payer.id,
                payee.id,
                amount,
                description=f"To own account ****{payee.number[-4:]}",
                payee_description=f"From own account ****{payer.number[-4:]}",
            )
        )

    def transfer_to_customer(
        self,
        idempotency_key: str,
        from_account_id: int,
        payee_account_number: str,
        payee_name: str,
        amount: Money,
    ) -> TransferResult:
        """To another customer of this bank; the payee name must match the account holder."""
        payer = self._account_row(from_account_id)
        if payer is None:
            return TransferRefused(RefusalReason.UNKNOWN_ACCOUNT, "no such account")
        payee = self._account_by_number(payee_account_number)
        if payee is None or payee.kind == AccountKind.INTERNAL.value or payee.customer_id is None:
            return TransferRefused(RefusalReason.UNKNOWN_PAYEE, "no customer account with that number")
        with self.sessions() as session:
            holder = session.get(Customer, payee.customer_id)
            holder_name = holder.name if holder else ""
        if _name_key(holder_name) != _name_key(payee_name):
            return TransferRefused(RefusalReason.PAYEE_NAME_MISMATCH, "the name does not match the account")
        kind = TransferKind.OWN if payee.customer_id == payer.customer_id else TransferKind.INTERNAL
        return self.ledger.transfer(
            self._request(
                idempotency_key,
                kind,
                payer.id,
                payee.id,
                amount,
                description=f"Transfer to ****{payee.number[-4:]}",
                payee_description=f"Transfer from ****{payer.number[-4:]}",
                payee_account=payee.number,
            )
        )

    def transfer_other_bank(
        self,
        idempotency_key: str,
        from_account_id: int,
        bank_code: str,
        payee_account: str,
        payee_name: str,
        amount: Money,
    ) -> TransferResult:
        """To another bank through the clearing house: funds held now, posted or voided when it answers."""
        bank_code, payee_account = bank_code.strip(), payee_account.strip()
        if bank_code == self.bank_code:
            return TransferRefused(
                RefusalReason.UNKNOWN_PAYEE, "that is this bank: use a transfer within the bank"
            )
        if not (bank_code.isdigit() and len(bank_code) == 3):
            return TransferRefused(RefusalReason.UNKNOWN_PAYEE, "a bank code is 3 digits")
        if not (payee_account.isdigit() and 8 <= len(payee_account) <= 34) or not payee_name.strip():
            return TransferRefused(RefusalReason.UNKNOWN_PAYEE, "payee account (8-34 digits) and name needed")
        return self.ledger.transfer(
            self._request(
                idempotency_key,
                TransferKind.OTHER_BANK,
                from_account_id,
                self.ledger.internal_account_id(InternalAccount.CLEARING),
                amount,
                fee_minor=self.other_bank_fee_minor,
                description=f"To bank {bank_code} ****{payee_account[-4:]}",
                payee_description=f"Outgoing to bank {bank_code}",
                payee_bank_code=bank_code,
                payee_account=payee_account,
                payee_name=payee_name.strip(),
            ),
            pending=True,
        )

    def _request(
        self,
        key: str,
        kind: TransferKind,
        debit: int,
        credit: int,
        amount: Money,
        **extra: Any,
    ) -> TransferRequest:
        return TransferRequest(
            idempotency_key=key,
            kind=kind,
            debit_account_id=debit,
            credit_account_id=credit,
            amount_minor=amount.minor,
            currency=amount.currency,
            kiosk_id=self.kiosk_id,
            **extra,
        )

    def pending_transfers_of(self, account_id: int) -> Sequence[TransferOutcome]:
        rows = [row for row in self.ledger.pending_transfers() if row.debit_account_id == account_id]
        return [
            TransferOutcome(
                r.id, TransferStatus(r.status), r.amount_minor, r.fee_minor, r.currency, r.created_at
            )
            for r in rows
        ]

    def record_pin_failure(self, card_id: int, *, reset: bool = False) -> int:
        """Count a wrong PIN (or reset after a right one); returns the new count."""
        with self.sessions.begin() as session:
            card = session.get(Card, card_id, with_for_update=True)
            if card is None:
                return 0
            card.pin_failures = 0 if reset else card.pin_failures + 1
            return card.pin_failures


def _summary(row: Row[Any]) -> AccountSummary:
    overdraft = row.overdraft_limit_minor if row.overdraft_allowed else 0
    return AccountSummary(
        row.id,
        row.number,
        row.kind,
        row.status,
        row.currency,
        Money(row.balance_minor, row.currency),
        Money(row.balance_minor - row.pending_debits_minor + overdraft, row.currency),
    )


def _line(row: Row[Any]) -> StatementLine:
    return StatementLine(
        row.id,
        row.created_at,
        row.description,
        Money(row.amount_minor, row.currency),
        Money(row.balance_after_minor, row.currency),
    )


def _name_key(name: str) -> str:
    """Names compare without case, width or spacing differences (全角/半角, 'wang fang' vs 'WANG FANG')."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())
