"""The controller on the ES: every slot it observes, decides and sets the work going.

At each slot start t_k = k * slot_s the controller observes the slot's
conditions, asks the policy for (x_n, y_n) of every UE (z_n = T_max - x_n -
y_n), and launches one common phase per group with x_m^max > 0 and one
request per UE. Slots are launched on time whether or not earlier slots have
finished: work still in progress keeps its resources (an ES unit, a UE's CPU,
its share of a processor or band) and the new slot's work queues behind it or
shares with it.

Arrivals (``[sim] arrivals``):

- ``synchronous`` (the paper): every request arrives at t_k.
- ``poisson``: each slot's N requests are the points of a Poisson process on
  [t_k, t_k + slot_s) conditioned on there being N of them, which places
  them independently and uniformly in the slot. The decision is still taken
  at t_k for all N requests: the slot is the controller's decision epoch, and
  a group's common phase starts when its first member's request arrives.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from dataclasses import dataclass

import numpy as np
import simpy

from hybridnet.errors import HybridnetError
from hybridnet.model.actions import action_mask
from hybridnet.model.compute import processing_delay_s
from hybridnet.model.objective import group_max
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.base import Policy
from hybridnet.scenario import Scenario, StepsConfig
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.downlink import Downlink
from hybridnet.sim.edge import EdgeServer, common_phase
from hybridnet.sim.plan import plan_slot
from hybridnet.sim.recorder import Recorder
from hybridnet.sim.ue import ue_request


@functools.cache
def _feasible(steps: StepsConfig, allows_common_phase: bool) -> np.ndarray:
    """The action mask, built once per step configuration rather than every slot."""
    return action_mask(steps, allows_common_phase)


def checked_decision(policy: Policy, state: SlotState, steps: StepsConfig, slot: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The policy's (x, y) for ``state``, refused unless every UE's split is feasible (17b-e).

    The closed-form model would quietly evaluate an infeasible split; the DES
    would schedule negative durations. Both are a policy bug, named here.
    """
    n = state.num_ues
    x, y = (np.asarray(v) for v in policy.decide(state))

    def refuse(problem: str) -> HybridnetError:
        name = getattr(policy, "name", type(policy).__name__)
        return HybridnetError(f"policy {name} in slot {slot}: {problem}")

    if x.shape != (n,) or y.shape != (n,) or x.dtype.kind not in "iu" or y.dtype.kind not in "iu":
        raise refuse(f"returned x as {x.dtype} {x.shape} and y as {y.dtype} {y.shape}; "
                     f"expected integer arrays of shape ({n},)")
    inside = (x >= 0) & (x <= steps.x_max) & (y >= 0) & (y <= steps.y_max)
    feasible = inside if not inside.all() else _feasible(steps, state.allows_common_phase)[x, y]
    if not feasible.all():
        ue = int(np.flatnonzero(~feasible)[0])
        only_local = "" if state.allows_common_phase else " (x = 0: the scheme has no common phase)"
        raise refuse(
            f"UE {ue} got infeasible (x, y) = ({x[ue]}, {y[ue]}); need "
            f"0 <= x <= {steps.x_max}{only_local}, {steps.y_min} <= y <= {steps.y_max} and "
            f"z = {steps.total} - x - y in [{steps.z_min}, {steps.z_max}]"
        )
    return x.astype(np.int64, copy=False), y.astype(np.int64, copy=False)


@dataclass(frozen=True)
class Cell:
    """The actors of the simulated cell, shared by every slot."""

    env: simpy.Environment
    edge: EdgeServer
    downlink: Downlink
    cpus: list[simpy.Resource]
    recorder: Recorder


class Controller:
    """Decides every slot and launches its common phases and requests."""

    def __init__(self, scenario: Scenario, params: ModelParams, policy: Policy,
                 conditions: Conditions, cell: Cell) -> None:
        self.scenario = scenario
        self.params = params
        self.policy = policy
        self.conditions = conditions
        self.cell = cell

    def run(self, num_slots: int, progress: Callable[[int], None] | None
            ) -> Generator[simpy.Event, object, None]:
        """The controller process: launch slot k at t_k, for k = 0 .. num_slots - 1."""
        env = self.cell.env
        for k in range(num_slots):
            t_k = k * self.scenario.sim.slot_s
            if t_k > env.now:
                yield env.timeout(t_k - env.now)  # wait for the next slot boundary
            self.launch(k, t_k)
            if progress is not None:
                progress(k)

    def launch(self, k: int, t_k: float) -> None:
        """Observe slot k, decide, and start its common phases and requests."""
        s, p, cell = self.scenario, self.params, self.cell
        env = cell.env
        state = self.conditions.slot(k)
        x, y = checked_decision(self.policy, state, s.steps, k)
        z = s.steps.total - x - y
        common_steps = group_max(x, state.group, state.num_groups)                # x_m^max
        first_row, first_group = cell.recorder.open_slot(
            k, state, x, y, z, common_steps, self.conditions.distance_m, t_k)
        arrival_s = None
        group_start_s = np.zeros(state.num_groups)
        if s.sim.arrivals == "poisson":
            arrival_s = self.conditions.rngs["arrivals"].uniform(0.0, s.sim.slot_s,
                                                                 state.num_ues)
            group_start_s = np.full(state.num_groups, np.inf)
            np.minimum.at(group_start_s, state.group, arrival_s)  # first member's request
        plan = plan_slot(p, state, y, z, first_row, arrival_s)
        latents = self._start_common_phases(state, x, common_steps, first_group, group_start_s)
        edge, downlink, cpus, recorder = cell.edge, cell.downlink, cell.cpus, cell.recorder
        for ue, latent in enumerate(latents):
            env.process(ue_request(env, ue, plan, latent, edge, downlink, cpus[ue], recorder))

    def _start_common_phases(self, state: SlotState, x: np.ndarray, common_steps: np.ndarray,
                             first_group: int, start_s: np.ndarray) -> list[simpy.Event | None]:
        """Start every group's common phase; return the hand-off each UE waits for (or None).

        A UE waits for the latent of its own step x_n with early hand-off (none
        if x_n = 0), else for its group's x_m^max (eq. 13). Each (group, step)
        some UE waits for is a hand-off of that group's common phase.
        """
        s, p, cell = self.scenario, self.params, self.cell
        wait_steps = x if s.sim.early_handoff else common_steps[state.group]
        span = s.steps.x_max + 1
        key = state.group * span + wait_steps
        handoffs = np.unique(key[wait_steps > 0])            # sorted by group, then step
        group_of, step = np.divmod(handoffs, span)
        previous = np.zeros_like(step)                       # the group's previous hand-off
        same_group = group_of[1:] == group_of[:-1]
        previous[1:][same_group] = step[:-1][same_group]
        work_s = processing_delay_s(step - previous, p.es_cycles_per_step,
                                    p.es_freq_hz).tolist()   # eq. (1), from hand-off to hand-off
        latents: dict[int, simpy.Event] = {}
        milestones: dict[int, list[tuple[float, simpy.Event]]] = {}
        for handoff, m, work in zip(handoffs.tolist(), group_of.tolist(), work_s, strict=True):
            latents[handoff] = cell.env.event()
            milestones.setdefault(m, []).append((work, latents[handoff]))
        for m, group_milestones in milestones.items():
            cell.env.process(common_phase(cell.env, cell.edge, cell.recorder, first_group + m,
                                          float(start_s[m]), group_milestones))
        return [latents.get(h) for h in key.tolist()]
