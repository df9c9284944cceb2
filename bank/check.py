"""``smart-teller host bank check``: the trial balance and the ledger's invariants, recomputed from postings.

Every rule is a query over the whole ledger; a violation names the rule and the first offenders. The
balances kept on account rows are a cache for speed: this is where a drift between them and the postings
would be caught.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import Connection, Table, and_, case, func, or_, select

from bank.models import Account, AccountKind, Posting, Transfer, TransferStatus

ACCOUNTS = cast(Table, Account.__table__)
TRANSFERS = cast(Table, Transfer.__table__)
POSTINGS = cast(Table, Posting.__table__)
SHOW = 5  # offenders named per rule


@dataclass(frozen=True)
class Violation:
    rule: str
    detail: str


@dataclass
class CheckReport:
    violations: list[Violation] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations


def check_ledger(conn: Connection) -> CheckReport:
    report = CheckReport()
    report.counts = {
        "accounts": conn.execute(select(func.count()).select_from(ACCOUNTS)).scalar_one(),
        "transfers": conn.execute(select(func.count()).select_from(TRANSFERS)).scalar_one(),
        "postings": conn.execute(select(func.count()).select_from(POSTINGS)).scalar_one(),
        "pending": conn.execute(
            select(func.count()).where(TRANSFERS.c.status == TransferStatus.PENDING.value)
        ).scalar_one(),
    }

    def violated(rule: str, rows: list[str]) -> None:
        if rows:
            more = f" (+{len(rows) - SHOW} more)" if len(rows) > SHOW else ""
            report.violations.append(Violation(rule, "; ".join(rows[:SHOW]) + more))

    # 1. Trial balance: all postings of a currency sum to zero.
    violated(
        "trial_balance",
        [
            f"{currency} postings sum to {total}"
            for currency, total in conn.execute(
                select(POSTINGS.c.currency, func.sum(POSTINGS.c.amount_minor)).group_by(POSTINGS.c.currency)
            )
            if total != 0
        ],
    )
    # 2. Each transfer's postings sum to zero; posted ones have at least two, pending/voided none.
    per_transfer = (
        select(
            TRANSFERS.c.id,
            TRANSFERS.c.status,
            func.count(POSTINGS.c.id).label("lines"),
            func.coalesce(func.sum(POSTINGS.c.amount_minor), 0).label("total"),
        )
        .select_from(TRANSFERS.outerjoin(POSTINGS, POSTINGS.c.transfer_id == TRANSFERS.c.id))
        .group_by(TRANSFERS.c.id, TRANSFERS.c.status)
        .subquery()
    )
    violated(
        "transfer_balanced",
        [
            f"transfer {i} postings sum to {t}"
            for i, t in conn.execute(
                select(per_transfer.c.id, per_transfer.c.total).where(per_transfer.c.total != 0)
            )
        ],
    )
    violated(
        "postings_match_status",
        [
            f"transfer {i} is {s} with {n} postings"
            for i, s, n in conn.execute(
                select(per_transfer.c.id, per_transfer.c.status, per_transfer.c.lines).where(
                    or_(
                        and_(per_transfer.c.status == TransferStatus.POSTED.value, per_transfer.c.lines < 2),
                        and_(per_transfer.c.status != TransferStatus.POSTED.value, per_transfer.c.lines != 0),
                    )
                )
            )
        ],
    )
    # 3. Postings carry their account's currency and their transfer's.
    violated(
        "currency_consistent",
        [
            f"posting {i}"
            for (i,) in conn.execute(
                select(POSTINGS.c.id)
                .join(ACCOUNTS, ACCOUNTS.c.id == POSTINGS.c.account_id)
                .join(TRANSFERS, TRANSFERS.c.id == POSTINGS.c.transfer_id)
                .where(
                    or_(
                        POSTINGS.c.currency != ACCOUNTS.c.currency,
                        POSTINGS.c.currency != TRANSFERS.c.currency,
                    )
                )
            )
        ],
    )
    # 4. Cached balance = sum of the account's postings; the last running balance agrees.
    sums = (
        select(
            POSTINGS.c.account_id,
            func.sum(POSTINGS.c.amount_minor).label("total"),
            func.max(POSTINGS.c.id).label("last_id"),
        )
        .group_by(POSTINGS.c.account_id)
        .subquery()
    )
    violated(
        "balance_matches_postings",
        [
            f"account {i} row says {bal}, postings say {total}"
            for i, bal, total in conn.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.balance_minor, func.coalesce(sums.c.total, 0))
                .select_from(ACCOUNTS.outerjoin(sums, sums.c.account_id == ACCOUNTS.c.id))
                .where(ACCOUNTS.c.balance_minor != func.coalesce(sums.c.total, 0))
            )
        ],
    )
    violated(
        "running_balance",
        [
            f"account {i} last posting shows {after}, balance {bal}"
            for i, bal, after in conn.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.balance_minor, POSTINGS.c.balance_after_minor)
                .join(sums, sums.c.account_id == ACCOUNTS.c.id)
                .join(POSTINGS, POSTINGS.c.id == sums.c.last_id)
                .where(POSTINGS.c.balance_after_minor != ACCOUNTS.c.balance_minor)
            )
        ],
    )
    # 5. Held funds = what the account's pending transfers hold.
    holds = (
        select(
            TRANSFERS.c.debit_account_id.label("account_id"),
            func.sum(TRANSFERS.c.amount_minor + TRANSFERS.c.fee_minor).label("held"),
        )
        .where(TRANSFERS.c.status == TransferStatus.PENDING.value)
        .group_by(TRANSFERS.c.debit_account_id)
        .subquery()
    )
    violated(
        "pending_holds",
        [
            f"account {i} holds {held_row}, pending transfers hold {held}"
            for i, held_row, held in conn.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.pending_debits_minor, func.coalesce(holds.c.held, 0))
                .select_from(ACCOUNTS.outerjoin(holds, holds.c.account_id == ACCOUNTS.c.id))
                .where(ACCOUNTS.c.pending_debits_minor != func.coalesce(holds.c.held, 0))
            )
        ],
    )
    # 6. No customer account below zero beyond its overdraft limit (counting held funds).
    headroom = case((ACCOUNTS.c.overdraft_allowed, ACCOUNTS.c.overdraft_limit_minor), else_=0)
    violated(
        "no_unauthorised_overdraft",
        [
            f"account {i} available {bal - held}"
            for i, bal, held in conn.execute(
                select(ACCOUNTS.c.id, ACCOUNTS.c.balance_minor, ACCOUNTS.c.pending_debits_minor).where(
                    ACCOUNTS.c.kind != AccountKind.INTERNAL.value,
                    ACCOUNTS.c.balance_minor - ACCOUNTS.c.pending_debits_minor + headroom < 0,
                )
            )
        ],
    )
    # 7. Daily-limit counters agree with the kiosk transfers of that day.
    used = (
        select(
            TRANSFERS.c.debit_account_id.label("account_id"),
            TRANSFERS.c.bank_day,
            func.sum(TRANSFERS.c.amount_minor).label("amount"),
            func.count().label("n"),
        )
        .where(TRANSFERS.c.channel == "kiosk", TRANSFERS.c.status != TransferStatus.VOIDED.value)
        .group_by(TRANSFERS.c.debit_account_id, TRANSFERS.c.bank_day)
        .subquery()
    )
    violated(
        "daily_limit_counters",
        [
            f"account {i} counts {amount}/{n} on {day}, transfers say {ua or 0}/{un or 0}"
            for i, day, amount, n, ua, un in conn.execute(
                select(
                    ACCOUNTS.c.id,
                    ACCOUNTS.c.limit_day,
                    ACCOUNTS.c.day_amount_minor,
                    ACCOUNTS.c.day_count,
                    used.c.amount,
                    used.c.n,
                )
                .select_from(
                    ACCOUNTS.outerjoin(
                        used,
                        and_(used.c.account_id == ACCOUNTS.c.id, used.c.bank_day == ACCOUNTS.c.limit_day),
                    )
                )
                .where(ACCOUNTS.c.limit_day.is_not(None))
                .where(
                    or_(
                        ACCOUNTS.c.day_amount_minor != func.coalesce(used.c.amount, 0),
                        ACCOUNTS.c.day_count != func.coalesce(used.c.n, 0),
                    )
                )
            )
        ],
    )
    return report
