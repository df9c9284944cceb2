"""The simulated billers: who they are, what their customer numbers look like, and what a bill says.

A real kiosk asks each biller's gateway for the amount due; here every biller is simulated and seeded so
the same (biller, customer number, month) always gives the same bill: the amount and whether the number
is known come from SHA-256 over those three values. Customer numbers carry a Luhn check digit (as most
utility numbers do), so a typo is caught before anything is asked of the biller. Phone top-up has no bill:
the customer picks one of the fixed amounts.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from datetime import date

from bank.numbers import luhn_valid


class BillerKind(enum.StrEnum):
    UTILITY = "utility"  # a bill with an amount due
    TOPUP = "topup"  # fixed amounts, no bill


@dataclass(frozen=True)
class Biller:
    code: str
    kind: BillerKind
    account_length: int  # digits of the customer number (with its check digit, for utilities)
    settlement_serial: int  # the bank-internal settlement account's serial (account number kind 9)
    min_bill_minor: int = 0
    max_bill_minor: int = 0
    topup_amounts_minor: tuple[int, ...] = ()

    @property
    def name_key(self) -> str:
        return f"billing.biller.{self.code}"


BILLERS: dict[str, Biller] = {
    b.code: b
    for b in (
        Biller("ELEC", BillerKind.UTILITY, 10, 101, min_bill_minor=3_000, max_bill_minor=45_000),
        Biller("WATER", BillerKind.UTILITY, 8, 102, min_bill_minor=1_500, max_bill_minor=12_000),
        Biller("GAS", BillerKind.UTILITY, 9, 103, min_bill_minor=2_000, max_bill_minor=30_000),
        Biller(
            "PHONE",
            BillerKind.TOPUP,
            11,
            104,
            topup_amounts_minor=(2_000, 5_000, 10_000, 20_000),
        ),
    )
}
DUE_DAY = 25  # bills fall due on the 25th of their month


class AccountProblem(enum.StrEnum):
    FORMAT = "format"  # wrong length or not digits
    CHECK_DIGIT = "check_digit"  # the Luhn check digit does not match (a typo)
    NOT_MOBILE = "not_mobile"  # a top-up number must be a mainland mobile number (1[3-9]x, 11 digits)


def account_problem(biller: Biller, number: str) -> AccountProblem | None:
    """What is wrong with a customer number before the biller is asked; None when it looks right."""
    if not (number.isascii() and number.isdigit() and len(number) == biller.account_length):
        return AccountProblem.FORMAT
    if biller.kind is BillerKind.TOPUP:
        return None if number[0] == "1" and number[1] in "3456789" else AccountProblem.NOT_MOBILE
    return None if luhn_valid(number) else AccountProblem.CHECK_DIGIT


def mask_biller_account(number: str) -> str:
    """What receipts, views and the journal show: the last 4 digits (phone numbers are PII)."""
    return ("*" * max(0, len(number) - 4)) + number[-4:]


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
