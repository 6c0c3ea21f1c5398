"""The DES run a slot at a time by a caller that decides between slots.

SimPy's controller process asks its policy for each slot's decision in a
plain call, in the middle of the event loop. A caller that wants to decide
outside the loop (a PettingZoo agent's ``step``) cannot be called back
there, so the run goes on in a thread of its own whose policy hands each
slot's state over and waits for the decision: the two threads take turns,
never run at once, and the run is the very run :func:`simulate_des` makes
with the same decisions, event for event (tested).

What a step measures is what finished during it: a request's reward is
known once its image is done, often slots after it was decided, so each
slot's reward (17a) is reported once all of its requests are complete, and
the step that ends the run lets the cell finish every request still under
way and reports the rest.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass

import numpy as np
import pandas as pd

from hybridnet.errors import HybridnetError
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.scenario import Scenario
from hybridnet.sim.engine import build_des
from hybridnet.sim.trace import own_energy_j


class _Abandoned(Exception):
    """Raised in the run's thread to unwind it when the caller walks away."""


_ABANDON = object()


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

    def __init__(self, scenario: Scenario, seed: int, episode: int) -> None:
        self.scenario = scenario
        self._reward = ModelParams.from_scenario(scenario).reward
        self._states: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=1)
        self._decisions: queue.Queue[object] = queue.Queue(maxsize=1)
        self._run = build_des(scenario, self, seed, episode=episode)
        self._reported = np.zeros(0, dtype=bool)
        self.state: SlotState | None = None
        """The slot waiting for a decision; None once the run is over."""
        self._thread = threading.Thread(target=self._loop, name="hybridnet-des", daemon=True)
        self._thread.start()
        self._receive()

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        """The run's policy, called in its thread: hand ``state`` over, wait for (x, y)."""
        self._states.put(("state", state))
        decision = self._decisions.get()
        if decision is _ABANDON:
            raise _Abandoned
        assert isinstance(decision, tuple)
        return decision

    def _loop(self) -> None:
        try:
            self._run.env.run()
        except _Abandoned:
            return
        except BaseException as error:  # handed to the caller, who raises it
            self._states.put(("error", error))
            return
        self._states.put(("done", None))

    def _receive(self) -> None:
        kind, payload = self._states.get()
        if kind == "error":
            assert isinstance(payload, BaseException)
            raise payload
        self.state = payload if kind == "state" else None   # type: ignore[assignment]

    def step(self, x: np.ndarray, y: np.ndarray) -> Completed:
        """Decide the waiting slot; run to the next slot's start (or to the end of the run)."""
        if self.state is None:
            raise HybridnetError("the run is over: no slot is waiting for a decision")
        self._decisions.put((np.asarray(x), np.asarray(y)))
        self._receive()
        return self._completed()

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
        """Stop the run where it is (nothing to do once it is over)."""
        if self._thread.is_alive() and self.state is not None:
            self.state = None
            self._decisions.put(_ABANDON)
        self._thread.join()
