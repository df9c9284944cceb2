"""The billers the bank pays, as both programs know them: codes, kinds, customer-number rules.

The terminal lists them and checks a customer number before asking the host; the host looks bills up
(``bank/billing/billers.py`` simulates the billers' answers) and settles into each biller's account.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hostlink.checkdigits import luhn_valid


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
