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

import resource
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from hybridnet.errors import HybridnetError, SystemFailure
from hybridnet.memory import gib, memory_limit
from hybridnet.model.reference import check_train_keys, resolve_references
from hybridnet.policies import CHECKPOINT, PolicyRequest, make_policy, register_policies
from hybridnet.policies.base import Policy
from hybridnet.registry import ENGINES
from hybridnet.scenario import Scenario, read_scenario
from hybridnet.sim import simulate_des
from hybridnet.sim.closed_form import simulate_closed_form
from hybridnet.sim.conditions import seeded_streams
from hybridnet.sim.trace import EVENT_COLUMNS, UE_COLUMNS, RunResult

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
    check_train_keys(scenario, given=set(overrides or {}))
    return resolve_references(scenario)


def policy_rng(seed: int) -> np.random.Generator:
    """The random stream a policy draws from, independent of the world's streams."""
    return seeded_streams(seed)["policy"]


def needed_bytes(scenario: Scenario, policy: str | Policy, slots: int) -> int:
    """A lower bound of the memory a run needs: what it certainly holds at once.

    What this process already holds; the recorder's arrays (15 numbers per UE
    and slot), the ues frame built from them (one number per column) and the
    downlink's row of events.csv (one per request, 7 columns); the oracle's
    value grid over every (x, y) of every UE, with one cost grid beside it;
    HID's per-UE actors, of which one weight matrix alone is N x hidden[0] x
    hidden[1] floats. Measured: 100,000 UEs x 20 slots peak at 1.6 GB, twice this.
    """
    n, steps = scenario.network.num_ues, scenario.steps
    held = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    need = held + n * slots * 8 * (15 + len(UE_COLUMNS) + len(EVENT_COLUMNS))
    if policy == "oracle":
        need += 2 * n * (steps.x_max + 1) * (steps.y_max + 1) * 8
    elif isinstance(policy, str) and (policy == "hid" or policy.endswith(".pt")):
        hidden = scenario.train.hidden
        need += n * hidden[0] * (hidden[1] if len(hidden) > 1 else 1) * 4
    return need


def check_memory(scenario: Scenario, policy: str | Policy, slots: int) -> None:
    """Refuse, before any work, a run that cannot fit in the memory this process may use.

    Past a cgroup's limit the kernel kills a process without a word, so a
    MemoryError cannot be relied on to say it.
    """
    limit = memory_limit()
    need = needed_bytes(scenario, policy, slots)
    if limit is not None and need > limit[0]:
        raise SystemFailure(
            f"{scenario.network.num_ues:,} UEs x {slots:,} slots need at least {gib(need)} of "
            f"memory, over {limit[1]} of {gib(limit[0])}; reduce network.num_ues or the slots")


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
    check_memory(scenario, policy, scenario.sim.slots if slots is None else slots)
    if isinstance(policy, str):
        policy = make_policy(policy, scenario, policy_rng(seed), checkpoint, sample)
    elif checkpoint is not None:
        raise HybridnetError(
            f"--checkpoint applies only to --policy hid; the policy given is a built "
            f"{type(policy).__name__}, which would ignore {checkpoint}")
    if engine not in _ENGINES:
        raise HybridnetError(f"unknown engine '{engine}'; allowed: {', '.join(ENGINES)}")
    return _ENGINES[engine](scenario, policy, seed, slots=slots, progress=progress)
