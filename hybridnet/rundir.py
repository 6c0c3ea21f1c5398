"""The run directory: config.toml, the ues/slots/events/groups/queues CSVs (prompts.csv
where phi comes from prompt texts), summary.json, timeline.png and backlog.png.

Its layout is a stable contract (docs/outputs.md): downstream scripts read it
with nothing but pandas. CSVs are written with full float precision so a rerun
with the same seed is byte-identical and every number can be checked against
the closed form.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import re
import shlex
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hybridnet.errors import HybridnetError
from hybridnet.metrics import run_metrics, ue_energies
from hybridnet.model.reference import resolve_references
from hybridnet.outputs import Claim
from hybridnet.registry import POLICIES
from hybridnet.scenario import ORIGIN_PREFIX, Scenario, to_toml
from hybridnet.sim.trace import EVENT_COLUMNS, QUEUE_COLUMNS, UE_COLUMNS, RunResult
from hybridnet.tables import read_table

RUN_TABLES = {"ues.csv": UE_COLUMNS, "events.csv": EVENT_COLUMNS, "queues.csv": QUEUE_COLUMNS}
"""The run directory's tables a figure reads back, and the columns each must have."""
TEXT_COLUMNS = ("phase",)
"""The only columns of those tables that hold text; every other one is numbers."""

PERCENTILES = (50, 90, 95, 99)


def default_run_dir(scenario: Scenario, policy_name: str, seed: int, root: str = "runs") -> Path:
    """``runs/{scenario}__{policy}__{seed}__{time}``: every run traceable to its inputs.

    Claim it with :func:`hybridnet.outputs.claim_fresh`, which moves on to
    ``-2``, ``-3``, ... when another run took the name in the same second.
    """
    stem = Path(scenario.source).stem or "scenario"
    safe_policy = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(policy_name).stem if "/" in policy_name
                         else policy_name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path(root) / f"{stem}__{safe_policy}__{seed}__{stamp}"


def effective_scenario(scenario: Scenario, *, policy: str, seed: int, slots: int,
                       engine: str, sample: bool = False) -> Scenario:
    """``scenario`` with what a run actually used written into ``[sim]``.

    Its config.toml then reproduces the run on its own, whatever flags made it.
    """
    values = {"sim.policy": policy, "sim.seed": seed, "sim.slots": slots, "sim.engine": engine,
              "sim.sample": sample,
              "train.episode_slots": scenario.train.episode_slots}  # the trained controller's
    return dataclasses.replace(resolve_references(scenario.with_values(values)),
                               origin=scenario.origin)


def recorded_policy_name(policy: str, checkpoint: Path | None) -> str:
    """The policy as config.toml records it: a checkpoint by its absolute path.

    A relative path meant the directory the first command ran in; absolute, the
    config reruns from any working directory.
    """
    if checkpoint is not None and policy == "hid":
        return str(checkpoint.absolute())
    if policy in POLICIES or policy.startswith("fixed:"):
        return policy
    try:
        return str(Path(policy).absolute()) if Path(policy).is_file() else policy
    except OSError:  # a name too long for a path: make_policy says what is wrong with it
        return policy


def config_toml(scenario: Scenario, origin: str) -> str:
    """A run's config.toml: the resolved scenario under a header that reruns do not change."""
    return to_toml(scenario, header=[
        "hybridnet run configuration, every key resolved: `hybridnet run config.toml` "
        "reproduces this run.",
        f"{ORIGIN_PREFIX[2:]}{origin}",
    ])


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("hybridnet", "simpy", "numpy", "pandas", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def _stats(values: pd.Series) -> dict[str, float]:
    arr = values.to_numpy(dtype=float)
    if arr.size == 0:
        return {}
    out = {"mean": float(arr.mean()), "min": float(arr.min()), "max": float(arr.max())}
    out.update({f"p{p}": float(np.percentile(arr, p)) for p in PERCENTILES})
    return out


def summarise(result: RunResult, scenario: Scenario, policy_name: str, seed: int,
              engine: str, sample: bool = False, origin: str = "") -> dict[str, Any]:
    """Totals, means and percentiles of a run, and what produced it.

    ``metrics`` are :func:`hybridnet.metrics.run_metrics`, the numbers a sweep
    records for the same cell, and a UE's energy in ``per_ue`` includes its
    share of its group's common phase as it does there, so the two never
    disagree. ``origin`` is the command that first made the configuration; its
    scenario file is reported as ``scenario``, so a rerun of the run's
    config.toml writes the same summary.
    """
    ues, slots = result.ues, result.slots
    origin = origin or scenario.source
    return {
        "scenario": shlex.split(origin)[0] if origin.strip() else scenario.source,
        "origin": origin,
        "policy": policy_name,
        "actions": "sampled" if sample else "greedy",
        "seed": seed,
        "engine": engine,
        "slots": int(len(slots)),
        "num_ues": scenario.network.num_ues,
        "totals": {
            "qos": float(slots["qos"].sum()),
            "delay_s": float(slots["delay_s"].sum()),
            "energy_j": float(slots["energy_j"].sum()),
            "e_common_j": float(slots["e_common_j"].sum()),
            "reward": float(slots["reward"].sum()),
        },
        "metrics": run_metrics(result),
        "per_slot_reward": _stats(slots["reward"]),
        "per_ue": {
            "delay_s": _stats(ues["delay_s"]),
            "t_wait_s": _stats(ues["t_wait_s"]),
            "qos": _stats(ues["qos"]),
            "energy_j": _stats(ue_energies(result)),
            "x": _stats(ues["x"]),
            "y": _stats(ues["y"]),
            "z": _stats(ues["z"]),
        },
        "versions": _versions(),
    }


def _check_finite(result: RunResult) -> None:
    """Refuse a run whose traces hold NaN or inf: they would be written as a success.

    No run of a valid scenario produces them; an extreme combination of values
    could, and its summary.json would then not even be JSON.
    """
    for name in ("ues", "slots", "events", "groups", "queues"):
        numbers = getattr(result, name).select_dtypes("number")
        finite = np.isfinite(numbers.to_numpy(dtype=float)).all(axis=0)
        if not finite.all():
            column = numbers.columns[int(np.flatnonzero(~finite)[0])]
            raise HybridnetError(f"the simulation gave non-finite values (NaN or inf) in "
                                 f"{name}.csv column {column}; nothing written: check the "
                                 "scenario's values")


def write_run_dir(held: Claim, scenario: Scenario, result: RunResult, policy_name: str,
                  seed: int, engine: str = "des", plot: bool = True, sample: bool = False,
                  origin: str = "") -> dict[str, Any]:
    """Write the whole run directory into the claimed path, atomically; return its summary.

    ``held`` is the claim of the output (:func:`hybridnet.outputs.claim`), taken
    before the simulation so that no other writer can race it.
    """
    origin = origin or scenario.origin or scenario.source
    _check_finite(result)
    summary = summarise(result, scenario, policy_name, seed, engine, sample, origin)
    try:
        summary_json = json.dumps(summary, indent=2, allow_nan=False) + "\n"
    except ValueError:
        raise HybridnetError("the run's summary has non-finite values (NaN or inf); nothing "
                             "written: check the scenario's values") from None
    with held.write_dir() as tmp:
        (tmp / "config.toml").write_text(config_toml(scenario, origin), encoding="utf-8")
        for name in ("ues", "slots", "events", "groups", "queues"):
            getattr(result, name).to_csv(tmp / f"{name}.csv", index=False, float_format="%.17g")
        if result.prompts is not None:
            result.prompts.to_csv(tmp / "prompts.csv", index=False, float_format="%.17g")
        (tmp / "summary.json").write_text(summary_json, encoding="utf-8")
        if plot:
            # matplotlib and seaborn take a second to import: only a run that draws pays it.
            from hybridnet.plots import plot_backlog, plot_timeline

            plot_timeline(result.events, result.ues, tmp / "timeline.png",
                          slot_starts_s=dict(zip(result.queues["slot"], result.queues["t_s"],
                                                 strict=True)))
            plot_backlog(result.queues, result.ues, tmp / "backlog.png")
    return summary


def read_run_table(run_dir: Path, name: str) -> pd.DataFrame:
    """A table of a run directory, refused in one line unless it has its rows and columns.

    For figures drawn from a run: a damaged, emptied or hand-edited CSV is named
    with what is wrong with it, never met by a pandas or numpy traceback.
    """
    columns = RUN_TABLES.get(name, ())
    return read_table(run_dir / name, columns=columns,
                      numeric=[c for c in columns if c not in TEXT_COLUMNS],
                      hint=f"is {run_dir} a run directory of `hybridnet run`? rerun it to "
                           "write the file again")
