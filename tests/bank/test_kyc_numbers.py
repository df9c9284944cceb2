from __future__ import annotations

from datetime import date

import pytest

from bank.numbers import make_account_number, make_pan
from hostlink.checkdigits import luhn_check_digit, luhn_valid
from hostlink.kyc import (
    IdProblem,
    age_on,
    assess_identity,
    birth_date_from_id,
    check_character,
    id_number_problem,
    is_expired,
    sex_from_id,
)


def test_design_vectors() -> None:
    assert id_number_problem("11010519491231002X") is None
    assert id_number_problem("11010519491231002x") is None  # lower-case x as typed
    assert id_number_problem("110101199003071234") is IdProblem.BAD_CHECK_DIGIT


def test_check_character_by_hand() -> None:
    # 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167; 167 mod 11 = 2 → 'X'
    assert check_character("11010519491231002") == "X"
    # 1*7+1*9+0*10+1*5+0*8+1*4+1*2+9*1+9*6+0*3+0*7+3*9+0*10+7*5+1*8+2*4+3*2 = 174; 174 mod 11 = 9 → '3',
    # so 110101199003071234 (check '4') is wrong.
    assert check_character("11010119900307123") == "3"


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        ("11010519491231002", IdProblem.BAD_FORMAT),
        ("11010519491231002XX", IdProblem.BAD_FORMAT),
        ("1101051949123100A2", IdProblem.BAD_FORMAT),
        ("110105194912310021", IdProblem.BAD_CHECK_DIGIT),
    ],
)
def test_problems(number: str, problem: IdProblem) -> None:
    assert id_number_problem(number) is problem


def test_impossible_birth_date_with_a_correct_check_digit() -> None:
    first17 = "11010519491331002"  # month 13
    assert id_number_problem(first17 + check_character(first17)) is IdProblem.BAD_BIRTH_DATE


def test_birth_date_age_sex_expiry() -> None:
    assert birth_date_from_id("11010519491231002X") == date(1949, 12, 31)
    assert sex_from_id("11010519491231002X") == "F"
    assert age_on(date(2008, 3, 10), date(2024, 3, 9)) == 15
    assert age_on(date(2008, 3, 10), date(2024, 3, 10)) == 16
    assert age_on(date(2008, 2, 29), date(2026, 2, 28)) == 17
    assert age_on(date(2008, 2, 29), date(2026, 3, 1)) == 18
    assert not is_expired(None, date(2099, 1, 1))  # long-term ID
    assert not is_expired(date(2026, 3, 10), date(2026, 3, 10))
    assert is_expired(date(2026, 3, 10), date(2026, 3, 11))


def test_assess_identity() -> None:
    today = date(2026, 3, 10)
    assert assess_identity("11010519491231002X", None, today, minimum_age=16).ok
    assert (
        assess_identity("11010519491231002X", date(2020, 1, 1), today, minimum_age=16).reason == "id_expired"
    )
    young = "11010120150101001"
    assert assess_identity(young + check_character(young), None, today, minimum_age=16).reason == "under_age"


def test_luhn() -> None:
    assert luhn_valid("79927398713")  # the classic worked example
    assert not luhn_valid("79927398710")
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_valid("4111111111111111")
    assert make_pan(1) == "6212340000000019"
    assert luhn_valid(make_pan(123_456_789))
    number = make_account_number("savings", 42)
    assert number.startswith("00012") and len(number) == 16 and luhn_valid(number)
    assert not luhn_valid("43219876543210987")  # the design's PIN-block vector PAN (see seed.py)
