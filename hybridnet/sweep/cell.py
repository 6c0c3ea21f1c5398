"""What one cell of a sweep runs: the policy, checked once up front, and the Dask task.

A cell is exactly ``hybridnet run SCENARIO --set KEY=VALUE ... --seed S``: the
grid values applied to the base scenario, "auto" references resolved per
cell, simulated by :func:`hybridnet.api.simulate` and scored by
:func:`hybridnet.metrics.run_metrics`, the numbers ``run`` writes to its
summary.json.

A cell of the HID controller also reports how its controller trained
(:data:`TRAINING_METRICS`): the paper judges its controller by the reward it
converged to in training (Fig. 4(b), Fig. 5(a)), which need not be what the
greedy controller then earns on fresh slots, so a sweep records both side by
side.
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hybridnet.api import make_policy, policy_rng, simulate
from hybridnet.metrics import run_metrics
from hybridnet.model.reference import resolve_references
from hybridnet.policies.plugin import plugin_kind
from hybridnet.registry import POLICIES
from hybridnet.scenario import Scenario, from_dict

CONVERGED_SHARE = 0.4
"""The share of the training episodes, the last ones, the converged measure averages:
episodes 300-499 of 500, the paper's "converged" window (Fig. 4(b), Fig. 5(a))."""

TRAINING_METRICS: Mapping[str, str] = {
    "converged_reward": "the controller's training reward per slot (eq. 17a), mean over the "
                        "last 40 % of its episodes: 300-499 of 500, the paper's converged "
                        "measure",
    "converged_oracle_reward": "the exact optimum's reward per slot on the same training "
                               "slots, mean over the same episodes",
    "train_episodes": "episodes the controller was trained for",
}
"""What a cell of the HID controller adds to its row, in order, and what each number means."""


def trains_hid(policy: str) -> bool:
    """Whether ``policy`` is a HID controller (``hid`` or a checkpoint file): it has a training."""
    return policy == "hid" or (policy not in POLICIES and not policy.startswith("fixed:")
                               and plugin_kind(policy) is None)


def converged_metrics(history: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """:data:`TRAINING_METRICS` of a training log (``training.csv``'s rows, in order).

    The window is the last :data:`CONVERGED_SHARE` of the episodes, from episode
    ``int(0.6 * E)`` on: exactly 300-499 for the paper's 500 episodes, and the
    same share of a shorter or longer training (all of a one-episode one).
    """
    if not history:
        raise ValueError("the controller has no training history to report")
    episodes = len(history)
    tail = [row for row in history if row["episode"] >= int((1 - CONVERGED_SHARE) * episodes)]
    return {"converged_reward": float(np.mean([row["reward"] for row in tail])),
            "converged_oracle_reward": float(np.mean([row["oracle_reward"] for row in tail])),
            "train_episodes": float(episodes)}


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


def _training(scenario: Scenario, policy: str, checkpoint: str | None) -> dict[str, float]:
    """:func:`converged_metrics` of the controller the cell runs, trained and cached first if new.

    The controller ``simulate`` then loads is this one: the checkpoint file, or
    the cache entry of the cell's resolved scenario that this call fills.
    """
    from hybridnet.rl.checkpoint import load_checkpoint
    from hybridnet.rl.generalist.checkpoint import is_generalist_file
    from hybridnet.rl.policy import controller_kind, train_cached

    path = checkpoint if policy == "hid" else policy
    resolved = resolve_references(scenario)
    if (controller_kind(resolved) == "generalist" if path is None
            else is_generalist_file(path)):
        # trained once over a distribution of cells, not on this one: nothing converged here
        return dict.fromkeys(TRAINING_METRICS, float("nan"))
    trained = (train_cached(resolved, progress=False) if path is None
               else load_checkpoint(path))
    return converged_metrics(trained.training["history"])


def run_cell(scenario_toml: str, source: str, overrides: dict[str, Any], seed: int, policy: str,
             engine: str, checkpoint: str | None) -> dict[str, float]:
    """Simulate one cell and return its metrics (:data:`~hybridnet.metrics.METRICS`, then for a
    HID controller :data:`TRAINING_METRICS`, then ``elapsed_s``).

    This is the Dask task. It takes plain data only (the base scenario as TOML
    text) so that it pickles to a worker on another machine that merely has
    hybridnet installed. Torch is held to one thread: the cluster already runs
    one task per core, and more threads per task would only fight over them.
    ``elapsed_s`` includes the training when the cell trained its controller.
    """
    # torch takes seconds to import; only a worker that runs a cell needs it.
    from hybridnet.threads import torch_threads

    start = time.perf_counter()
    scenario = from_dict(tomllib.loads(scenario_toml), source).with_values(overrides)
    with torch_threads(1):
        training = _training(scenario, policy, checkpoint) if trains_hid(policy) else {}
        result = simulate(scenario, policy, seed=seed, engine=engine, checkpoint=checkpoint,
                          sample=scenario.sim.sample)
    return {**run_metrics(result), **training, "elapsed_s": time.perf_counter() - start}
