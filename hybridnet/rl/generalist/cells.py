"""Random cells with the exact oracle's answers: what the generalist learns from and is
scored on.

A :class:`LabelledCell` is a few slots of one random cell of the training
distribution, observed as the generalist sees them, with the exact oracle's
choices as targets: each group's X_m and every UE's best response to every bound (the solution
holds them all, :class:`~hybridnet.policies.oracle.SlotSolution`), so the UE actor
learns to answer any X_m its group may draw, not only the optimal one.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.oracle import OraclePolicy, SlotSolution, SlotValues
from hybridnet.rl.controller import stack_slots
from hybridnet.rl.generalist.distribution import DISTRIBUTION, CellDistribution, sample_scenario
from hybridnet.rl.generalist.features import Observation, StepCosts, observe
from hybridnet.scenario import Scenario
from hybridnet.sim.conditions import Conditions


@dataclass
class LabelledCell:
    """Slots of one cell, observed, with the oracle's targets and values."""

    scenario: Scenario
    state: SlotState
    obs: Observation
    bound: np.ndarray
    """The oracle's X_m of each group row (R,)."""
    x_upto: np.ndarray
    """Each UE's best x <= X for every bound X (B, X+1)."""
    y_of_x: np.ndarray
    """Each UE's best y for every x (B, X+1)."""
    gain: np.ndarray
    """Each UE's gain from a bound X over none (its best value with x <= X less its best
    with x = 0), in units of the QoS term's weight (B, X+1)."""
    values: SlotValues
    """The oracle's value grid of the slots, which scores any decision exactly."""
    scale: float
    """A UE's stake in its decision: the mean over UEs of the spread of its own value
    over its feasible splits. PPO's rewards are divided by it, so cells whose
    rewards differ by orders of magnitude train on one scale."""


def cell_slots(scenario: Scenario, seed: int, slots: int) -> SlotState:
    """``slots`` slots of ``scenario``'s world drawn from ``seed``, stacked (S, N)."""
    sim = dataclasses.replace(scenario.sim, slots=slots)
    return stack_slots(list(Conditions(scenario.replace(sim=sim), seed).slots()))


def label(scenario: Scenario, state: SlotState) -> LabelledCell:
    """The exact oracle's answers to ``state`` of ``scenario``."""
    params = ModelParams.from_scenario(scenario)
    oracle = OraclePolicy(scenario.steps, params)
    values = oracle.values(state)
    obs = observe(StepCosts.of(params, scenario.steps.x_max), state)
    return _labelled(scenario, state, obs, oracle.best(state, values), values)


def _labelled(scenario: Scenario, state: SlotState, obs: Observation, solution: SlotSolution,
              values: SlotValues) -> LabelledCell:
    slot, group = obs.key // state.num_groups, obs.key % state.num_groups
    best = np.maximum.accumulate(values.ue.max(axis=-1), axis=-1)          # best with x <= X
    best = best.reshape(-1, best.shape[-1])
    q_scale = max(ModelParams.from_scenario(scenario).reward.per_unit(state.num_ues)[0],
                  1e-300)
    return LabelledCell(
        scenario=scenario, state=state, obs=obs, bound=solution.group_bound[slot, group],
        x_upto=solution.x_upto.reshape(-1, solution.x_upto.shape[-1]),
        y_of_x=solution.y_of_x.reshape(-1, solution.y_of_x.shape[-1]),
        gain=(best - best[:, :1]) / q_scale, values=values, scale=decision_scale(values.ue))


def decision_scale(grid: np.ndarray) -> float:
    """Mean over UEs of max - min of their own value over the feasible splits."""
    feasible = np.isfinite(grid)
    high = np.where(feasible, grid, -np.inf).max(axis=(-2, -1))
    low = np.where(feasible, grid, np.inf).min(axis=(-2, -1))
    return max(float(np.mean(high - low)), 1e-300)


def draw_cell(rng: np.random.Generator, slots: int,
              dist: CellDistribution = DISTRIBUTION) -> LabelledCell:
    """A random cell of ``dist``, ``slots`` slots of it, labelled."""
    scenario = sample_scenario(rng, dist)
    return label(scenario, cell_slots(scenario, int(rng.integers(2**31)), slots))
