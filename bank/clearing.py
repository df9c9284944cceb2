"""A simulated clearing house: other-bank transfers wait as pending, then settle or are rejected.

Deterministic rules, so tests and demos know the outcome in advance:
- payee bank code ``999`` does not exist → rejected ``unknown_bank``;
- a payee account number ending in ``0000`` is closed at the payee bank → rejected ``payee_account_closed``;
- everything else settles.
A transfer is only answered once it is at least ``settle_after`` old (a real clearing cycle takes minutes;
tests use zero). Settling posts the held funds to the CLEARING account; rejecting voids the hold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from bank.ledger import Ledger, TransferOutcome
from bank.models import TransferKind, TransferStatus, utcnow


@dataclass(frozen=True)
class ClearingRules:
    rejecting_bank_codes: frozenset[str] = frozenset({"999"})
    closed_account_suffix: str = "0000"
    settle_after: timedelta = timedelta(0)

    def rejection_reason(self, bank_code: str | None, account: str | None) -> str | None:
        if bank_code in self.rejecting_bank_codes:
            return "unknown_bank"
        if account and account.endswith(self.closed_account_suffix):
            return "payee_account_closed"
        return None


@dataclass
class ClearingReport:
    settled: list[int] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    waiting: int = 0


class ClearingHouse:
    def __init__(
        self, ledger: Ledger, rules: ClearingRules | None = None, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.ledger = ledger
        self.rules = rules or ClearingRules()
        self.clock = clock

    def run_cycle(self) -> ClearingReport:
        """Answer every other-bank transfer that has waited long enough."""
        report = ClearingReport()
        cutoff = self.clock() - self.rules.settle_after
        for row in self.ledger.pending_transfers(TransferKind.OTHER_BANK):
            if row.created_at > cutoff:
                report.waiting += 1
                continue
            self._answer(row, report)
        return report

    def _answer(self, row: Row[Any], report: ClearingReport) -> None:
        reason = self.rules.rejection_reason(row.payee_bank_code, row.payee_account)
        if reason is None:
            result = self.ledger.post_pending(row.id)
            if isinstance(result, TransferOutcome) and result.status is TransferStatus.POSTED:
                report.settled.append(row.id)
        else:
            result = self.ledger.void_pending(row.id, reason)
            if isinstance(result, TransferOutcome) and result.status is TransferStatus.VOIDED:
                report.rejected.append((row.id, reason))
