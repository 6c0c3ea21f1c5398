"""Scoring a policy on fresh slots: the figures every comparison reports.

Experiments compare controllers by the mean slot reward (17a) and by the
per-UE QoS, delay and energy behind it; computing them in one place keeps
every script's numbers comparable.
"""

from __future__ import annotations

from hybridnet.api import simulate
from hybridnet.policies.base import Policy
from hybridnet.scenario import Scenario


def policy_metrics(scenario: Scenario, policy: str | Policy, seed: int, slots: int,
                   engine: str = "closed") -> dict[str, float]:
    """Mean reward per slot, and QoS, delay (s) and energy (J) per UE, over ``slots`` slots."""
    frame = simulate(scenario, policy, seed=seed, slots=slots, engine=engine).slots
    n = scenario.network.num_ues
    return {"reward": float(frame["reward"].mean()),
            "qos": float(frame["qos"].mean()) / n,
            "delay_s": float(frame["delay_s"].mean()) / n,
            "energy_j": float(frame["energy_j"].mean()) / n}
