from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostlink.money import Money, MoneyError


def test_format_english_and_chinese() -> None:
    amount = Money(123_450, "CNY")
    assert amount.format("en") == "¥1,234.50"
    assert amount.format("zh_CN") == "1,234.50 元"
    assert (-amount).format("en") == "-¥1,234.50"
    assert (-amount).format("zh_CN") == "-1,234.50 元"
    assert Money(5, "CNY").format("en") == "¥0.05"
    assert Money(1_000_000_000, "USD").format("en") == "$10,000,000.00"
    assert Money(1234, "JPY").format("en") == "JP¥1,234"


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("1,234.50", 123_450),
        ("¥1,234.50", 123_450),
        ("￥12", 1_200),
        ("12.5 元", 1_250),
        ("-¥3", -300),
        ("0.01", 1),
        ("1000", 100_000),
        ("  7.00 CNY ", 700),
    ],
)
def test_parse_accepts_what_people_type(text: str, minor: int) -> None:
    assert Money.parse(text) == Money(minor, "CNY")


@pytest.mark.parametrize("text", ["1.005", "0.001", "1,23.00", "abc", "$1", "1..2", "", "1.2.3", "１２"])
def test_parse_refuses_rather_than_guessing(text: str) -> None:
    with pytest.raises(MoneyError):
        Money.parse(text)


def test_parse_from_decimal_and_trailing_zeros() -> None:
    assert Money.parse(Decimal("3.10")) == Money(310)
    assert Money.parse(Decimal("3.100")) == Money(310)  # exact: no rounding involved
    assert Money.parse("5", "JPY") == Money(5, "JPY")
    with pytest.raises(MoneyError, match="decimal places"):
        Money.parse("5.5", "JPY")


def test_float_is_refused_everywhere() -> None:
    with pytest.raises(MoneyError):
        Money.parse(1.1)  # type: ignore[arg-type]
    with pytest.raises(MoneyError):
        Money(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        _ = Money(100) * 1.5  # type: ignore[operator]


def test_mixed_currencies_refused() -> None:
    with pytest.raises(MoneyError, match="currency mismatch"):
        _ = Money(100, "CNY") + Money(100, "USD")
    with pytest.raises(MoneyError):
        _ = Money(100, "CNY") < Money(100, "USD")
    with pytest.raises(MoneyError, match="unsupported"):
        Money(1, "XYZ")


def test_arithmetic() -> None:
    assert Money(150) + Money(50) == Money(200)
    assert Money(150) - Money(200) == Money(-50)
    assert 3 * Money(7) == Money(21)
    assert Money(1) < Money(2) and Money(2) >= Money(2)
    assert Money(-5).is_negative and Money(0).is_zero
    assert Money(123_456).to_decimal() == Decimal("1234.56")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["CNY", "USD", "JPY", "EUR"]))
def test_format_then_parse_round_trips(minor: int, currency: str) -> None:
    amount = Money(minor, currency)
    assert Money.parse(amount.format("en"), currency) == amount
    assert Money.parse(amount.format("zh_CN"), currency) == amount
    assert Money.parse(amount.to_decimal(), currency) == amount


@pytest.mark.parametrize(
    "text",
    ["1.0000000000000000000000000001", "0.0000000000000000000000000001", "3.1" + "0" * 27 + "9", "1.000"],
)
def test_parse_refuses_more_typed_decimals_than_the_currency_has(text: str) -> None:
    # Decimal.scaleb rounds to 28 significant digits: these used to come back as a round amount.
    with pytest.raises(MoneyError, match="decimal places"):
        Money.parse(text)


def test_parse_refuses_decimals_hidden_beyond_the_context_precision_of_a_decimal() -> None:
    with pytest.raises(MoneyError, match="decimal places"):
        Money.parse(Decimal("1.0000000000000000000000000000001"))
    with pytest.raises(MoneyError, match="decimal places"):
        Money.parse(Decimal("1E-999999999"))


@pytest.mark.parametrize("value", ["9" * 5000, "1" + "0" * 17, Decimal("1E+100"), 10**40])
def test_parse_refuses_absurd_magnitudes_with_a_short_message(value: object) -> None:
    with pytest.raises(MoneyError, match="too large") as refused:
        Money.parse(value)  # type: ignore[arg-type]
    assert len(str(refused.value)) < 120  # the message does not echo 5,000 digits back


def test_the_largest_accepted_amount_still_formats() -> None:
    biggest = Money.parse("9999999999999999.99")
    assert biggest.minor == 10**18 - 1
    assert biggest.format("en") == "¥9,999,999,999,999,999.99"
