"""Account numbers and card PANs, each with a Luhn (ISO/IEC 7812 mod 10) check digit.

Account numbers: 4-digit branch code, 1 digit for the kind (1 current, 2 savings, 9 bank-internal),
10-digit serial, check digit: 16 digits. PANs: the BIN ``621234`` (a UnionPay-style 62 range test BIN),
9-digit serial, check digit: 16 digits.
"""

from __future__ import annotations

import random

from hostlink.checkdigits import luhn_check_digit

BIN = "621234"
BRANCH_CODE = "0001"
KIND_DIGITS = {"current": "1", "savings": "2", "internal": "9"}


def make_account_number(kind: str, serial: int, branch: str = BRANCH_CODE) -> str:
    if not 0 <= serial < 10**10:
        raise ValueError("account serial out of range")
    payload = f"{branch}{KIND_DIGITS[kind]}{serial:010d}"
    return payload + luhn_check_digit(payload)


def random_account_number(kind: str, rng: random.Random | None = None) -> str:
    source = rng or random.SystemRandom()
    return make_account_number(kind, source.randrange(10**10))


def make_pan(serial: int, bin_prefix: str = BIN) -> str:
    if not 0 <= serial < 10**9:
        raise ValueError("PAN serial out of range")
    payload = f"{bin_prefix}{serial:09d}"
    return payload + luhn_check_digit(payload)


def random_pan(rng: random.Random | None = None) -> str:
    source = rng or random.SystemRandom()
    return make_pan(source.randrange(10**9))
