"""Options and helpers shared by several commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from tqdm import tqdm

from hybridnet.errors import HybridnetError

set_option = click.option(
    "--set", "overrides", multiple=True, metavar="SECTION.KEY=VALUE",
    help="Override a scenario key; the value is read as TOML (e.g. reward.weights=[0.2,0.4,0.4]).",
)
force_option = click.option("--force", is_flag=True, help="Overwrite an existing output.")


def parse_range(text: str | None, what: str) -> list[int] | None:
    """Parse "0-9", "3" or "0,2,5-7" into a sorted list of integers."""
    if text is None:
        return None
    out: set[int] = set()
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            out.update(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    except ValueError:
        raise HybridnetError(f"{what} '{text}' must look like 0-9 or 0,2,5-7") from None
    return sorted(out)


@contextmanager
def progress_bar(total: int, desc: str, **postfix: Any) -> Iterator[Callable[[int], None]]:
    """A tqdm bar on stderr (hidden when stderr is not a terminal) fed by a callback."""
    with tqdm(total=total, desc=desc, unit="slot", disable=None, leave=False,
              dynamic_ncols=True) as bar:
        if postfix:
            bar.set_postfix(postfix)
        yield lambda _k: bar.update(1)
