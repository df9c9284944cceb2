"""Money: an integer count of minor units and an ISO 4217 currency code. Never float.

``Decimal`` appears only at the edges: :meth:`Money.parse` turns what a person typed (or a config value)
into minor units and refuses anything that would need rounding; :meth:`Money.format` renders for a locale
("¥1,234.50" in English, "1,234.50 元" in Simplified Chinese). Arithmetic refuses mixed currencies.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Literal

Locale = Literal["en", "zh_CN"]

# ISO 4217 minor-unit exponents for the currencies a branch kiosk meets.
CURRENCY_EXPONENTS: dict[str, int] = {"CNY": 2, "HKD": 2, "USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}

_EN_SYMBOLS: dict[str, str] = {"CNY": "¥", "HKD": "HK$", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "JP¥"}
_ZH_NAMES: dict[str, str] = {
    "CNY": "元",
    "HKD": "港元",
    "USD": "美元",
    "EUR": "欧元",
    "GBP": "英镑",
    "JPY": "日元",
}
_MINUS_SIGNS = ("-", "−", "－")  # ASCII hyphen-minus, U+2212, full-width
# The largest amount parse accepts, in minor units: 18 digits, within a signed 64-bit ledger column and
# far above any real balance. Beyond it an amount is a typing accident or an attack (a 5,000-digit
# "amount" would crash formatting later), refused with a message rather than carried on.
MAX_MINOR_DIGITS = 18


class MoneyError(ValueError):
    """Bad money input or an operation on different currencies; the message says which."""


def exponent_of(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unsupported currency {currency!r}") from None


@dataclass(frozen=True, slots=True, order=False)
class Money:
    minor: int
    currency: str = "CNY"

    def __post_init__(self) -> None:
        # bool is an int subclass; True yuan-fen is a bug, not an amount.
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError(f"minor units must be an int, not {type(self.minor).__name__}")
        exponent_of(self.currency)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def zero(cls, currency: str = "CNY") -> Money:
        return cls(0, currency)

    @classmethod
    def parse(cls, value: Decimal | str | int, currency: str = "CNY") -> Money:
        """Major units (``"1,234.50"``, ``"¥12"``, ``"12.5 元"``, ``Decimal("3.10")``) to Money.

        Refuses floats, NaN/infinity, other currencies' symbols and more decimals than the currency has
        (``"1.005"`` CNY is an error, never rounded; typed text may not even carry zeros beyond them) and
        amounts of more than :data:`MAX_MINOR_DIGITS` digits in minor units.
        """
        exponent = exponent_of(currency)
        if isinstance(value, float):
            raise MoneyError("floats are not accepted for money: pass a Decimal or a string")
        if isinstance(value, bool):
            raise MoneyError("not an amount: bool")
        if isinstance(value, int):
            amount = Decimal(value)
        elif isinstance(value, Decimal):
            amount = value
        elif isinstance(value, str):
            amount = _decimal_from_text(value, currency)
            _, _, decimals = value.strip().partition(".")
            typed = sum(ch.isdigit() for ch in decimals)
            if typed > exponent:
                raise MoneyError(
                    f"{_short(value)} has {typed} decimal places; {currency} has {exponent}: not rounding"
                )
        else:
            raise MoneyError(f"not an amount: {type(value).__name__}")
        if not amount.is_finite():
            raise MoneyError(f"not a finite amount: {_short(value)}")
        return cls(_exact_minor(amount, exponent, currency, value), currency)

    # -- arithmetic ---------------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise MoneyError(f"currency mismatch: {self.currency} and {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.minor + self._same(other).minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.minor - self._same(other).minor, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.minor, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.minor), self.currency)

    def __mul__(self, factor: int) -> Money:
        if not isinstance(factor, int) or isinstance(factor, bool):
            raise TypeError("Money can only be multiplied by an int (use minor units for rates)")
        return Money(self.minor * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.minor < self._same(other).minor

    def __le__(self, other: Money) -> bool:
        return self.minor <= self._same(other).minor

    def __gt__(self, other: Money) -> bool:
        return self.minor > self._same(other).minor

    def __ge__(self, other: Money) -> bool:
        return self.minor >= self._same(other).minor

    @property
    def is_zero(self) -> bool:
        return self.minor == 0

    @property
    def is_negative(self) -> bool:
        return self.minor < 0

    # -- edges --------------------------------------------------------------------------------
    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-exponent_of(self.currency))

    def amount_text(self) -> str:
        """The unsigned amount with thousands separators: ``1,234.50``."""
        exponent = exponent_of(self.currency)
        whole, frac = divmod(abs(self.minor), 10**exponent)
        text = f"{whole:,}"
        return f"{text}.{frac:0{exponent}d}" if exponent else text

    def format(self, locale: Locale = "en") -> str:
        sign = "-" if self.minor < 0 else ""
        if locale == "zh_CN":
            return f"{sign}{self.amount_text()} {_ZH_NAMES[self.currency]}"
        return f"{sign}{_EN_SYMBOLS[self.currency]}{self.amount_text()}"

    def __str__(self) -> str:
        return f"{'-' if self.minor < 0 else ''}{self.amount_text()} {self.currency}"


def _short(value: object) -> str:
    """``repr(value)``, cut short: an error message never carries a 5,000-digit input."""
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}… ({len(text)} characters)"


def _exact_minor(amount: Decimal, exponent: int, currency: str, value: object) -> int:
    """``amount`` in minor units with integer arithmetic only (``Decimal.scaleb`` rounds to the context's
    28 digits, which would turn ``1.0000…01`` into ``1.00``): refuses anything that needs rounding or has
    more than :data:`MAX_MINOR_DIGITS` digits."""
    sign, digits, exp = amount.as_tuple()
    assert isinstance(exp, int)  # finite
    text = "".join(map(str, digits)).lstrip("0")
    scale = exp + exponent  # minor = int(text) * 10**scale
    while text.endswith("0") and scale < 0:
        text, scale = text[:-1], scale + 1
    if not text:
        return 0
    if scale < 0:
        raise MoneyError(
            f"{_short(value)} has more than {exponent} decimal places for {currency}; not rounding"
        )
    if len(text) + scale > MAX_MINOR_DIGITS:
        raise MoneyError(
            f"{_short(value)} is too large: at most {MAX_MINOR_DIGITS - exponent} digits before the "
            f"decimal point for {currency}"
        )
    minor: int = int(text) * 10**scale
    return -minor if sign else minor


def _decimal_from_text(text: str, currency: str) -> Decimal:
    cleaned = text.strip().replace("，", ",").replace("．", ".")
    negative = False
    if cleaned.startswith(_MINUS_SIGNS):
        negative, cleaned = True, cleaned[1:].lstrip()
    # Our own currency's marks are allowed (prefix symbol, suffix name or code); anything else is refused.
    prefixes = [_EN_SYMBOLS[currency]] + (["￥"] if currency == "CNY" else [])
    for mark in prefixes:
        if cleaned.startswith(mark):
            cleaned = cleaned[len(mark) :].lstrip()
            break
    for mark in (_ZH_NAMES[currency], currency):
        if cleaned.endswith(mark):
            cleaned = cleaned[: -len(mark)].rstrip()
            break
    if not negative and cleaned.startswith(_MINUS_SIGNS):
        negative, cleaned = True, cleaned[1:].lstrip()
    if not cleaned or not all((ch.isdigit() and ch.isascii()) or ch in ",." for ch in cleaned):
        raise MoneyError(f"not an amount in {currency}: {text!r}")
    whole, _, frac = cleaned.partition(".")
    if "," in frac or (whole and not _good_grouping(whole)):
        raise MoneyError(f"misplaced thousands separator in {text!r}")
    try:
        amount = Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        raise MoneyError(f"not an amount in {currency}: {text!r}") from None
    return -amount if negative else amount


def _good_grouping(whole: str) -> bool:
    if "," not in whole:
        return True
    groups = whole.split(",")
    return 1 <= len(groups[0]) <= 3 and all(len(group) == 3 for group in groups[1:])
