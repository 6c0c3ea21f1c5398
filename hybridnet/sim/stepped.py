"""The DES run a slot at a time by a caller that decides between slots.

A caller that decides outside SimPy's event loop (a PettingZoo agent's ``step``)
is the run's :class:`~hybridnet.sim.es_controller.ExternalPolicy`: at each
slot the controller process hands over an event and waits for it; the caller
steps the event loop (``env.step()``) until the controller waits, reads the
slot's state, and succeeds the event with its decision. No thread, no
queue: the run is the very run :func:`simulate_des` makes with the same
decisions, event for event (tested).

What a step measures is what finished during it: a request's reward is
known once its image is done, often slots after it was decided, so each
slot's reward (17a) is reported once all of its requests are complete, and
the step that ends the run lets the cell finish every request still under
way and reports the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import simpy
from simpy.core import Infinity

from hybridnet.errors import HybridnetError
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.scenario import Scenario
from hybridnet.sim.engine import build_des
from hybridnet.sim.trace import RunResult, own_energy_j


@dataclass(frozen=True)
class Completed:
    """What finished during one step."""

    slots: np.ndarray
    """The slots every request of which finished, in order."""
    reward: float
    """Their summed slot rewards (17a): what the team earned in the step."""
    own_reward: np.ndarray
    """Per UE, its own reward terms in those slots, as for one UE (N = 1) (N,)."""


class SteppedDes:
    """One episode of ``scenario`` on the DES, in the world of (``seed``, ``episode``)."""

    name = "external"

    def __init__(self, scenario: Scenario, seed: int, episode: int,
                 observe_end: Callable[[SlotState], None] | None = None) -> None:
        self.scenario = scenario
        self._reward = ModelParams.from_scenario(scenario).reward
        self._run = build_des(scenario, self, seed, episode=episode, observe_end=observe_end)
        self._reported = np.zeros(0, dtype=bool)
        self._answer: simpy.Event | None = None
        self.state: SlotState | None = None
        """The slot waiting for a decision; None once the run is over."""
        self._advance()

    def decision_event(self, env: simpy.Environment, state: SlotState) -> simpy.Event:
        """Called by the controller process: ``state`` waits for the event's (x, y)."""
        self.state = state
        self._answer = env.event()
        return self._answer

    def _advance(self) -> None:
        """Run the event loop until the controller waits for a decision, or to its end."""
        env = self._run.env
        self.state = None
        while self.state is None and env.peek() < Infinity:
            env.step()

    def decide(self, x: np.ndarray, y: np.ndarray) -> None:
        """Decide the waiting slot; run to the next slot's start (or to the end of the run)."""
        if self.state is None or self._answer is None:
            raise HybridnetError("the run is over: no slot is waiting for a decision")
        self._answer.succeed((np.asarray(x), np.asarray(y)))
        self._advance()

    def step(self, x: np.ndarray, y: np.ndarray) -> Completed:
        """:meth:`decide`, and what finished meanwhile."""
        self.decide(x, y)
        return self._completed()

    def result(self) -> RunResult:
        """The run's records, once it is over."""
        if self.state is not None:
            raise HybridnetError("the run is not over: a slot is waiting for a decision")
        return self._run.result()

    def _completed(self) -> Completed:
        done = self._run.recorder.completed()
        fresh = np.flatnonzero(done & ~np.pad(self._reported, (0, done.size - self._reported.size)))
        self._reported = done
        n = self.scenario.network.num_ues
        if fresh.size == 0:
            return Completed(slots=fresh, reward=0.0, own_reward=np.zeros(n))
        ues, slots = self._run.recorder.slot_records(fresh)
        own = self._reward.own(ues["qos"].to_numpy(), ues["delay_s"].to_numpy(),
                               own_energy_j(ues).to_numpy())
        per_ue = pd.Series(own).groupby(ues["ue"].to_numpy()).sum()
        return Completed(slots=fresh, reward=float(slots["reward"].sum()),
                         own_reward=per_ue.reindex(range(n), fill_value=0.0).to_numpy())

    def close(self) -> None:
        """Stop the run where it is: nothing runs between steps, so nothing is left to stop."""
        self.state = None
        self._answer = None
