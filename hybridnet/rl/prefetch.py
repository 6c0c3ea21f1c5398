"""Solving the next training episode's slots on a second thread while this one plays.

What a DES episode needs solved depends on its slots' conditions only, which the
DES draws independently of the decisions: the fluid plans the actors observe
(:meth:`~hybridnet.policies.fluid.FluidPolicy.plan_ahead`), and the oracle's
solution with the reward ``training.csv`` logs of it. The thread overlaps numpy
work on large arrays, which releases the interpreter, with the DES, which holds
it. The results are the same whichever thread computes them.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.fluid import FluidPolicy, PlannedSlots
from hybridnet.policies.oracle import SlotSolution

Solved = tuple[PlannedSlots, SlotSolution, float]
"""An episode's fluid plans, the oracle's solution and its mean slot reward."""


def mean_reward(params: ModelParams, states: SlotState, solution: SlotSolution) -> float:
    """The mean slot reward (17a) of ``solution``'s optimum on ``states``, in closed form."""
    return float(evaluate(params, states, *solution.optimum(states.group)).reward.mean())


class Prefetcher:
    """Solves episode k + 1's slots while episode k plays, with policies of its own (a
    policy's buffers are not shared between threads)."""

    def __init__(self, planner: FluidPolicy, params: ModelParams,
                 slots_of: Callable[[int], SlotState]) -> None:
        self.planner = planner
        self.params = params
        self.slots_of = slots_of
        """The slots of episode k."""
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="fluid-plans")  # lazy thread
        self._planning: tuple[int, Future[Solved]] | None = None

    def take(self, episode: int, episodes: int) -> Solved | None:
        """What was solved of ``episode`` (None if nothing: the episode solves it); starts
        on the next episode's if there is one of ``episodes``."""
        done = None
        if self._planning is not None and self._planning[0] == episode:
            done = self._planning[1].result()
        self._planning = None
        if episode + 1 < episodes:
            slots = self.slots_of(episode + 1)
            self._planning = (episode + 1, self._pool.submit(self._solve, slots))
        return done

    def _solve(self, slots: SlotState) -> Solved:
        solution = self.planner.oracle.solve(slots)
        return (self.planner.plan_ahead(slots), solution,
                mean_reward(self.params, slots, solution))
