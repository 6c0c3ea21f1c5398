"""Planning a sweep: what it runs, checked before anything is written, against what its
directory already holds.

A plan is made without the directory's lock, so that every mistake is caught
before anything is claimed or written; :func:`settle_plan` reads the directory
again under the lock, so a plan made before another process wrote there still
records no cell twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import resolve_references
from hybridnet.outputs import Claim
from hybridnet.registry import ENGINES
from hybridnet.scenario import Scenario, changed_keys, from_dict, to_dict, toml_value
from hybridnet.sweep.files import (
    KIND,
    RESULTS,
    SETTINGS,
    check_out,
    done_keys,
    read_settings,
    result_columns,
)
from hybridnet.sweep.grid import Cell, expand_grid, merge_values
from hybridnet.sweep.preflight import check_cells


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep and what its output directory held when it was planned."""

    out: Path
    scenario: Scenario
    """The base scenario, unresolved: every cell resolves its own "auto" references."""
    grid: dict[str, list[Any]]
    """The values this plan sweeps, canonical types, per key."""
    seeds: tuple[int, ...]
    """The seeds this plan runs each grid cell with."""
    recorded_grid: dict[str, list[Any]]
    """Every value ever swept into ``out`` (this grid merged into the recorded one)."""
    recorded_seeds: tuple[int, ...]
    """Every seed ever run in ``out``."""
    policy: str
    engine: str
    checkpoint: str | None
    force: bool
    """Reset ``out`` (only ever a sweep hybridnet wrote) instead of extending it."""
    cells: tuple[Cell, ...]
    pending: tuple[Cell, ...]
    """The cells with no successful row in results.csv yet."""
    fresh: bool
    """Start results.csv anew (there is none, or ``force`` replaces it)."""

    @property
    def columns(self) -> tuple[str, ...]:
        """The header of results.csv."""
        return result_columns(list(self.grid), self.policy)


def _settings(plan: SweepPlan) -> dict[str, Any]:
    """What must match for new rows to sit beside old ones in one results.csv."""
    return {"policy": plan.policy, "engine": plan.engine, "checkpoint": plan.checkpoint or "",
            "scenario": to_dict(plan.scenario)}


def _derived(table: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """A base scenario (as :func:`to_dict` writes it) with its "auto" keys derived.

    Only for comparing: a key whose default became "auto" (or the reverse)
    between two versions is no change where it derives the same value. Keys
    this version's schema lacks are left out, as :func:`changed_keys` ignores them.
    """
    schema = to_dict(Scenario())
    known = {section: {k: v for k, v in values.items() if k in schema.get(section, {})}
             for section, values in table.items() if section in schema}
    try:
        return to_dict(resolve_references(from_dict(known, "<recorded sweep>")))
    except HybridnetError:
        return {section: dict(values) for section, values in table.items()}


def changed_settings(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable names of the settings that differ between two sweeps' :func:`_settings`.

    A scenario key is named by its dotted ``section.key``; one that only
    ``old`` has (written by another version) does not count, as the scenario
    read back has every key of this version's schema. Scenarios are compared
    with their "auto" keys derived (:func:`_derived`).
    """
    out = [name for name in ("policy", "engine", "checkpoint") if old.get(name) != new[name]]
    return out + [f"scenario key {key}"
                  for key in changed_keys(_derived(old.get("scenario", {})),
                                          _derived(new["scenario"]))]


def _with_state(plan: SweepPlan) -> SweepPlan:
    """``plan`` against what its directory holds now: fresh or extended, and its pending cells."""
    out = plan.out
    results, toml_path = out / RESULTS, out / SETTINGS
    if plan.force or not (results.exists() or toml_path.exists()):
        return replace(plan, recorded_grid=plan.grid, recorded_seeds=plan.seeds,
                       pending=plan.cells, fresh=True)
    if not toml_path.exists():
        raise HybridnetError(f"{results}: exists without {SETTINGS}; pass --force to replace it")
    old = read_settings(out)
    differ = changed_settings(old, _settings(plan))
    if differ:
        raise HybridnetError(
            f"{out}: holds a sweep with another {', '.join(differ[:3])}"
            f"{' ...' if len(differ) > 3 else ''}; pass --force to start it afresh or "
            "choose another --out"
        )
    old_grid = old.get("grid", {})
    if list(old_grid) != list(plan.grid):
        raise HybridnetError(
            f"{out}: holds a sweep over {', '.join(old_grid) or 'nothing'}, not over "
            f"{', '.join(plan.grid)}; pass --force to start it afresh or choose another --out"
        )
    done = done_keys(results, list(plan.grid), plan.policy) if results.exists() else set()
    return replace(
        plan,
        recorded_grid={key: merge_values(old_grid[key], plan.grid[key]) for key in plan.grid},
        recorded_seeds=tuple(merge_values(old.get("seeds", []), plan.seeds)),
        pending=tuple(c for c in plan.cells if c.key not in done), fresh=False,
    )


def plan_sweep(scenario: Scenario, grid: Mapping[str, Sequence[Any]], out: str | Path, *,
               policy: str = "hid", engine: str = "des", seeds: Sequence[int] | None = None,
               checkpoint: str | Path | None = None, force: bool = False) -> SweepPlan:
    """Validate a sweep and find which of its cells ``out`` still lacks; nothing is written.

    ``seeds`` defaults to the scenario's ``sim.seed``. Every distinct grid cell
    is checked as a run would be (:func:`~hybridnet.sweep.preflight.check_cells`):
    its memory, and its policy built, its checkpoint loaded. An ``out`` that is
    not new, empty or a sweep hybridnet wrote is refused, ``force`` or not. One
    that holds a sweep of another base scenario, policy, engine or grid keys is refused unless
    ``force``, which starts it afresh; one with the same settings is extended,
    its finished cells skipped. :func:`~hybridnet.sweep.run.run_sweep` settles
    the plan again under the directory's claim.
    """
    out = Path(out)
    if engine not in ENGINES:
        raise HybridnetError(f"unknown engine '{engine}'; allowed: {', '.join(ENGINES)}")
    check_out(out)
    scenario = scenario.with_values({})  # what a resolved base derived is "auto" again
    seeds = tuple(seeds) if seeds is not None else (scenario.sim.seed,)
    cells = tuple(expand_grid(scenario, grid, seeds))
    canonical = {key: merge_values([], [cell.overrides[key] for cell in cells]) for key in grid}
    ckpt = None if checkpoint is None else str(checkpoint)
    check_cells(scenario, cells, policy, ckpt)
    return _with_state(SweepPlan(
        out=out, scenario=scenario, grid=canonical, seeds=seeds, recorded_grid=canonical,
        recorded_seeds=seeds, policy=policy, engine=engine, checkpoint=ckpt, force=force,
        cells=cells, pending=cells, fresh=True,
    ))


def settle_plan(plan: SweepPlan, held: Claim) -> SweepPlan:
    """``plan`` as its directory stands now that ``held``, the claim of ``plan.out``, locks it.

    A plan is made without the lock, so another process may have written the
    directory since: under the claim it is checked again (with ``force``, that it
    is a sweep hybridnet wrote holding nothing else) and its finished cells read
    again, so none is run twice.
    """
    if held.target != plan.out or held.kind != KIND:
        raise ValueError(f"the claim of {held.target} ({held.kind}) is not that of the sweep "
                         f"{plan.out}")
    if plan.force:
        held.check_replaceable(directory=True)
    check_out(plan.out)
    return _with_state(plan)


def settings_toml(plan: SweepPlan) -> str:
    """sweep.toml: the settings, the grid swept so far, and the base scenario."""
    lines = [
        "# hybridnet sweep: results.csv holds one row per grid cell and seed. A row is the",
        "# [scenario] below with the row's grid values applied (\"auto\" references then",
        "# resolved), simulated with the row's seed, as `hybridnet run --set ... --seed` would.",
        "[sweep]",
        f"source = {toml_value(plan.scenario.source)}",
        f"policy = {toml_value(plan.policy)}",
        f"engine = {toml_value(plan.engine)}",
        f"checkpoint = {toml_value(plan.checkpoint or '')}",
        f"seeds = {toml_value(list(plan.recorded_seeds))}",
        "",
        "[sweep.grid]",
        *(f"{toml_value(key)} = {toml_value(values)}"
          for key, values in plan.recorded_grid.items()),
    ]
    for section, table in to_dict(plan.scenario).items():
        lines += ["", f"[scenario.{section}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"
