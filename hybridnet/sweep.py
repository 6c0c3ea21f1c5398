"""Parameter sweeps on Dask: every grid cell and seed is one independent simulation.

A sweep takes a base scenario, a grid (``{"section.key": [v1, v2, ...]}``) and a
number of seeds, and runs the Cartesian product on a Dask cluster: an embedded
``LocalCluster`` by default, or any running cluster by its scheduler address,
so the same command scales from a laptop to many machines. A cell is exactly
what ``hybridnet run SCENARIO --set KEY=VALUE ... --seed S`` would simulate: the
grid values are applied to the base scenario first and "auto" references are
resolved per cell afterwards.

The output directory is the unit of resumption:

- ``sweep.toml`` records the settings, the grid swept so far and the base
  scenario (defaults filled in);
- ``results.csv`` gets one row per cell and seed, appended (and fsynced) the
  moment the cell finishes, so an interrupted sweep loses only the cells in
  flight, and a rerun of the same command skips every cell already done;
- ``.hybridnet`` marks it as a sweep hybridnet wrote: a sweep never writes into
  a directory of the user's, and ``--force`` resets only one of its own.

One process writes a sweep directory at a time: :func:`run_sweep` holds the
directory's claim (:mod:`hybridnet.outputs`) from before its first write to the
end of the Dask run, so a second writer is refused at once instead of
recording cells twice.

A cell that fails is recorded with its error and retried by the next rerun,
whose row then replaces the failure row: results.csv holds at most one row per
cell. The other cells carry on. Grid values, the policy and its checkpoint are
validated before anything is written or submitted, so a typo costs nothing.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import math
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from hybridnet.errors import HybridnetError, SystemFailure
from hybridnet.outputs import (
    MARKER,
    Claim,
    claimed,
    marker_kind,
    replace_file,
    stale_temporaries,
    write_marker,
)
from hybridnet.scenario import Scenario, from_dict, parse_value, to_dict, to_toml

if TYPE_CHECKING:
    from distributed import Client

RESULTS = "results.csv"
SETTINGS = "sweep.toml"
KIND = "sweep"
"""The kind of output a sweep directory is, in its marker and its claim."""
CONNECT_TIMEOUT_S = 10.0
"""How long to try reaching a ``--scheduler`` before giving up."""
ENGINES = ("des", "closed")
NAMED_POLICIES = ("hid", "oracle", "random", "local")

METRICS = {
    "reward": "reward per slot, eq. (17a), mean over slots",
    "qos": "Q = sum of the UEs' QoS per slot, eq. (15), mean over slots",
    "delay_s": "T = sum of the UEs' delays per slot, eq. (15), s, mean over slots",
    "energy_j": "E = total energy per slot, eq. (16), J, mean over slots",
    "qos_per_ue": "QoS per request, mean",
    "delay_per_ue_s": "delay per request (request to final content), s, mean",
    "delay_p95_s": "delay per request, s, 95th percentile",
    "energy_per_ue_j": "energy per request (the group's common energy shared out), J, mean",
    "t_wait_s": "time a request spent queueing, s, mean",
}
"""The metric columns of results.csv and what each one means."""

RUN_COLUMNS = ("seed", "policy", "engine", "slots")
TAIL_COLUMNS = ("elapsed_s", "error")

GRID_HELP = (
    "KEY=V1,V2,... with values read as TOML; when any value is a list, separate the values "
    "with ';' instead, e.g. 'reward.weights=[0.2,0.4,0.4];[0.6,0.2,0.2]'"
)


# --------------------------------------------------------------------------- the grid


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
    if isinstance(value, str):
        return value
    return _toml(value)


def _toml(value: Any) -> str:
    """One TOML literal; strings as JSON strings, whose escapes TOML shares."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


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
    if not seeds:
        raise HybridnetError("--seeds: give at least one seed")
    for key, values in grid.items():
        if not values:
            raise HybridnetError(f"--grid {key}: give at least one value")
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


def check_policy(policy: str, checkpoint: str | None = None) -> None:
    """Reject a policy or checkpoint no cell could use; whether a cell can run it is its business.

    A checkpoint (``checkpoint``, or a policy that is the path of one) is loaded
    here, so a missing or damaged file is one line before anything is written,
    not a failure row per cell. ``fixed:5,0`` is well formed yet infeasible in a
    cell with ``steps.x_max = 3``: that cell fails and is recorded, the others run.
    """
    named = policy in NAMED_POLICIES or re.fullmatch(r"fixed:\d+,\d+", policy) is not None
    if checkpoint is not None and policy != "hid":
        raise HybridnetError(f"--checkpoint applies only to --policy hid, not to --policy "
                             f"{policy}: drop --checkpoint {checkpoint} or use --policy hid")
    if not named and not (policy.endswith(".pt") or "/" in policy or os.sep in policy
                          or Path(policy).is_file()):
        raise HybridnetError(
            f"unknown policy '{policy}'; allowed: {', '.join(NAMED_POLICIES)}, fixed:X,Y or the "
            "path of a HID checkpoint"
        )
    if checkpoint is not None or not named:
        from hybridnet.rl.checkpoint import load_checkpoint

        load_checkpoint(policy if checkpoint is None else checkpoint)


# --------------------------------------------------------------------------- one cell (a task)


def run_cell(scenario_toml: str, source: str, overrides: dict[str, Any], seed: int, policy: str,
             engine: str, checkpoint: str | None) -> dict[str, float]:
    """Simulate one cell and return its metrics (the METRICS columns and ``elapsed_s``).

    This is the Dask task. It takes plain data only (the base scenario as TOML
    text) so that it pickles to a worker on another machine that merely has
    hybridnet installed. Torch is held to one thread: the cluster already runs
    one task per core, and more threads per task would only fight over them.
    """
    import torch

    from hybridnet.api import simulate
    from hybridnet.rundir import summarise

    torch.set_num_threads(1)
    start = time.perf_counter()
    scenario = from_dict(tomllib.loads(scenario_toml), source).with_values(overrides)
    result = simulate(scenario, policy, seed=seed, engine=engine, checkpoint=checkpoint)
    summary = summarise(result, scenario, policy, seed, engine)
    slots, totals, per_ue = summary["slots"], summary["totals"], summary["per_ue"]
    num_ues = scenario.network.num_ues
    return {
        "reward": summary["per_slot_reward"]["mean"],
        "qos": totals["qos"] / slots,
        "delay_s": totals["delay_s"] / slots,
        "energy_j": totals["energy_j"] / slots,
        "qos_per_ue": per_ue["qos"]["mean"],
        "delay_per_ue_s": per_ue["delay_s"]["mean"],
        "delay_p95_s": per_ue["delay_s"]["p95"],
        "energy_per_ue_j": totals["energy_j"] / (slots * num_ues),
        "t_wait_s": per_ue["t_wait_s"]["mean"],
        "elapsed_s": time.perf_counter() - start,
    }


# --------------------------------------------------------------------------- the directory


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
        return result_columns(list(self.grid))


def result_columns(grid_keys: Sequence[str]) -> tuple[str, ...]:
    """results.csv's header: the grid keys, the run, the METRICS, the time taken and the error."""
    return (*grid_keys, *RUN_COLUMNS, *METRICS, *TAIL_COLUMNS)


def _settings(scenario: Scenario, policy: str, engine: str,
              checkpoint: str | None) -> dict[str, Any]:
    """What must match for new rows to sit beside old ones in one results.csv."""
    return {"policy": policy, "engine": engine, "checkpoint": checkpoint or "",
            "scenario": to_dict(scenario)}


def _flat(table: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {f"{s}.{k}": v for s, keys in table.items() for k, v in keys.items()}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable names of the settings that differ between two sweeps."""
    out = [name for name in ("policy", "engine", "checkpoint") if old.get(name) != new[name]]
    old_scenario, new_scenario = _flat(old.get("scenario", {})), _flat(new["scenario"])
    out += [f"scenario key {key}" for key in new_scenario
            if old_scenario.get(key) != new_scenario[key]]
    return out


def _read_settings(out: Path) -> dict[str, Any]:
    path = out / SETTINGS
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        settings = dict(raw["sweep"])
        settings["scenario"] = to_dict(from_dict(raw["scenario"], str(path)))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, HybridnetError) as err:
        raise HybridnetError(
            f"{path}: unreadable ({err}); pass --force to start the sweep afresh"
        ) from None
    return settings


def _check_out(out: Path) -> None:
    """Refuse an ``out`` that is neither new, nor empty, nor a sweep hybridnet wrote.

    A sweep writes results.csv, sweep.toml and its marker into ``out``: never
    into a directory of the user's or another kind of hybridnet output,
    ``--force`` or not.
    """
    if out.exists() and not out.is_dir():
        raise HybridnetError(f"{out}: exists and is not a directory; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    kind = marker_kind(out)
    if kind is None:
        raise HybridnetError(
            f"{out}: not a sweep directory (no {MARKER} marker, nor {RESULTS} with {SETTINGS}); "
            "a sweep writes only into a new or empty directory or one of its own: choose "
            "another --out"
        )
    if kind != KIND:
        raise HybridnetError(f"{out}: holds a hybridnet {kind} output, not a sweep; choose "
                             "another --out")


def _read_rows(path: Path, grid_keys: Sequence[str]) -> list[list[str]]:
    """results.csv's rows, its header checked; a last row torn by a crash mid-write is left out.

    Rows never span lines (errors are written on one), so everything after the
    last newline is a row cut short.
    """
    columns = result_columns(grid_keys)
    try:
        text = path.read_text(encoding="utf-8")
        reader = csv.reader(io.StringIO(text[: text.rfind("\n") + 1]))
        if tuple(next(reader, ())) != columns:
            raise HybridnetError(
                f"{path}: its columns are not those this version writes; pass --force to start "
                "the sweep afresh or choose another --out"
            )
        rows = []
        for row in reader:
            if len(row) != len(columns):
                raise HybridnetError(
                    f"{path}: line {reader.line_num} has {len(row)} fields, not {len(columns)}; "
                    "pass --force to start the sweep afresh or choose another --out"
                )
            rows.append(row)
    except (UnicodeDecodeError, csv.Error) as err:
        raise HybridnetError(f"{path}: unreadable ({err}); pass --force to start the sweep "
                             "afresh or choose another --out") from None
    return rows


def _done_keys(path: Path, grid_keys: Sequence[str]) -> set[tuple[str, ...]]:
    """Keys of the cells with a successful row in results.csv."""
    return {tuple(row[: len(grid_keys) + 1]) for row in _read_rows(path, grid_keys)
            if not row[-1]}


def _merge(old: Sequence[Any], new: Sequence[Any]) -> list[Any]:
    """``old`` then the values of ``new`` not yet seen, compared as results.csv texts."""
    out, seen = [], set()
    for value in (*old, *new):
        if (text := value_text(value)) not in seen:
            seen.add(text)
            out.append(value)
    return out


def _with_state(plan: SweepPlan) -> SweepPlan:
    """``plan`` against what its directory holds now: fresh or extended, and its pending cells."""
    out = plan.out
    results, toml_path = out / RESULTS, out / SETTINGS
    if plan.force or not (results.exists() or toml_path.exists()):
        return replace(plan, recorded_grid=plan.grid, recorded_seeds=plan.seeds,
                       pending=plan.cells, fresh=True)
    if not toml_path.exists():
        raise HybridnetError(f"{results}: exists without {SETTINGS}; pass --force to replace it")
    old = _read_settings(out)
    differ = _differences(old, _settings(plan.scenario, plan.policy, plan.engine,
                                         plan.checkpoint))
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
    done = _done_keys(results, list(plan.grid)) if results.exists() else set()
    return replace(
        plan, recorded_grid={key: _merge(old_grid[key], plan.grid[key]) for key in plan.grid},
        recorded_seeds=tuple(_merge(old.get("seeds", []), plan.seeds)),
        pending=tuple(c for c in plan.cells if c.key not in done), fresh=False,
    )


def plan_sweep(scenario: Scenario, grid: Mapping[str, Sequence[Any]], out: str | Path, *,
               policy: str = "hid", engine: str = "des", seeds: Sequence[int] | None = None,
               checkpoint: str | Path | None = None, force: bool = False) -> SweepPlan:
    """Validate a sweep and find which of its cells ``out`` still lacks; nothing is written.

    ``seeds`` defaults to the scenario's ``sim.seed``. The checkpoint, if any, is
    loaded to check it. An ``out`` that is not new, empty or a sweep hybridnet
    wrote is refused, ``force`` or not. One that holds a sweep of another base
    scenario, policy, engine or grid keys is refused unless ``force``, which
    starts it afresh; one with the same settings is extended, its finished cells
    skipped. :func:`run_sweep` reads the directory again under its claim, so a
    plan made before another process wrote there still records no cell twice.
    """
    out = Path(out)
    if engine not in ENGINES:
        raise HybridnetError(f"unknown engine '{engine}'; allowed: {', '.join(ENGINES)}")
    _check_out(out)
    seeds = tuple(seeds) if seeds is not None else (scenario.sim.seed,)
    cells = tuple(expand_grid(scenario, grid, seeds))
    canonical = {key: _merge([], [cell.overrides[key] for cell in cells]) for key in grid}
    ckpt = None if checkpoint is None else str(checkpoint)
    check_policy(policy, ckpt)
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
    _check_out(plan.out)
    return _with_state(plan)


def settings_toml(plan: SweepPlan) -> str:
    """sweep.toml: the settings, the grid swept so far, and the base scenario."""
    lines = [
        "# hybridnet sweep: results.csv holds one row per grid cell and seed. A row is the",
        "# [scenario] below with the row's grid values applied (\"auto\" references then",
        "# resolved), simulated with the row's seed, as `hybridnet run --set ... --seed` would.",
        "[sweep]",
        f"source = {_toml(plan.scenario.source)}",
        f"policy = {_toml(plan.policy)}",
        f"engine = {_toml(plan.engine)}",
        f"checkpoint = {_toml(plan.checkpoint or '')}",
        f"seeds = {_toml(list(plan.recorded_seeds))}",
        "",
        "[sweep.grid]",
        *(f"{_toml(key)} = {_toml(values)}" for key, values in plan.recorded_grid.items()),
    ]
    for section, table in to_dict(plan.scenario).items():
        lines += ["", f"[scenario.{section}]"]
        lines += [f"{key} = {_toml(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- running


@dataclass(frozen=True)
class SweepReport:
    """What one call of :func:`run_sweep` did."""

    results: Path
    ran: int
    """Rows written: one per cell run."""
    failed: int
    """Of those, the rows of cells that failed (their error in the error column)."""
    skipped: int
    """Cells not run, done before."""

    @property
    def succeeded(self) -> int:
        """Rows written with the cell's metrics."""
        return self.ran - self.failed


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def check_scheduler(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Reach the Dask scheduler at ``address`` within ``timeout`` s, or raise one line.

    For the command line, before anything is written: a bare connection (with
    the security of dask's config, as a client's), closed at once. A failed
    ``Client`` would instead print a traceback as it is torn down at exit.
    """
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def probe() -> None:
        comm = await connect(address, timeout=timeout,
                             **Security().get_connection_args("client"))
        await comm.close()

    try:
        asyncio.run(probe())
    except ValueError as err:
        raise HybridnetError(f"--scheduler {address}: not a Dask scheduler address "
                             f"({_one_line(err)})") from None
    except (OSError, TimeoutError) as err:
        raise SystemFailure(f"--scheduler {address}: cannot connect ({_one_line(err)}); is the "
                            "scheduler running at that address?") from None


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None,
                connect_timeout: float = CONNECT_TIMEOUT_S) -> Iterator[Client]:
    """A client of the cluster at ``scheduler``, or of an embedded local one.

    The embedded cluster runs ``workers`` processes (default: one per CPU) of
    one thread each on 127.0.0.1 with no dashboard: the simulations are
    CPU-bound Python, so processes, not threads, give the parallelism. Its logs
    are silenced: the user does not manage that cluster, and a failing cell's
    error reaches results.csv (and the command's output) anyway.
    """
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=connect_timeout)
        except ValueError as err:
            raise HybridnetError(f"--scheduler {scheduler}: not a Dask scheduler address "
                                 f"({_one_line(err)})") from None
        except (OSError, TimeoutError) as err:
            raise SystemFailure(f"--scheduler {scheduler}: cannot connect "
                                f"({_one_line(err)})") from None
        with client:
            yield client
        return
    with (LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                       processes=True, host="127.0.0.1", dashboard_address=None,
                       silence_logs=logging.CRITICAL) as cluster,
          Client(cluster) as client):
        yield client


def _csv_line(values: Sequence[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def _metric_text(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else str(float(value))


def _row(plan: SweepPlan, cell: Cell, metrics: Mapping[str, float] | None,
         error: str) -> list[str]:
    """One results.csv row; a failed cell has empty metrics and its error, on one line."""
    values = [value_text(v) for v in cell.overrides.values()]
    values += [str(cell.seed), plan.policy, plan.engine, str(cell.slots)]
    names = (*METRICS, "elapsed_s")
    values += [_metric_text(metrics[n]) if metrics else "" for n in names]
    return [*values, " ".join(error.split())]


def _kept_rows(path: Path, plan: SweepPlan) -> list[list[str]]:
    """results.csv's rows that stay as the plan runs: at most one per cell, none of a pending one.

    A pending cell's failure row goes, as the row of its new run takes its place.
    Of the duplicates an older version left, a success wins over failures and
    the latest failure over earlier ones.
    """
    size = len(plan.grid) + 1
    pending = {cell.key for cell in plan.pending}
    kept: dict[tuple[str, ...], list[str]] = {}
    for row in _read_rows(path, list(plan.grid)):
        key = tuple(row[:size])
        if key not in pending and (key not in kept or kept[key][-1]):
            kept[key] = row
    return list(kept.values())


def _prepare_directory(plan: SweepPlan) -> Path:
    """Write the marker, sweep.toml and results.csv without the rows the run replaces.

    Each step leaves a valid directory should the process die after it: a reset
    drops the old rows before the new settings go in, and results.csv is
    rewritten atomically (a torn last row cut, the pending cells' failure rows
    dropped), so every finished cell is in it exactly once whenever it stops.
    The temporaries of a writer killed mid-rename go too: the claim proves it gone.
    """
    out = plan.out
    out.mkdir(exist_ok=True)
    for stale in (*stale_temporaries(out / RESULTS), *stale_temporaries(out / SETTINGS)):
        if stale.is_file():
            stale.unlink()
    if not (out / MARKER).is_file():
        write_marker(out, KIND)
    results = out / RESULTS
    if plan.fresh:
        results.unlink(missing_ok=True)
    replace_file(out / SETTINGS,
                 lambda tmp: tmp.write_text(settings_toml(plan), encoding="utf-8"))
    rows = _kept_rows(results, plan) if results.exists() else []
    text = "".join(_csv_line(row) for row in (plan.columns, *rows))
    replace_file(results, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return results


def run_sweep(plan: SweepPlan, *, scheduler: str | None = None, workers: int | None = None,
              on_row: Callable[[dict[str, str]], None] | None = None, held: Claim | None = None,
              connect_timeout: float = CONNECT_TIMEOUT_S) -> SweepReport:
    """Run the plan's pending cells on Dask, appending each row the moment its cell finishes.

    ``held`` is the caller's claim of ``plan.out`` (kind "sweep"); without it the
    directory is claimed here, and either way held to the end of the run, so a
    second writer is refused at once (:class:`SystemFailure`). Under the claim
    the plan is settled (:func:`settle_plan`). The cluster is reached before
    anything is written, so an unreachable ``scheduler`` (tried for
    ``connect_timeout`` s) leaves the directory as it was; no cluster is started
    when nothing is pending. ``on_row`` sees every row written (as
    ``{column: text}``), e.g. to advance a progress bar.
    """
    from distributed import as_completed

    with ExitStack() as stack:
        if held is None:
            held = stack.enter_context(claimed(plan.out, kind=KIND, force=plan.force))
        plan = settle_plan(plan, held)
        skipped = len(plan.cells) - len(plan.pending)
        if not plan.pending:
            return SweepReport(_prepare_directory(plan), ran=0, failed=0, skipped=skipped)
        client = stack.enter_context(dask_client(scheduler, workers, connect_timeout))
        results = _prepare_directory(plan)
        base_toml = to_toml(plan.scenario)
        failed = 0
        with results.open("a", encoding="utf-8") as f:
            futures = {
                client.submit(run_cell, base_toml, plan.scenario.source, cell.overrides,
                              cell.seed, plan.policy, plan.engine, plan.checkpoint,
                              pure=False): cell
                for cell in plan.pending
            }
            for future in as_completed(futures):
                try:
                    metrics, error = future.result(), ""
                except Exception as err:  # whatever a cell raises is its result, not ours
                    metrics, error = None, f"{type(err).__name__}: {err}"
                    failed += 1
                row = _row(plan, futures[future], metrics, error)
                f.write(_csv_line(row))
                f.flush()
                os.fsync(f.fileno())
                future.release()
                if on_row is not None:
                    on_row(dict(zip(plan.columns, row, strict=True)))
    return SweepReport(results, ran=len(plan.pending), failed=failed, skipped=skipped)


def read_results(path: str | Path) -> pd.DataFrame:
    """results.csv of a sweep (the directory or the file) as a DataFrame; failed rows dropped.

    Each cell counts once, even in a file an older version wrote a cell twice
    into, and a row being written as it is read (torn) is left out. Grid values
    stay as written: a list value such as a reward-weight triple is the text
    "[0.2, 0.4, 0.4]", one category of the sweep.
    """
    path = Path(path)
    csv_path = path / RESULTS if path.is_dir() else path
    if not csv_path.is_file():
        raise HybridnetError(f"{csv_path}: missing; is {path} a directory of `hybridnet sweep`?")
    try:
        text = csv_path.read_text(encoding="utf-8")
        frame = pd.read_csv(io.StringIO(text[: text.rfind("\n") + 1]), keep_default_na=False,
                            na_values=[""])
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise HybridnetError(
            f"{csv_path}: not a readable results.csv ({_one_line(err)})") from None
    if "error" in frame:
        frame = frame[frame["error"].isna()].drop(columns="error")
    if "seed" in frame:
        key = list(frame.columns[: frame.columns.get_loc("seed") + 1])
        frame = frame.drop_duplicates(subset=key)
    return frame.reset_index(drop=True)
