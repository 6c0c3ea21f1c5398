"""The README's comparisons with their 95 % intervals and seed counts, from per-seed rows.

Each function takes the per-seed rows a study wrote and returns the cells of a
comparison: a mean difference with its t-interval (:mod:`experiments.stats`)
and in how many seeds the difference has the claimed sign. Which seeds are
shared decides the interval: schemes of one configuration share their
evaluation slots and training seed (paired over seeds); a trained controller
against a policy that needs no training is scored on the same slots, so the
difference is taken per training seed against the one baseline value.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from experiments.paper import SCHEME_LABELS, SCHEMES
from experiments.stats import Interval, interval, paired
from experiments.tables import ci, pct, signed

PAPER_PAIRS = tuple(zip(SCHEMES[:-1], SCHEMES[1:], strict=True))
"""The adjacent pairs of the paper's order: HIS > PPGFIS, PPGFIS > GFIS, GFIS > IIS."""


def scaled(value: Interval, scale: float) -> Interval:
    """``value`` multiplied by ``scale`` (a difference expressed as a % of a mean)."""
    return Interval(value.mean * scale, value.half_width * abs(scale), value.n)


def gain_ci(by_seed: pd.DataFrame, other: str, scheme: str = "his") -> str:
    """``scheme``'s gain over ``other`` in %, with its interval: the paired t-interval of
    R_scheme - R_other over the seeds (rows of ``by_seed``, one column per scheme), over
    |mean R_other|. Its centre is the gain of the means the map tables show."""
    difference = paired(list(by_seed[scheme]), list(by_seed[other]))
    return ci(scaled(difference, 100 / abs(by_seed[other].mean())), pct)


def pair_counts(by_seed: pd.DataFrame, pairs: Sequence[tuple[str, str]] = PAPER_PAIRS) -> str:
    """In how many seeds each pair of schemes is in the paper's order: '3 / 0 / 3 of 3'."""
    counts = [int((by_seed[a] > by_seed[b]).sum()) for a, b in pairs]
    return f"{' / '.join(str(c) for c in counts)} of {len(by_seed)}"


def sharing_order_count(by_seed: pd.DataFrame) -> str:
    """In how many seeds the sharing schemes are in the paper's order, HIS > PPGFIS > GFIS,
    wherever IIS falls: '1 of 2'."""
    holds = (by_seed["his"] > by_seed["ppgfis"]) & (by_seed["ppgfis"] > by_seed["gfis"])
    return f"{int(holds.sum())} of {len(by_seed)}"


def last_count(by_seed: pd.DataFrame, scheme: str = "iis") -> str:
    """In how many seeds ``scheme`` scores below every other scheme, as the paper has IIS:
    '5 of 5'."""
    others = by_seed[[c for c in by_seed.columns if c != scheme]]
    holds = by_seed[scheme].lt(others.min(axis=1))
    return f"{int(holds.sum())} of {len(by_seed)}"


PAIR_HEADER = " / ".join(f"{SCHEME_LABELS[a]} > {SCHEME_LABELS[b]}" for a, b in PAPER_PAIRS)


def versus(trained: pd.Series, baseline: float) -> tuple[Interval, int]:
    """Per training seed, a trained controller's reward less a baseline's on the same
    slots: the interval over the seeds, and how many seeds are above the baseline."""
    values = [float(v) - baseline for v in trained]
    return interval(values), sum(v > 0 for v in values)


def versus_cells(trained: pd.Series, baseline: float) -> list[str]:
    """'difference [interval]' and 'k of n seeds above' for one comparison."""
    difference, above = versus(trained, baseline)
    return [ci(difference, signed), f"{above} of {difference.n}"]


def verdict(value: Interval) -> str:
    """What the interval supports: a sign, or that it is not established."""
    if value.n < 2:
        return "one seed: no interval"
    if value.covers_zero:
        return "interval covers 0"
    return "above 0" if value.low > 0 else "below 0"
