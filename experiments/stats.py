"""95 % confidence intervals over seeds for the README's comparisons.

A mean over n seeds gets a Student-t interval, mean +/- t(0.975, n-1) s / sqrt(n).
Where two policies or schemes ran on the same seeds (the same evaluation slots, the
same training seed), the interval is the paired one: of the per-seed differences,
which removes what the seeds share. One seed gives no interval.

The t quantile is computed here (regularised incomplete beta, then bisection)
because SciPy is not a dependency. hybridnet has no statistics module; if the
library ever needs intervals, this belongs there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.95


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta (Lentz's method)."""
    tiny, c, d = 1e-300, 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 300):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return result


def _beta_inc(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularised incomplete beta function."""
    if x <= 0.0 or x >= 1.0:
        return max(0.0, min(1.0, x))
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: int) -> float:
    """P(T <= t) for Student's t with ``df`` degrees of freedom."""
    tail = 0.5 * _beta_inc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile (0.5 < p < 1) of Student's t, by bisection on :func:`t_cdf`."""
    low, high = 0.0, 1.0
    while t_cdf(high, df) < p:
        high *= 2.0
    for _ in range(200):
        mid = 0.5 * (low + high)
        low, high = (mid, high) if t_cdf(mid, df) < p else (low, mid)
    return 0.5 * (low + high)


@dataclass(frozen=True)
class Interval:
    """A mean over ``n`` seeds and its 95 % half-width (NaN for one seed)."""

    mean: float
    half_width: float
    n: int

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    @property
    def covers_zero(self) -> bool:
        """True where the sign of the mean is not established (always for one seed)."""
        return not (self.low > 0 or self.high < 0)


def interval(values: Sequence[float]) -> Interval:
    """The mean of ``values`` with its 95 % t-interval."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n == 1:
        return Interval(mean, math.nan, 1)
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return Interval(mean, t_quantile(0.5 + LEVEL / 2, n - 1) * math.sqrt(variance / n), n)


def paired(a: Sequence[float], b: Sequence[float]) -> Interval:
    """The mean of a - b over seeds they share, with its 95 % t-interval (paired)."""
    if len(a) != len(b):
        raise ValueError(f"paired samples of different sizes: {len(a)} and {len(b)}")
    return interval([x - y for x, y in zip(a, b, strict=True)])
