"""GB 11643-1999 citizen identification number check digit (ISO 7064 MOD 11-2).

The 18th character is chosen so that sum(a_i * 2^(17-i) mod 11 for i=0..17) ≡ 1 (mod 11), with the
value 10 written as ``X``.
"""

from __future__ import annotations

import datetime as dt
import re

WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_SHAPE = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    """The check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def is_well_formed(id_number: str) -> bool:
    """17 digits then a digit or X (lower-case x accepted), with a real birth date at positions 7-14."""
    number = id_number.upper()
    if not _SHAPE.match(number):
        return False
    try:
        dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return True


def is_valid(id_number: str) -> bool:
    """Well formed and the check digit matches."""
    number = id_number.upper()
    return is_well_formed(number) and check_digit(number[:17]) == number[17]


def birth_date(id_number: str) -> dt.date:
    if not is_well_formed(id_number):
        raise ValueError("not a well-formed 18-character ID number")
    return dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


def sex_from_number(id_number: str) -> str:
    """``"1"`` (male) if the 17th digit is odd, ``"2"`` (female) if even — the GB/T 2261.1 codes."""
    if not is_well_formed(id_number):
        raise ValueError("not a well-formed 18-character ID number")
    return "1" if int(id_number[16]) % 2 else "2"


def mask_id_number(id_number: str) -> str:
    """First 6 and last 4 visible, for logs and reprs."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
