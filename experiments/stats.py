"""95 % confidence intervals over seeds for the README's comparisons.

A mean over n seeds gets a Student-t interval, mean +/- t(0.975, n-1) s / sqrt(n).
Where two policies or schemes ran on the same seeds (the same evaluation slots, the
same training seed), the interval is the paired one: of the per-seed differences,
which removes what the seeds share. One seed gives no interval.

The t quantile is SciPy's, as in `hybridnet compare` (hybridnet.sweep.compare),
whose intervals these are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

LEVEL = 0.95


def t_quantile(p: float, df: int) -> float:
    """The ``p`` quantile of Student's t with ``df`` degrees of freedom."""
    return float(stats.t.ppf(p, df))


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
