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

from hybridnet import arguments
from hybridnet.errors import HybridnetError, InvalidArgument, SystemFailure
from hybridnet.memory import PER_UE_BYTES, PER_UE_SLOT_BYTES, gib, memory_limit
from hybridnet.model.reference import check_train_keys, resolve_references
from hybridnet.policies import CHECKPOINT, PolicyRequest, make_policy, register_policies
from hybridnet.policies.base import Policy
from hybridnet.prompts.corpus import resolve_corpus
from hybridnet.registry import ENGINES, POLICIES
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
    overrides = arguments.mapping("overrides", overrides)
    if path is not None and not isinstance(path, str | Path):
        raise InvalidArgument(f"path = {path!r}: expected a scenario file path (str or Path)")
    if path is None:
        scenario = Scenario().with_values(dict(overrides or {}))
    else:
        scenario = read_scenario(path, dict(overrides or {}))
    check_train_keys(scenario, given=set(overrides or {}))
    return resolve_references(scenario)


def policy_rng(seed: int) -> np.random.Generator:
    """The random stream a policy draws from, independent of the world's streams."""
    return seeded_streams(seed)["policy"]


def _policy_bytes(scenario: Scenario, policy: str | Policy) -> tuple[int, str]:
    """What the policy itself holds at once, and the keys that set it."""
    n, steps = scenario.network.num_ues, scenario.steps
    if policy == "oracle":
        return 2 * n * (steps.x_max + 1) * (steps.y_max + 1) * 8, "network.num_ues or [steps]"
    if isinstance(policy, str) and (policy == "hid" or policy.endswith(".pt")):
        hidden = scenario.train.hidden
        layers = sum(a * b for a, b in zip(hidden, hidden[1:], strict=False)) or hidden[0]
        return n * hidden[0] * (hidden[1] if len(hidden) > 1 else 1) * 4 + layers * 4, \
            "train.hidden"
    return 0, ""


def needed_bytes(scenario: Scenario, policy: str | Policy, slots: int) -> int:
    """A lower bound of the memory a run needs: what it certainly holds at once.

    What this process already holds; per UE and per UE and slot, 90 % of what
    a run was measured to hold (:data:`~hybridnet.memory.PER_UE_SLOT_BYTES`:
    the recorder's arrays, the frames built from them, the downlink's events);
    the oracle's value grid over every (x, y) of every UE, with one cost grid
    beside it; HID's per-UE actors, of which one weight matrix alone is N x
    hidden[0] x hidden[1] floats, and its hidden layers.
    """
    held = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return held + _record_bytes(scenario, slots) + _policy_bytes(scenario, policy)[0]


def _record_bytes(scenario: Scenario, slots: int) -> int:
    n = scenario.network.num_ues
    return n * PER_UE_BYTES + n * slots * PER_UE_SLOT_BYTES


def check_memory(scenario: Scenario, policy: str | Policy, slots: int) -> None:
    """Refuse, before any work, a run that cannot fit in the memory this process may use.

    Past a cgroup's limit the kernel kills a process without a word, so a
    MemoryError cannot be relied on to say it. The message names what to
    reduce: the policy's own keys when the policy holds most of it.
    """
    limit = memory_limit()
    need = needed_bytes(scenario, policy, slots)
    if limit is not None and need > limit[0]:
        n = scenario.network.num_ues
        policy_bytes, keys = _policy_bytes(scenario, policy)
        records = _record_bytes(scenario, slots)
        what = (f"{policy}'s {gib(policy_bytes)} for {n:,} UEs; reduce {keys}"
                if policy_bytes > records else "reduce network.num_ues or the slots")
        raise SystemFailure(
            f"{n:,} UEs x {slots:,} slots need at least {gib(need)} of memory, over "
            f"{limit[1]} of {gib(limit[0])}: {what}")


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
    seed = arguments.optional_integer("seed", seed, 0, arguments.MAX_SEED)
    slots = arguments.optional_integer("slots", slots, 1)
    arguments.flag("sample", sample)
    arguments.callback("progress", progress)
    arguments.choice("engine", engine, list(ENGINES))
    if checkpoint is not None and not isinstance(checkpoint, str | Path):
        raise InvalidArgument(f"checkpoint = {checkpoint!r}: expected a file path or None")
    if not isinstance(policy, str) and not callable(getattr(policy, "decide", None)):
        raise InvalidArgument(f"policy = {policy!r}: expected a policy name (one of "
                              f"{', '.join(POLICIES)}) or an object with a decide(state) method")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = resolve_references(scenario)
    seed = scenario.sim.seed if seed is None else seed
    check_memory(scenario, policy, scenario.sim.slots if slots is None else slots)
    resolve_corpus(scenario.prompts.corpus)  # a bad corpus is refused before HID trains
    if isinstance(policy, str):
        policy = make_policy(policy, scenario, policy_rng(seed), checkpoint, sample)
    elif checkpoint is not None:
        raise HybridnetError(
            f"--checkpoint applies only to --policy hid; the policy given is a built "
            f"{type(policy).__name__}, which would ignore {checkpoint}")
    if engine not in _ENGINES:
        raise HybridnetError(f"unknown engine '{engine}'; allowed: {', '.join(ENGINES)}")
    return _ENGINES[engine](scenario, policy, seed, slots=slots, progress=progress)
