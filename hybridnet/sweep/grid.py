"""The grid of a sweep: ``--grid`` texts read, every combination checked, one cell per seed.

A cell is identified in results.csv by its grid values written as text and its
seed, so the text of a value is part of the format: it is what a rerun
matches to find the cells already done.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hybridnet.errors import HybridnetError
from hybridnet.scenario import Scenario, parse_value, toml_value

GRID_HELP = (
    "KEY=V1,V2,... with values read as TOML; when any value is a list, separate the values "
    "with ';' instead, e.g. 'reward.weights=[0.2,0.4,0.4];[0.6,0.2,0.2]'"
)


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """Read ``--grid`` texts into ``{"section.key": [values]}``, in the order given.

    Values are separated by ``,`` unless the text holds a ``;`` or a ``[`` (a
    list value, whose own commas must not split it): then by ``;``. Each value
    is read as TOML, like ``--set``; a bare word is a string.
    """
    grid: dict[str, list[Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key or not text:
            raise HybridnetError(f"--grid '{item}' must look like {GRID_HELP}")
        if key in grid:
            raise HybridnetError(f"--grid {key} is given twice; list all its values in one --grid")
        separator = ";" if ";" in text or "[" in text else ","
        pieces = [piece.strip() for piece in text.split(separator)]
        if not all(pieces):
            raise HybridnetError(f"--grid {key}: empty value in '{text}' (split on '{separator}')")
        grid[key] = [parse_value(piece) for piece in pieces]
    return grid


def value_text(value: Any) -> str:
    """A grid value as a results.csv cell: TOML for numbers, booleans and lists; strings bare.

    Floats keep every digit (``repr``), so the cell text is a faithful key for
    finding the cell again on a rerun.
    """
    return value if isinstance(value, str) else toml_value(value)


@dataclass(frozen=True)
class Cell:
    """One simulation of the sweep: grid values applied to the base scenario, and a seed."""

    overrides: dict[str, Any]
    """``{"section.key": value}`` in the scenario's canonical types."""
    seed: int
    slots: int
    """Slots the cell simulates (its scenario's ``sim.slots``)."""

    @property
    def key(self) -> tuple[str, ...]:
        """What identifies the cell in results.csv: its grid values' texts and its seed."""
        return (*(value_text(v) for v in self.overrides.values()), str(self.seed))


def _label(overrides: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value_text(value)}" for key, value in overrides.items())


MAX_CELLS = 100_000
"""The most runs (grid cells x seeds) one sweep may plan: each is a row and a Dask task."""


def expand_grid(scenario: Scenario, grid: Mapping[str, Sequence[Any]],
                seeds: Sequence[int]) -> list[Cell]:
    """Validate every combination of grid values against the schema; return the cells.

    Each combination is applied to the base scenario and checked like a
    scenario file (ranges and cross-key rules), so a bad key or value fails
    here, naming the key, before any cell is submitted.
    """
    if not grid:
        raise HybridnetError("--grid: give at least one KEY=V1,V2,...")
    if "sim.seed" in grid:
        raise HybridnetError("--grid sim.seed: sweep seeds with --seeds, not with the grid")
    if "sim.policy" in grid:
        raise HybridnetError("--grid sim.policy: a sweep runs the one --policy in every cell; "
                             "compare policies with `hybridnet compare SCENARIO --policy A "
                             "--policy B ...`")
    if "sim.engine" in grid:
        raise HybridnetError("--grid sim.engine: a sweep runs the one --engine in every cell; "
                             "sweep each engine into its own directory")
    if not seeds:
        raise HybridnetError("--seeds: give at least one seed")
    for key, values in grid.items():
        if not values:
            raise HybridnetError(f"--grid {key}: give at least one value")
    count = math.prod(len(values) for values in grid.values()) * len(seeds)
    if count > MAX_CELLS:
        raise HybridnetError(f"--grid x --seeds: {count:,} runs; a sweep runs at most "
                             f"{MAX_CELLS:,}: split it into several sweeps")
    cells: list[Cell] = []
    for combination in itertools.product(*grid.values()):
        raw = dict(zip(grid, combination, strict=True))
        checked = scenario.replace(source=f"--grid ({_label(raw)})").with_values(raw)
        canonical = {}
        for dotted in grid:
            section, key = dotted.split(".", 1)
            value = getattr(getattr(checked, section), key)
            canonical[dotted] = list(value) if isinstance(value, tuple) else value
        cells.extend(Cell(canonical, seed, checked.sim.slots) for seed in seeds)
    keys = [cell.key for cell in cells]
    if len(set(keys)) != len(keys):
        for key, values in grid.items():
            texts = [value_text(v) for v in values]
            repeated = next((t for t in texts if texts.count(t) > 1), None)
            if repeated is not None:
                raise HybridnetError(f"--grid {key}: the value {repeated} is given twice")
        raise HybridnetError(f"--seeds: a seed is given twice in {list(seeds)}")
    return cells


def merge_values(old: Sequence[Any], new: Sequence[Any]) -> list[Any]:
    """``old`` then the values of ``new`` not yet seen, compared as results.csv texts."""
    out, seen = [], set()
    for value in (*old, *new):
        if (text := value_text(value)) not in seen:
            seen.add(text)
            out.append(value)
    return out
