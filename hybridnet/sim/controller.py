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

from hybridnet.conditions import Conditions
from hybridnet.errors import HybridnetError
from hybridnet.model.actions import action_mask
from hybridnet.model.compute import processing_delay_s
from hybridnet.model.objective import group_max
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.base import Policy
from hybridnet.scenario import Scenario, StepsConfig
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
    where = f"policy {getattr(policy, 'name', type(policy).__name__)} in slot {slot}"
    if x.shape != (n,) or y.shape != (n,):
        raise HybridnetError(f"{where} returned x of shape {x.shape} and y of shape "
                             f"{y.shape}; expected ({n},) each")
    xi, yi = x.astype(np.int64), y.astype(np.int64)
    if not (np.array_equal(xi, x) and np.array_equal(yi, y)):
        raise HybridnetError(f"{where} returned non-integer steps")
    inside = (xi >= 0) & (xi <= steps.x_max) & (yi >= 0) & (yi <= steps.y_max)
    feasible = inside.copy()
    feasible[inside] = _feasible(steps, state.allows_common_phase)[xi[inside], yi[inside]]
    if not feasible.all():
        ue = int(np.flatnonzero(~feasible)[0])
        only_local = "" if state.allows_common_phase else " (x = 0: the scheme has no common phase)"
        raise HybridnetError(
            f"{where}: UE {ue} got infeasible (x, y) = ({xi[ue]}, {yi[ue]}); need "
            f"0 <= x <= {steps.x_max}{only_local}, {steps.y_min} <= y <= {steps.y_max} and "
            f"z = {steps.total} - x - y in [{steps.z_min}, {steps.z_max}]"
        )
    return xi, yi


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

        # The step whose latent each UE waits for: its own x_n with early hand-off
        # (0: it waits for nothing), else its group's x_m^max (eq. 13).
        wait_steps = x if s.sim.early_handoff else common_steps[state.group]
        span = s.steps.x_max + 1
        key = state.group * span + wait_steps
        handoffs = np.unique(key[wait_steps > 0])            # sorted by group, then step
        latents = {int(h): env.event() for h in handoffs}
        for m in np.unique(handoffs // span).tolist():
            group_steps = handoffs[handoffs // span == m] % span
            work_s = processing_delay_s(np.diff(group_steps, prepend=0), p.es_cycles_per_step,
                                        p.es_freq_hz).tolist()                       # eq. (1)
            milestones = [(w, latents[m * span + int(step)])
                          for w, step in zip(work_s, group_steps.tolist(), strict=True)]
            env.process(common_phase(env, cell.edge, cell.recorder, first_group + m,
                                     float(group_start_s[m]), milestones))
        waits_for = [latents.get(h) for h in key.tolist()]
        edge, downlink, cpus, recorder = cell.edge, cell.downlink, cell.cpus, cell.recorder
        for ue, latent in enumerate(waits_for):
            env.process(ue_request(env, ue, plan, latent, edge, downlink, cpus[ue], recorder))
