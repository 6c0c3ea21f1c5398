"""How experiments/README.md writes numbers and tables: one format per kind of quantity.

:mod:`experiments.report` builds every table with these, so a number reads the
same in every table, and a test can find in the tables what the prose quotes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from experiments.stats import Interval


def sig(value: float, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, trailing zeros kept (0.2030, -0.4753)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if value == 0:
        return "0"
    return f"{value:#.{digits}g}".rstrip(".")


def dec(value: float) -> str:
    """A QoS, delay, energy or waiting time: four decimals, exact zero as 0."""
    return "0" if value == 0 else f"{value:.4f}"


def pct(value: float) -> str:
    """A signed percentage with one decimal: +1.7, -13.0."""
    return f"{value:+.1f}"


def share(value: float) -> str:
    """A share of a distance (random-to-oracle, fixed-to-oracle): three decimals."""
    return f"{value:.3f}"


def signed(value: float, digits: int = 2) -> str:
    """A difference with its sign, to ``digits`` significant digits: +0.0017, -3.1e-05."""
    if value == 0:
        return "0"
    text = f"{value:+#.{digits}g}".rstrip(".")
    return text


def ci(value: Interval, fmt: Callable[[float], str] = signed) -> str:
    """A mean difference and its 95 % interval, '+0.0017 [+0.0009, +0.0025]'; with one
    seed there is no interval, 'n/a (1 seed)'."""
    if value.n < 2:
        return f"{fmt(value.mean)} (1 seed, no interval)"
    return f"{fmt(value.mean)} [{fmt(value.low)}, {fmt(value.high)}]"


def weights_label(text: str) -> str:
    """'0.6,0.2,0.2' or '[0.6, 0.2, 0.2]' -> '(0.6, 0.2, 0.2)'."""
    parts = [p.strip() for p in str(text).strip("[]() ").split(",")]
    return "(" + ", ".join(f"{float(p):g}" for p in parts) + ")"


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
