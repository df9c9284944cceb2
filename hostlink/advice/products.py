"""The kiosk's product shelf, the suggested allocation per risk level, and the suitability rules.

Return and volatility are *assumptions for illustration* (annual, in basis points), shown to the customer
as such; they are the inputs of :mod:`hostlink.advice.projection`. Product risk R1 (lowest) … R5 follows the
bank's product rating; a customer assessed at level Cn may express interest in products up to Rn only
(browsing the rest is allowed, the kiosk refuses with the reason). Products rated R4 and above carry a
24-hour cooling-off period (the customer can withdraw without cost), which is shown and must be
acknowledged before the interest is registered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from hostlink.advice.questionnaire import level_number

COOLING_OFF_FROM_RISK = 4  # R4 and R5
COOLING_OFF = timedelta(hours=24)
BPS = 10_000


@dataclass(frozen=True)
class Product:
    code: str
    risk: str  # "R1" … "R5"
    expected_return_bps: int  # assumed annual return, e.g. 320 = 3.20 %
    volatility_bps: int  # assumed annual standard deviation of the return
    min_amount_minor: int  # smallest subscription
    liquidity_key: str  # catalogue key: "redeem any day", "locked for 1 year" …

    @property
    def name_key(self) -> str:
        return f"advice.product.{self.code}"

    @property
    def description_key(self) -> str:
        return f"advice.product.{self.code}.desc"

    @property
    def risk_number(self) -> int:
        return level_number(self.risk)

    @property
    def cooling_off(self) -> bool:
        return self.risk_number >= COOLING_OFF_FROM_RISK


SHELF: tuple[Product, ...] = (
    Product("demand_deposit", "R1", 20, 0, 1, "advice.liquidity.any_day"),
    Product("time_deposit_1y", "R1", 150, 0, 5_000, "advice.liquidity.one_year"),
    Product("money_market", "R1", 180, 30, 100, "advice.liquidity.next_day"),
    Product("bond_fund", "R2", 320, 300, 100, "advice.liquidity.two_days"),
    Product("balanced_fund", "R3", 500, 1_000, 100, "advice.liquidity.three_days"),
    Product("index_fund", "R4", 700, 2_200, 100, "advice.liquidity.three_days"),
    Product("equity_fund", "R5", 800, 2_800, 100, "advice.liquidity.three_days"),
)
PRODUCTS: Mapping[str, Product] = {p.code: p for p in SHELF}

# Suggested allocation per level, in basis points of the amount (each row sums to 10,000 and holds no
# product above its level).
ALLOCATIONS: Mapping[str, tuple[tuple[str, int], ...]] = {
    "C1": (("demand_deposit", 1_000), ("time_deposit_1y", 4_000), ("money_market", 5_000)),
    "C2": (("time_deposit_1y", 3_000), ("money_market", 2_000), ("bond_fund", 5_000)),
    "C3": (("money_market", 1_500), ("bond_fund", 4_500), ("balanced_fund", 4_000)),
    "C4": (("money_market", 1_000), ("bond_fund", 3_000), ("balanced_fund", 3_000), ("index_fund", 3_000)),
    "C5": (
        ("money_market", 500),
        ("bond_fund", 1_500),
        ("balanced_fund", 2_000),
        ("index_fund", 3_000),
        ("equity_fund", 3_000),
    ),
}


def product(code: str) -> Product:
    try:
        return PRODUCTS[code]
    except KeyError:
        raise KeyError(f"no product {code!r} on the shelf") from None


def allocation_for(level: str) -> tuple[tuple[Product, int], ...]:
    return tuple((product(code), weight) for code, weight in ALLOCATIONS[level])


def split_amount(amount_minor: int, level: str) -> list[tuple[Product, int]]:
    """The amount split by the level's weights in minor units; the rounding remainder goes to the
    largest weight, so the parts always add up to the amount exactly."""
    rows = allocation_for(level)
    parts = [(p, amount_minor * weight // BPS) for p, weight in rows]
    remainder = amount_minor - sum(minor for _, minor in parts)
    biggest = max(range(len(rows)), key=lambda i: rows[i][1])
    product_big, minor_big = parts[biggest]
    parts[biggest] = (product_big, minor_big + remainder)
    return parts


@dataclass(frozen=True)
class Suitability:
    allowed: bool
    reason_key: str  # catalogue key; "" when allowed
    cooling_off: bool

    @property
    def refused(self) -> bool:
        return not self.allowed


def suitability(item: Product, level: str) -> Suitability:
    """May a customer at ``level`` express interest in ``item``? Refusals carry their reason."""
    if item.risk_number > level_number(level):
        return Suitability(False, "advice.refuse.above_level", item.cooling_off)
    return Suitability(True, "", item.cooling_off)


def cooling_off_until(item: Product, now: datetime) -> datetime | None:
    return now + COOLING_OFF if item.cooling_off else None
