"""The simulated billers: who they are, what their customer numbers look like, and what a bill says.

A real kiosk asks each biller's gateway for the amount due; here every biller is simulated and seeded so
the same (biller, customer number, month) always gives the same bill: the amount and whether the number
is known come from SHA-256 over those three values. Customer numbers carry a Luhn check digit (as most
utility numbers do), so a typo is caught before anything is asked of the biller. Phone top-up has no bill:
the customer picks one of the fixed amounts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from hostlink.billers import (
    BILLERS,
    AccountProblem,
    Biller,
    BillerKind,
    account_problem,
    mask_biller_account,
)

__all__ = [
    "BILLERS",
    "DUE_DAY",
    "AccountProblem",
    "Biller",
    "BillerKind",
    "SimulatedBill",
    "account_problem",
    "due_date_of",
    "mask_biller_account",
    "period_of",
    "simulated_bill",
]


DUE_DAY = 25  # bills fall due on the 25th of their month


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def due_date_of(period: str) -> date:
    year, month = (int(part) for part in period.split("-"))
    return date(year, month, DUE_DAY)


@dataclass(frozen=True)
class SimulatedBill:
    known: bool  # False: the biller has no customer with that number
    amount_minor: int  # the month's bill before anything the bank has paid towards it
    period: str
    due: date


def simulated_bill(biller: Biller, number: str, period: str) -> SimulatedBill:
    """The biller's answer, the same every time for the same (biller, number, month)."""
    digest = hashlib.sha256(f"smart-teller-biller|{biller.code}|{number}|{period}".encode()).digest()
    account_digest = hashlib.sha256(f"smart-teller-biller|{biller.code}|{number}".encode()).digest()
    known = account_digest[0] % 13 != 0  # about one valid number in 13 is not a customer of the biller
    if account_digest[1] % 10 == 0:
        amount = 0  # this customer's bills are paid by direct debit elsewhere: never anything due here
    else:
        span = biller.max_bill_minor - biller.min_bill_minor
        raw = int.from_bytes(digest[2:6], "big") % (span + 1) + biller.min_bill_minor
        amount = raw - raw % 10  # bills are in whole jiao
    return SimulatedBill(known, amount, period, due_date_of(period))
