"""Options and helpers shared by several commands."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import click
import numpy as np
from tqdm import tqdm

from hybridnet.errors import HybridnetError

set_option = click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
    help="Override a scenario key; the value is read as TOML (e.g. reward.weights=[0.2,0.4,0.4]).",
)
force_option = click.option("--force", is_flag=True, help="Overwrite an existing output.")


MAX_SPANS = 1000
"""The most comma-separated parts one selection may have."""


def parse_spans(text: str, what: str) -> list[tuple[int, int]]:
    """Parse "0-9", "3" or "0,2,5-7" into inclusive (lo, hi) spans, never expanding them.

    A selection such as 0-999999999 is a pair of numbers here, not a billion of
    them: what it picks is decided against what exists (:func:`select_ids`).
    """
    parts = text.split(",")
    if len(parts) > MAX_SPANS:
        raise HybridnetError(f"{what}: {len(parts):,} parts; at most {MAX_SPANS:,} (use ranges "
                             "such as 0-99)")
    spans = []
    try:
        for part in parts:
            lo, sep, hi = part.strip().partition("-")
            spans.append((int(lo), int(hi) if sep else int(lo)))
    except ValueError:
        raise HybridnetError(f"{what} '{text[:60]}' must look like 0-9 or 0,2,5-7") from None
    for lo, hi in spans:
        if lo > hi:
            raise HybridnetError(f"{what} '{text[:60]}': the range {lo}-{hi} is backwards")
    return spans


def select_ids(text: str, what: str, available: Iterable[int]) -> list[int]:
    """The ids in ``available`` that the ``text`` selection (see :func:`parse_spans`) picks."""
    spans = parse_spans(text, what)
    ids = np.unique(np.asarray(list(available) if not hasattr(available, "__array__")
                               else available, dtype=np.int64))
    picked = np.zeros(ids.shape, dtype=bool)
    for lo, hi in spans:
        picked |= (ids >= lo) & (ids <= hi)
    return [int(i) for i in ids[picked]]


@contextmanager
def progress_bar(total: int, desc: str, **postfix: Any) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal) fed by a callback."""
    with tqdm(total=total, desc=desc, unit="slot", disable=None, leave=False,
              dynamic_ncols=True) as bar:
        if postfix:
            bar.set_postfix(postfix)
        yield lambda _k: bar.update(1)
