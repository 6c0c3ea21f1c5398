"""The run directory: config.toml, ues/slots/events/groups CSVs, summary.json, timeline.png.

Its layout is a stable contract (docs/outputs.md): downstream scripts read it
with nothing but pandas. CSVs are written with full float precision so a rerun
with the same seed is byte-identical and every number can be checked against
the closed form.
"""

from __future__ import annotations

import json
import platform
import re
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hybridnet.outputs import atomic_dir
from hybridnet.scenario import Scenario, to_toml
from hybridnet.trace import RunResult

PERCENTILES = (50, 90, 95, 99)


def default_run_dir(scenario: Scenario, policy_name: str, seed: int, root: str = "runs") -> Path:
    """``runs/{scenario}__{policy}__{seed}__{time}``: every run traceable to its inputs."""
    stem = Path(scenario.source).stem or "scenario"
    safe_policy = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(policy_name).stem if "/" in policy_name
                         else policy_name)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{stem}__{safe_policy}__{seed}__{stamp}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


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
              engine: str, sample: bool = False) -> dict[str, Any]:
    """Totals, means and percentiles of a run, and what produced it."""
    ues, slots = result.ues, result.slots
    return {
        "scenario": scenario.source,
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
        "per_slot_reward": _stats(slots["reward"]),
        "per_ue": {
            "delay_s": _stats(ues["delay_s"]),
            "t_wait_s": _stats(ues["t_wait_s"]),
            "qos": _stats(ues["qos"]),
            "energy_j": _stats(ues["e_es_j"] + ues["e_tx_j"] + ues["e_ue_j"]),
            "x": _stats(ues["x"]),
            "y": _stats(ues["y"]),
            "z": _stats(ues["z"]),
        },
        "versions": _versions(),
    }


def write_run_dir(out: str | Path, scenario: Scenario, result: RunResult, policy_name: str,
                  seed: int, engine: str = "des", force: bool = False,
                  plot: bool = True, sample: bool = False) -> dict[str, Any]:
    """Write the whole run directory atomically and return its summary."""
    summary = summarise(result, scenario, policy_name, seed, engine, sample)
    with atomic_dir(out, force=force) as tmp:
        (tmp / "config.toml").write_text(to_toml(scenario), encoding="utf-8")
        for name in ("ues", "slots", "events", "groups"):
            getattr(result, name).to_csv(tmp / f"{name}.csv", index=False, float_format="%.17g")
        if result.prompts is not None:
            result.prompts.to_csv(tmp / "prompts.csv", index=False, float_format="%.17g")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        if plot:
            from hybridnet.plots import plot_timeline

            plot_timeline(result.events, result.ues, tmp / "timeline.png")
    return summary
