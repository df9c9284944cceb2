"""Expected range of outcomes: 5th / 50th / 95th percentiles of a lognormal model, in Decimal.

Model (documented in docs/advice.md): the portfolio's yearly growth factor is lognormal. With the
allocation's expected annual return μ (weights × product assumptions) and volatility σ, the log-growth per
year has mean m = ln(1 + μ) − σ²/2 and standard deviation σ, so after t years the value is
``amount × exp(m·t + z·σ·√t)`` with z the standard-normal quantile (−1.6449 for the 5th percentile, 0 for
the median, +1.6449 for the 95th). The portfolio's σ combines the products' volatilities with one assumed
pairwise correlation ρ = 0.5 between every two risky products (σ² = Σ wᵢ²σᵢ² + ρ Σᵢ≠ⱼ wᵢwⱼσᵢσⱼ) — a simple,
conservative stand-in for a covariance matrix. No randomness: the same inputs give the same numbers.

Every figure is computed with ``decimal`` at 28 digits and rounded half-even to whole minor units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from hostlink.advice.products import BPS, Product, allocation_for

CORRELATION = Decimal("0.5")
# Standard-normal 95th percentile, Φ⁻¹(0.95), to 25 digits.
Z95 = Decimal("1.644853626951472714863848")
PERCENTILES: tuple[tuple[int, Decimal], ...] = ((5, -Z95), (50, Decimal(0)), (95, Z95))


@dataclass(frozen=True)
class PortfolioStats:
    expected_return: Decimal  # annual, as a fraction (0.032 = 3.2 %)
    volatility: Decimal  # annual, as a fraction


@dataclass(frozen=True)
class ProjectionPoint:
    year: int
    p5_minor: int
    p50_minor: int
    p95_minor: int


@dataclass(frozen=True)
class Projection:
    amount_minor: int
    years: int
    stats: PortfolioStats
    points: tuple[ProjectionPoint, ...]  # year 0 … years

    @property
    def final(self) -> ProjectionPoint:
        return self.points[-1]

    def as_dict(self) -> dict[str, object]:
        return {
            "amount_minor": self.amount_minor,
            "years": self.years,
            "expected_return_bps": int((self.stats.expected_return * BPS).to_integral_value()),
            "volatility_bps": int((self.stats.volatility * BPS).to_integral_value()),
            "points": [
                {"year": p.year, "p5": p.p5_minor, "p50": p.p50_minor, "p95": p.p95_minor}
                for p in self.points
            ],
        }


def portfolio_stats(weights: Sequence[tuple[Product, int]]) -> PortfolioStats:
    """Expected return and volatility of products weighted in basis points (the weights sum to 10,000)."""
    total = sum(weight for _, weight in weights)
    if total != BPS:
        raise ValueError(f"weights add up to {total} bps, not {BPS}")
    with localcontext() as ctx:
        ctx.prec = 28
        w = [Decimal(weight) / BPS for _, weight in weights]
        mu = [Decimal(p.expected_return_bps) / BPS for p, _ in weights]
        sigma = [Decimal(p.volatility_bps) / BPS for p, _ in weights]
        expected = sum((wi * mi for wi, mi in zip(w, mu, strict=True)), Decimal(0))
        variance = Decimal(0)
        for i in range(len(w)):
            for j in range(len(w)):
                rho = Decimal(1) if i == j else CORRELATION
                variance += rho * w[i] * w[j] * sigma[i] * sigma[j]
        return PortfolioStats(expected, variance.sqrt())


def value_at(amount_minor: int, stats: PortfolioStats, years: int, z: Decimal) -> int:
    """``amount × exp(m·t + z·σ·√t)`` rounded half-even to minor units."""
    if years == 0:
        return amount_minor
    with localcontext() as ctx:
        ctx.prec = 28
        sigma = stats.volatility
        drift = (Decimal(1) + stats.expected_return).ln() - sigma * sigma / 2
        t = Decimal(years)
        exponent = drift * t + z * sigma * t.sqrt()
        value = Decimal(amount_minor) * exponent.exp()
        return int(value.quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def project(amount_minor: int, level: str, years: int) -> Projection:
    """The range of outcomes of ``amount_minor`` in ``level``'s suggested allocation, year by year."""
    if amount_minor <= 0:
        raise ValueError("the amount must be positive")
    if not 1 <= years <= 30:
        raise ValueError("the horizon must be 1 to 30 years")
    stats = portfolio_stats(allocation_for(level))
    points = []
    for year in range(years + 1):
        low, mid, high = (value_at(amount_minor, stats, year, z) for _, z in PERCENTILES)
        points.append(ProjectionPoint(year, low, mid, high))
    return Projection(amount_minor, years, stats, tuple(points))
