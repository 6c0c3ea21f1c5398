"""The controller on the ES: every slot it observes, decides and sets the work going.

At each slot start t_k = k * slot_s the controller observes the slot's
conditions, asks the policy for (x_n, y_n) of every UE (z_n = T_max - x_n -
y_n), and launches one common phase per group with x_m^max > 0 and one
request per UE. Slots are launched on time whether or not earlier slots have
finished: work still in progress keeps its resources (an ES unit, a UE's CPU,
its share of a processor or band) and the new slot's work queues behind it or
shares with it.

When the requests arrive within the slot is the arrival process's business
(``[sim] arrivals``, :mod:`hybridnet.sim.arrivals`).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np
import simpy

from hybridnet.model.actions import check_decision
from hybridnet.model.costs import common_delay_s
from hybridnet.model.objective import group_max
from hybridnet.model.physics import PhysicsParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.base import Policy, checked_decision
from hybridnet.scenario import Scenario
from hybridnet.sim.arrivals import make_arrivals
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.downlink import Downlink
from hybridnet.sim.edge import END_OF_THE_INSTANT, AfterTheInstant, EdgeServer, common_phase
from hybridnet.sim.ledger import QueueLedger
from hybridnet.sim.plan import plan_slot
from hybridnet.sim.recorder import Recorder
from hybridnet.sim.ue import ue_request


@runtime_checkable
class ExternalPolicy(Protocol):
    """A policy that decides outside SimPy's event loop (the PettingZoo env's agents): the
    controller waits for the event it hands over, and the caller, between two
    ``env.step()``s, succeeds it with (x, y)."""

    name: str

    def decision_event(self, env: simpy.Environment, state: SlotState) -> simpy.Event:
        """The event whose value will be slot ``state``'s (x, y)."""
        ...


@dataclass(frozen=True)
class CellResources:
    """The actors of the simulated cell, shared by every slot."""

    env: simpy.Environment
    edge: EdgeServer
    downlink: Downlink
    cpus: list[simpy.Resource]
    recorder: Recorder
    ledger: QueueLedger


class Controller:
    """Decides every slot and launches its common phases and requests."""

    def __init__(self, scenario: Scenario, params: PhysicsParams,
                 policy: Policy | ExternalPolicy, conditions: Conditions,
                 cell: CellResources) -> None:
        self.scenario = scenario
        self.params = params
        self.policy = policy
        self.conditions = conditions
        self.cell = cell
        self.arrivals = make_arrivals(scenario.sim, conditions.rngs["arrivals"])

    def run(self, num_slots: int, progress: Callable[[int], None] | None,
            observe_end: Callable[[SlotState], None] | None = None
            ) -> Generator[simpy.Event, object, None]:
        """The controller process: launch slot k at t_k, for k = 0 .. num_slots - 1; then,
        with ``observe_end``, hand it the state slot num_slots would be decided on."""
        env = self.cell.env
        for k in range(num_slots + (observe_end is not None)):
            t_k = k * self.scenario.sim.slot_s
            if t_k > env.now:
                yield env.timeout(t_k - env.now)  # wait for the next slot boundary
            yield from self._settle()
            state = self.observe(k)
            if k == num_slots:
                assert observe_end is not None
                observe_end(state)
                return
            x, y = yield from self._decide(k, state)
            self.launch(k, t_k, state, x, y)
            if progress is not None:
                progress(k)

    def _settle(self) -> Generator[simpy.Event, object, None]:
        """Let every other event of this instant happen first: the decision-instant rule.

        SimPy runs the events of one instant in the order they were scheduled, so
        without this a transfer or a task that starts exactly at t_k would be seen
        by the controller in some runs and not in others. Yielding until no event
        of this instant is left makes the state at t_k the cell after everything
        that happens at t_k, the new slot's launches excepted
        (docs/architecture.md, "The decision instant"). Its wake-up comes after the
        FCFS dispatch of the instant too (``END_OF_THE_INSTANT``): at the dispatch's own
        priority or earlier, a dispatch pending at t_k would stay behind every wake-up
        and the loop would never end (it did, on a 300-UE cell whose task ended
        exactly at a slot boundary).
        """
        env = self.cell.env
        while env.peek() == env.now:
            yield AfterTheInstant(env, priority=END_OF_THE_INSTANT)

    def observe(self, k: int) -> SlotState:
        """Slot k's conditions and the queues now, at its start."""
        cell = self.cell
        return replace(self.conditions.slot(k),
                       queues=cell.ledger.measure(cell.edge, cell.downlink))

    def _decide(self, k: int, state: SlotState
                ) -> Generator[simpy.Event, object, tuple[np.ndarray, np.ndarray]]:
        """Slot k's (x, y), refused unless feasible: a policy is asked in a plain call; one
        that decides outside the event loop (:class:`ExternalPolicy`) hands over an event,
        which the controller waits for and which the caller succeeds with the decision."""
        steps = self.scenario.steps
        if not isinstance(self.policy, ExternalPolicy):
            return checked_decision(self.policy, state, steps, k)
        decided = yield self.policy.decision_event(self.cell.env, state)
        x, y = decided  # type: ignore[misc]
        return check_decision(x, y, state, steps, policy=self.policy.name, slot=k)

    def launch(self, k: int, t_k: float, state: SlotState, x: np.ndarray, y: np.ndarray
               ) -> None:
        """Start slot k's common phases and requests, decided (x, y) on ``state``."""
        s, p, cell = self.scenario, self.params, self.cell
        env = cell.env
        z = s.steps.total - x - y
        common_steps = group_max(x, state.group, state.num_groups)                # x_m^max
        first_row, first_group = cell.recorder.open_slot(
            k, state, x, y, z, common_steps, self.conditions.distance_m, t_k)
        arrivals = self.arrivals.slot(state)
        plan = plan_slot(p, state, y, z, k, first_row, arrivals.request_s)
        latents = self._start_common_phases(k, state, x, common_steps, first_group,
                                            arrivals.group_start_s)
        cell.ledger.handed_out(float(common_delay_s(p, common_steps).sum()) + sum(plan.es_s),
                               np.asarray(plan.ue_s))                      # eq. (1), (3), (8)
        edge, downlink, cpus, recorder, ledger = (cell.edge, cell.downlink, cell.cpus,
                                                  cell.recorder, cell.ledger)
        for ue, latent in enumerate(latents):
            env.process(ue_request(env, ue, plan, latent, edge, downlink, cpus[ue], recorder,
                                   ledger))

    def _start_common_phases(self, k: int, state: SlotState, x: np.ndarray,
                             common_steps: np.ndarray, first_group: int,
                             start_s: np.ndarray) -> list[simpy.Event | None]:
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
        work_s = common_delay_s(p, step - previous).tolist()   # eq. (1), between hand-offs
        latents: dict[int, simpy.Event] = {}
        milestones: dict[int, list[tuple[float, simpy.Event]]] = {}
        for handoff, m, work in zip(handoffs.tolist(), group_of.tolist(), work_s, strict=True):
            latents[handoff] = cell.env.event()
            milestones.setdefault(m, []).append((work, latents[handoff]))
        for m, group_milestones in milestones.items():
            cell.env.process(common_phase(cell.env, cell.edge, cell.recorder,
                                          cell.ledger.es_started, k, first_group + m,
                                          float(start_s[m]), group_milestones))
        return [latents.get(h) for h in key.tolist()]
