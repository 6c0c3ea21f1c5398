"""The Python API: load a scenario, simulate it, get pandas frames.

    >>> import hybridnet
    >>> scenario = hybridnet.load_scenario("scenarios/paper.toml", {"network.num_ues": 10})
    >>> result = hybridnet.simulate(scenario, policy="oracle", seed=1, slots=3)
    >>> result.ues.groupby("slot").delay_s.mean()   # doctest: +SKIP

This is the top layer of the library: it sits above :mod:`hybridnet.rl`, so it
is where the trained HID controller joins the policies :mod:`hybridnet.policies`
builds by name (that package sits below rl and cannot import it). Importing
this module registers it; :func:`make_policy` is re-exported from here so that
whoever builds a policy by name has it registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import resolve_references
from hybridnet.policies import CHECKPOINT, PolicyRequest, make_policy, register_policies
from hybridnet.policies.base import Policy
from hybridnet.registry import ENGINES
from hybridnet.scenario import Scenario, read_scenario
from hybridnet.sim import simulate_des
from hybridnet.sim.closed_form import simulate_closed_form
from hybridnet.sim.conditions import seeded_streams
from hybridnet.sim.trace import RunResult

__all__ = ["load_scenario", "make_policy", "policy_rng", "simulate"]


def _hid_policy(request: PolicyRequest) -> Policy:
    """``hid`` and checkpoint files: the trained controller, from a checkpoint or the cache."""
    # Imported on first use rather than with this module: rl imports torch, which
    # costs seconds that a run of any other policy should not pay.
    from hybridnet.rl.policy import load_hid_policy

    return load_hid_policy(request.scenario, request.checkpoint, request.rng,
                           sample=request.sample)


register_policies({"hid": _hid_policy, CHECKPOINT: _hid_policy})

_ENGINES = ENGINES.implement({"des": simulate_des, "closed": simulate_closed_form})
"""What runs a scenario under each engine name; both take the same arguments."""


def load_scenario(path: str | Path | None = None,
                  overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Read, validate and resolve a scenario file; ``overrides`` maps "section.key" to values.

    Without a path, the built-in defaults: the paper's configuration (Table I).
    """
    if path is None:
        scenario = Scenario().with_values(dict(overrides or {}))
    else:
        scenario = read_scenario(path, dict(overrides or {}))
    return resolve_references(scenario)


def policy_rng(seed: int) -> np.random.Generator:
    """The random stream a policy draws from, independent of the world's streams."""
    return seeded_streams(seed)["policy"]


def simulate(scenario: Scenario | str | Path, policy: str | Policy = "oracle", *,
             seed: int | None = None, slots: int | None = None, engine: str = "des",
             checkpoint: str | Path | None = None, sample: bool = False,
             progress: Callable[[int], None] | None = None) -> RunResult:
    """Simulate ``slots`` slots of ``scenario`` under ``policy`` and return the traces.

    ``seed`` defaults to the scenario's ``sim.seed``; ``engine`` is "des" (SimPy,
    with queues) or "closed" (eq. 1-17 directly, no queues); ``sample`` makes the
    HID controller draw its actions rather than act greedily. ``checkpoint`` is
    for ``policy="hid"`` only; with any other policy it is refused, not ignored.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = resolve_references(scenario)
    seed = scenario.sim.seed if seed is None else seed
    if isinstance(policy, str):
        policy = make_policy(policy, scenario, policy_rng(seed), checkpoint, sample)
    elif checkpoint is not None:
        raise HybridnetError(
            f"--checkpoint applies only to --policy hid; the policy given is a built "
            f"{type(policy).__name__}, which would ignore {checkpoint}")
    if engine not in _ENGINES:
        raise HybridnetError(f"unknown engine '{engine}'; allowed: {', '.join(ENGINES)}")
    return _ENGINES[engine](scenario, policy, seed, slots=slots, progress=progress)
