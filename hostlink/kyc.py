"""Know-your-customer checks on the China resident ID number (GB 11643-1999, ISO 7064 MOD 11-2).

An 18-character ID number is: 6-digit region code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd for
men, even for women) and one check character ``0``-``9`` or ``X`` (X stands for 10).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

# Weights 2^(17-i) mod 11 for positions 1..17 (ISO 7064 MOD 11-2).
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"  # index = weighted sum mod 11


class IdProblem(enum.StrEnum):
    BAD_FORMAT = "bad_format"
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_BIRTH_DATE = "bad_birth_date"


def check_character(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise ValueError("need exactly 17 digits")
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalise_id_number(id_number: str) -> str:
    return id_number.strip().upper()


def id_number_problem(id_number: str) -> IdProblem | None:
    """None when the number is well formed, has a real birth date and a correct check character."""
    number = normalise_id_number(id_number)
    if (
        len(number) != 18
        or not number[:17].isdigit()
        or not number.isascii()
        or number[17] not in "0123456789X"
    ):
        return IdProblem.BAD_FORMAT
    if check_character(number[:17]) != number[17]:
        return IdProblem.BAD_CHECK_DIGIT
    try:
        birth_date_from_id(number)
    except ValueError:
        return IdProblem.BAD_BIRTH_DATE
    return None


def is_valid_id_number(id_number: str) -> bool:
    return id_number_problem(id_number) is None


def birth_date_from_id(id_number: str) -> date:
    """The birth date encoded in positions 7-14; ValueError when it is not a real date."""
    number = normalise_id_number(id_number)
    digits = number[6:14]
    if len(digits) != 8 or not digits.isdigit():
        raise ValueError("no birth date in the ID number")
    return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))


def sex_from_id(id_number: str) -> str:
    """'M' or 'F' from the parity of the sequence digit (position 17)."""
    return "M" if int(normalise_id_number(id_number)[16]) % 2 else "F"


def age_on(birth_date: date, today: date) -> int:
    """Completed years; someone born on 29 February comes of age on 1 March in common years."""
    years = today.year - birth_date.year
    if (today.month, today.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def is_expired(expiry: date | None, today: date) -> bool:
    """An ID is valid through its expiry date; None means long-term (长期) validity."""
    return expiry is not None and today > expiry


@dataclass(frozen=True)
class KycDecision:
    ok: bool
    reason: str = ""  # one of "bad_format", "bad_check_digit", "bad_birth_date", "under_age", "id_expired"


def assess_identity(id_number: str, id_expiry: date | None, today: date, *, minimum_age: int) -> KycDecision:
    """The checks account opening makes on the presented ID before anything is stored."""
    problem = id_number_problem(id_number)
    if problem is not None:
        return KycDecision(False, problem.value)
    if is_expired(id_expiry, today):
        return KycDecision(False, "id_expired")
    if age_on(birth_date_from_id(id_number), today) < minimum_age:
        return KycDecision(False, "under_age")
    return KycDecision(True)
