"""Bill look-up, payment and scheduled payments, on top of the ledger.

A payment is one ledger transfer from the customer's account to the biller's settlement account (a
bank-internal account per biller, kind 9 in the account number), under an idempotency key: a retried or
re-run payment never posts twice. The ledger refuses what it always refuses (insufficient funds, a frozen
account, the daily kiosk limits) and those refusals come back as values with the ledger's reason.

After the ledger posts, a ``bill_payments`` row records what the payment was for (biller, masked number,
month); a crash between the two is healed by the next call with the same key (the ledger replays the
transfer and the row is written then). The amount still due on a bill is the biller's amount minus what
this bank has already paid towards that month.

Scheduled payments run on a day of the month: :meth:`BillingService.run_due` pays every active schedule
whose day has come this month and that has not run this month, with the key ``sched:<id>:<YYYY-MM>``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bank.billing.billers import (
    BILLERS,
    AccountProblem,
    Biller,
    BillerKind,
    account_problem,
    due_date_of,
    mask_biller_account,
    period_of,
    simulated_bill,
)
from bank.billing.models import BillPayment, BillSchedule, ScheduleStatus
from bank.ledger import BANK_TIMEZONE, Ledger, RefusalReason, TransferOutcome, TransferRefused
from bank.ledger import TransferRequest as LedgerRequest
from bank.models import Account, AccountKind, AccountStatus, TransferKind, utcnow
from bank.numbers import make_account_number
from bank.security.vault import Vault

log = logging.getLogger(__name__)

ACCOUNTS = cast(Table, Account.__table__)


class BillRefusal(enum.StrEnum):
    UNKNOWN_BILLER = "unknown_biller"
    FORMAT = AccountProblem.FORMAT.value
    CHECK_DIGIT = AccountProblem.CHECK_DIGIT.value
    NOT_MOBILE = AccountProblem.NOT_MOBILE.value
    UNKNOWN_ACCOUNT = "unknown_account"  # the biller has no customer with that number
    NOTHING_DUE = "nothing_due"
    AMOUNT = "amount"  # not the amount due / not one of the top-up amounts
    UNKNOWN_SCHEDULE = "unknown_schedule"
    DAY = "day"  # day of month not 1-28


@dataclass(frozen=True)
class Bill:
    biller_code: str
    account_masked: str
    period: str | None  # None for a top-up
    billed_minor: int  # what the biller charged for the month
    paid_minor: int  # what this bank has already paid towards it
    due_minor: int  # what is still due (0 when paid)
    due_date: date | None
    currency: str = "CNY"
    topup_amounts_minor: tuple[int, ...] = ()


@dataclass(frozen=True)
class BillRefused:
    reason: BillRefusal | RefusalReason  # our own check, or the ledger's refusal (insufficient funds ...)
    detail: str = ""


@dataclass(frozen=True)
class BillPaid:
    payment_id: int
    transfer_id: int
    reference: str
    biller_code: str
    account_masked: str
    period: str | None
    amount_minor: int
    currency: str
    replayed: bool = False


@dataclass(frozen=True)
class ScheduleInfo:
    schedule_id: int
    biller_code: str
    account_masked: str
    amount_minor: int | None
    day_of_month: int
    status: str
    from_account_id: int
    last_period: str | None
    last_result: str | None


@dataclass(frozen=True)
class ScheduledRun:
    schedule_id: int
    period: str
    result: str  # "paid", "nothing_due", or a refusal reason
    reference: str = ""
    amount_minor: int = 0


def bill_reference(payment_id: int) -> str:
    """The number the customer quotes: ``BP`` and the payment id, zero-padded."""
    return f"BP{payment_id:010d}"


class BillingService:
    def __init__(
        self,
        engine: Engine,
        vault: Vault,
        *,
        ledger: Ledger | None = None,
        clock: Callable[[], datetime] = utcnow,
        kiosk_id: str = "",
        journal: Any = None,
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.ledger = ledger or Ledger(engine, clock=clock)
        self.clock = clock
        self.kiosk_id = kiosk_id
        self.journal = journal
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._settlement: dict[str, int] = {}

    # -- billers and settlement accounts ---------------------------------------------------------
    @staticmethod
    def billers() -> list[Biller]:
        return list(BILLERS.values())

    def settlement_account_id(self, biller: Biller) -> int:
        """The biller's settlement account (bank-internal), created on first use."""
        cached = self._settlement.get(biller.code)
        if cached is not None:
            return cached
        number = make_account_number("internal", biller.settlement_serial)
        with self.engine.begin() as conn:
            found = conn.execute(select(ACCOUNTS.c.id).where(ACCOUNTS.c.number == number)).scalar()
        if found is None:
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(ACCOUNTS).values(**_settlement_values(number)))
            except IntegrityError:
                pass  # another kiosk created it at the same moment
            with self.engine.connect() as conn:
                found = conn.execute(select(ACCOUNTS.c.id).where(ACCOUNTS.c.number == number)).scalar_one()
        self._settlement[biller.code] = int(found)
        return int(found)

    def today(self) -> date:
        return self.clock().astimezone(BANK_TIMEZONE).date()

    def _hash(self, number: str) -> str:
        return self.vault.lookup_hash(number, "biller_account")

    # -- look-up -----------------------------------------------------------------------------------
    def lookup(self, biller_code: str, number: str, *, period: str | None = None) -> Bill | BillRefused:
        """The bill for ``number`` at the biller this month (or the top-up amounts for a phone)."""
        biller = BILLERS.get(biller_code)
        if biller is None:
            return BillRefused(BillRefusal.UNKNOWN_BILLER, biller_code)
        number = number.strip()
        problem = account_problem(biller, number)
        if problem is not None:
            return BillRefused(BillRefusal(problem.value))
        masked = mask_biller_account(number)
        if biller.kind is BillerKind.TOPUP:
            return Bill(
                biller.code, masked, None, 0, 0, 0, None, topup_amounts_minor=biller.topup_amounts_minor
            )
        month = period or period_of(self.today())
        answer = simulated_bill(biller, number, month)
        if not answer.known:
            return BillRefused(BillRefusal.UNKNOWN_ACCOUNT)
        paid = self.paid_towards(biller.code, number, month)
        due = max(0, answer.amount_minor - paid)
        return Bill(biller.code, masked, month, answer.amount_minor, paid, due, due_date_of(month))

    def paid_towards(self, biller_code: str, number: str, period: str) -> int:
        with self.sessions() as session:
            total = session.scalar(
                select(func.coalesce(func.sum(BillPayment.amount_minor), 0)).where(
                    BillPayment.biller_code == biller_code,
                    BillPayment.account_hash == self._hash(number),
                    BillPayment.period == period,
                )
            )
        return int(total or 0)

    # -- paying ------------------------------------------------------------------------------------
    def pay(
        self,
        idempotency_key: str,
        *,
        customer_id: int,
        from_account_id: int,
        biller_code: str,
        number: str,
        amount_minor: int,
        currency: str = "CNY",
        schedule_id: int | None = None,
        channel: str = "kiosk",
    ) -> BillPaid | BillRefused:
        """Pay ``amount_minor`` (the amount due, or a top-up amount) to the biller; once per key."""
        earlier = self._payment_by_key(idempotency_key)
        if earlier is not None:
            return earlier
        bill = self.lookup(biller_code, number)
        if isinstance(bill, BillRefused):
            return bill
        biller = BILLERS[biller_code]
        if biller.kind is BillerKind.TOPUP:
            if amount_minor not in biller.topup_amounts_minor:
                return BillRefused(BillRefusal.AMOUNT, "not one of the top-up amounts")
        elif bill.due_minor == 0:
            return BillRefused(BillRefusal.NOTHING_DUE)
        elif amount_minor != bill.due_minor:
            # A kiosk pays the bill as billed: partial or over-payments go through the counter.
            return BillRefused(BillRefusal.AMOUNT, f"the amount due is {bill.due_minor}")
        request = LedgerRequest(
            idempotency_key=idempotency_key,
            kind=TransferKind.INTERNAL,
            debit_account_id=from_account_id,
            credit_account_id=self.settlement_account_id(biller),
            amount_minor=amount_minor,
            currency=currency,
            description=f"Bill {biller.code} {bill.account_masked[-4:]}"[:80],
            payee_description=f"Bill payment {bill.account_masked[-4:]}",
            payee_account=bill.account_masked,
            channel=channel,
            kiosk_id=self.kiosk_id,
        )
        result = self.ledger.transfer(request)
        if isinstance(result, TransferRefused):
            return BillRefused(result.reason, result.detail)
        return self._record(
            idempotency_key, result, customer_id, from_account_id, biller, number, bill, schedule_id
        )

    def _record(
        self,
        key: str,
        transfer: TransferOutcome,
        customer_id: int,
        from_account_id: int,
        biller: Biller,
        number: str,
        bill: Bill,
        schedule_id: int | None,
    ) -> BillPaid:
        row = BillPayment(
            idempotency_key=key,
            transfer_id=transfer.transfer_id,
            customer_id=customer_id,
            from_account_id=from_account_id,
            biller_code=biller.code,
            account_hash=self._hash(number),
            account_masked=bill.account_masked,
            period=bill.period,
            amount_minor=transfer.amount_minor,
            currency=transfer.currency,
            schedule_id=schedule_id,
            created_at=self.clock(),
        )
        try:
            with self.sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            earlier = self._payment_by_key(key)
            if earlier is None:
                raise
            return earlier
        return _paid(row, replayed=transfer.replayed)

    def _payment_by_key(self, key: str) -> BillPaid | None:
        with self.sessions() as session:
            row = session.scalar(select(BillPayment).where(BillPayment.idempotency_key == key))
            return None if row is None else _paid(row, replayed=True)

    def settle(self, idempotency_key: str) -> str:
        """Crash recovery for a payment intent without an outcome: did the ledger post it?"""
        result = self.ledger.replay(idempotency_key)
        if result is None:
            return "not_posted"
        return str(getattr(getattr(result, "status", None), "value", "manual_review"))

    # -- schedules ---------------------------------------------------------------------------------
    def create_schedule(
        self,
        *,
        customer_id: int,
        from_account_id: int,
        biller_code: str,
        number: str,
        day_of_month: int,
        amount_minor: int | None = None,
        currency: str = "CNY",
    ) -> ScheduleInfo | BillRefused:
        biller = BILLERS.get(biller_code)
        if biller is None:
            return BillRefused(BillRefusal.UNKNOWN_BILLER, biller_code)
        problem = account_problem(biller, number.strip())
        if problem is not None:
            return BillRefused(BillRefusal(problem.value))
        if not 1 <= day_of_month <= 28:
            return BillRefused(BillRefusal.DAY, "a day of the month from 1 to 28")
        if biller.kind is BillerKind.TOPUP:
            if amount_minor not in biller.topup_amounts_minor:
                return BillRefused(BillRefusal.AMOUNT, "a top-up schedule needs one of the top-up amounts")
        else:
            amount_minor = None  # utilities: whatever is due that month
        number = number.strip()
        row = BillSchedule(
            customer_id=customer_id,
            from_account_id=from_account_id,
            biller_code=biller.code,
            account_number=number,
            account_hash=self._hash(number),
            account_masked=mask_biller_account(number),
            amount_minor=amount_minor,
            currency=currency,
            day_of_month=day_of_month,
            status=ScheduleStatus.ACTIVE.value,
            created_at=self.clock(),
        )
        with self.sessions.begin() as session:
            session.add(row)
        return _schedule_info(row)

    def schedules(self, customer_id: int, *, include_cancelled: bool = False) -> list[ScheduleInfo]:
        query = select(BillSchedule).where(BillSchedule.customer_id == customer_id)
        if not include_cancelled:
            query = query.where(BillSchedule.status == ScheduleStatus.ACTIVE.value)
        with self.sessions() as session:
            return [_schedule_info(row) for row in session.scalars(query.order_by(BillSchedule.id))]

    def cancel_schedule(self, customer_id: int, schedule_id: int) -> ScheduleInfo | BillRefused:
        """Only the customer's own active schedule can be cancelled; cancelling twice is harmless."""
        with self.sessions.begin() as session:
            row = session.get(BillSchedule, schedule_id)
            if row is None or row.customer_id != customer_id:
                return BillRefused(BillRefusal.UNKNOWN_SCHEDULE)
            if row.status != ScheduleStatus.CANCELLED.value:
                row.status = ScheduleStatus.CANCELLED.value
                row.cancelled_at = self.clock()
            return _schedule_info(row)

    def run_due(self, now: datetime | None = None) -> list[ScheduledRun]:
        """Pay every active schedule whose day has come this month and that has not run this month."""
        moment = now or self.clock()
        today = moment.astimezone(BANK_TIMEZONE).date()
        period = period_of(today)
        with self.sessions() as session:
            due = list(
                session.scalars(
                    select(BillSchedule)
                    .where(
                        BillSchedule.status == ScheduleStatus.ACTIVE.value,
                        BillSchedule.day_of_month <= today.day,
                    )
                    .order_by(BillSchedule.id)
                )
            )
        runs: list[ScheduledRun] = []
        for schedule in due:
            if schedule.last_period == period:
                continue
            run = self._run_one(schedule, period)
            runs.append(run)
            with self.sessions.begin() as session:
                row = session.get(BillSchedule, schedule.id)
                if row is not None:
                    row.last_period, row.last_result = period, run.result
            if self.journal is not None:
                self.journal.record(
                    "bill_schedule_run",
                    schedule_id=schedule.id,
                    biller=schedule.biller_code,
                    account=schedule.account_masked,
                    period=period,
                    result=run.result,
                    reference=run.reference,
                    amount_minor=run.amount_minor,
                )
        return runs

    def _run_one(self, schedule: BillSchedule, period: str) -> ScheduledRun:
        bill = self.lookup(schedule.biller_code, schedule.account_number, period=period)
        if isinstance(bill, BillRefused):
            return ScheduledRun(schedule.id, period, bill.reason.value)
        amount = schedule.amount_minor if schedule.amount_minor is not None else bill.due_minor
        if amount == 0:
            return ScheduledRun(schedule.id, period, "nothing_due")
        result = self.pay(
            f"sched:{schedule.id}:{period}",
            customer_id=schedule.customer_id,
            from_account_id=schedule.from_account_id,
            biller_code=schedule.biller_code,
            number=schedule.account_number,
            amount_minor=amount,
            currency=schedule.currency,
            schedule_id=schedule.id,
            channel="scheduled",  # not a kiosk transfer: the kiosk's daily limits do not apply
        )
        if isinstance(result, BillRefused):
            return ScheduledRun(schedule.id, period, result.reason.value)
        return ScheduledRun(schedule.id, period, "paid", result.reference, result.amount_minor)


def _paid(row: BillPayment, *, replayed: bool) -> BillPaid:
    return BillPaid(
        row.id,
        row.transfer_id,
        bill_reference(row.id),
        row.biller_code,
        row.account_masked,
        row.period,
        row.amount_minor,
        row.currency,
        replayed,
    )


def _schedule_info(row: BillSchedule) -> ScheduleInfo:
    return ScheduleInfo(
        row.id,
        row.biller_code,
        row.account_masked,
        row.amount_minor,
        row.day_of_month,
        row.status,
        row.from_account_id,
        row.last_period,
        row.last_result,
    )


def _settlement_values(number: str) -> dict[str, Any]:
    return {
        "number": number,
        "customer_id": None,
        "kind": AccountKind.INTERNAL.value,
        "internal_code": None,
        "status": AccountStatus.ACTIVE.value,
        "currency": "CNY",
        "balance_minor": 0,
        "pending_debits_minor": 0,
        "overdraft_allowed": False,
        "overdraft_limit_minor": 0,
        "daily_transfer_limit_minor": 0,
        "daily_transfer_count_limit": 0,
        "day_amount_minor": 0,
        "day_count": 0,
        "created_at": utcnow(),
    }
