"""Every cell of a sweep checked as `hybridnet run` would check it, before anything is dispatched.

A sweep's cells differ from its base scenario (a grid over ``network.num_ues``
is the usual one), so checking the base says little: a checkpoint trained for
the cells' 4 UEs would be refused against the base's 6, and a cell too big for
the memory would reach a worker and die there (a Dask worker killed by a
MemoryError is retried and restarted, and the sweep never ends). Each distinct
grid cell is checked here instead: its memory (one cell over is one line, the
whole sweep refused) and its policy (refused when no cell can run it; a cell
that alone cannot is that cell's failure row, as before).
"""

from __future__ import annotations

from collections.abc import Sequence

from hybridnet.api import check_memory
from hybridnet.errors import HybridnetError, SystemFailure
from hybridnet.model.reference import resolve_references
from hybridnet.scenario import Scenario
from hybridnet.sweep.cell import check_policy
from hybridnet.sweep.grid import Cell, value_text


def cell_label(cell: Cell) -> str:
    """The cell as the ``--set`` values that make it."""
    return " ".join(f"{key}={value_text(value)}" for key, value in cell.overrides.items())


def check_cells(scenario: Scenario, cells: Sequence[Cell], policy: str,
                checkpoint: str | None) -> None:
    """Refuse a sweep a cell of which cannot fit in memory, or whose policy no cell can run."""
    distinct: dict[tuple[str, ...], Cell] = {}
    for cell in cells:
        distinct.setdefault(cell.key[:-1], cell)
    refused: list[tuple[Cell, HybridnetError]] = []
    for cell in distinct.values():
        resolved = resolve_references(scenario.with_values(cell.overrides))
        try:
            check_memory(resolved, checkpoint or policy, cell.slots)
        except SystemFailure as err:
            raise SystemFailure(f"grid cell {cell_label(cell)}: {err}") from None
        try:
            check_policy(resolved, policy, checkpoint)
        except HybridnetError as err:
            refused.append((cell, err))
    if refused and len(refused) == len(distinct):
        cell, err = refused[0]
        raise HybridnetError(f"{err}" if len(distinct) == 1 else
                             f"no grid cell can run the policy; {cell_label(cell)}: {err}")
