"""What one cell of a sweep runs: the policy, checked once up front, and the Dask task.

A cell is exactly ``hybridnet run SCENARIO --set KEY=VALUE ... --seed S``: the
grid values applied to the base scenario, "auto" references resolved per
cell, simulated by :func:`hybridnet.api.simulate` and scored by
:func:`hybridnet.metrics.run_metrics`, the numbers ``run`` writes to its
summary.json.
"""

from __future__ import annotations

import time
import tomllib
from typing import Any

from hybridnet.api import make_policy, policy_rng, simulate
from hybridnet.metrics import run_metrics
from hybridnet.model.reference import resolve_references
from hybridnet.scenario import Scenario, from_dict


def check_policy(scenario: Scenario, policy: str, checkpoint: str | None = None) -> None:
    """Build ``policy`` for the base ``scenario`` once, so that a typo costs nothing.

    A misspelt policy, a missing or damaged checkpoint, a checkpoint given to
    a policy that takes none, or a policy the base scenario cannot run is then
    one line before anything is written, not a failure row per cell. A policy
    only some cells cannot run (``fixed:5,0`` where a cell sets ``steps.x_max
    = 3``) is those cells' business: they fail and are recorded, the others
    run. ``hid`` without a checkpoint is not built: that would train it, which
    every cell does (or finds cached) for its own scenario.
    """
    if policy == "hid" and checkpoint is None:
        return
    make_policy(policy, resolve_references(scenario), policy_rng(scenario.sim.seed), checkpoint)


def run_cell(scenario_toml: str, source: str, overrides: dict[str, Any], seed: int, policy: str,
             engine: str, checkpoint: str | None) -> dict[str, float]:
    """Simulate one cell and return its metrics (:data:`~hybridnet.metrics.METRICS`, ``elapsed_s``).

    This is the Dask task. It takes plain data only (the base scenario as TOML
    text) so that it pickles to a worker on another machine that merely has
    hybridnet installed. Torch is held to one thread: the cluster already runs
    one task per core, and more threads per task would only fight over them.
    """
    # torch takes seconds to import; only a worker that runs a cell needs it.
    from hybridnet.threads import torch_threads

    start = time.perf_counter()
    scenario = from_dict(tomllib.loads(scenario_toml), source).with_values(overrides)
    with torch_threads(1):
        result = simulate(scenario, policy, seed=seed, engine=engine, checkpoint=checkpoint)
    return {**run_metrics(result), "elapsed_s": time.perf_counter() - start}
