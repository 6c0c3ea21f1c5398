"""The oracle held to what the cell can serve: the queue-aware teacher and yardstick.

The closed-form oracle maximises each slot's reward as if nothing queued. In a
busy cell that decision can hand a resource more work per slot than it serves
in a slot, and its queue then grows for ever. In the fluid limit a cell is
stable exactly when no resource is loaded beyond its capacity, so this policy
maximises the slot reward (17a) subject to

- every UE's phase II work within one slot: z_n c^UE / f_n <= slot_s (eq. 8),
  or, for a UE that cannot get there, the least phase II work it can have;
- the ES's work within ES_LOAD (90 %) of one slot of its units:
  sum_m t_common(X_m) + sum_n t_ES(y_n) <= 0.9 * units * slot_s (eq. 1, 3).

The UE constraints are per UE, so they only mask options. The ES constraint
couples everyone; it is priced by a Lagrange multiplier lambda (reward per
second of ES work), which keeps the oracle's per-group decomposition, and
lambda is the least price that brings the ES's work within capacity, found by
bisection (the ES work of the priced optimum does not grow with the price).
Where even the highest price leaves the ES over capacity, the decision at that
price is taken: the least ES work compatible with the UEs' constraints.

It uses the model and the capacities, not the queues: it is what a
queue-aware controller should do in steady state, and where the cell has
spare capacity it is the oracle. HID trained on the DES imitates it
(``train.imitation``) and learns from the DES's rewards beyond it.
"""

from __future__ import annotations

import numpy as np

from hybridnet.model.costs import common_delay_s, es_delay_s, ue_delay_s
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.oracle import OraclePolicy, Penalty, SlotSolution, SlotValues
from hybridnet.scenario import StepsConfig

ES_LOAD = 0.9
"""Share of the ES's capacity the fluid policy plans to use. At full load an FCFS queue's
waiting has no bound; a tenth in reserve keeps it short (on dense.toml: reward 0.2026 at
0.9, 0.2016 at 1.0, over 100 DES slots) and leaves a learner that imitates the policy
room for small errors. The UEs' CPUs are planned to the full slot: each serves only
its own requests, one a slot, so planned within the slot its waiting stays under one."""

PRICE_START = 1e-4
"""First price tried on an overloaded ES, reward per second of ES work: about what one
step of one UE is worth in a slot reward normalised by N."""
PRICE_GROWTH = 4.0
PRICE_RAISES = 40
"""Raises of the price by PRICE_GROWTH before giving up on fitting the ES (a factor 1e24)."""
BISECTIONS = 12
"""Halvings of the bracket once it holds the price: its width ends 1/4096 of where it
began, within 0.1 % of the least price that fits (the ES work is a step function of it)."""


class FluidPolicy:
    """Each slot, the oracle's optimum subject to every UE's and the ES's capacity."""

    name = "fluid"

    def __init__(self, steps: StepsConfig, params: ModelParams, slot_s: float,
                 compute_units: int) -> None:
        self.oracle = OraclePolicy(steps, params)
        self.steps = steps
        self.params = params
        self.ue_capacity_s = slot_s
        self.es_capacity_s = ES_LOAD * compute_units * slot_s

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        return self.solve(state).optimum(state.group)

    def _within_ue_capacity(self, state: SlotState, values: SlotValues) -> SlotValues:
        """The values with every option over its UE's capacity made infeasible."""
        st = self.steps
        z = st.total - np.arange(st.x_max + 1)[:, None] - np.arange(st.y_max + 1)[None, :]
        work_s = ue_delay_s(self.params.physics, np.maximum(z, 0),
                            state.f_ue_hz[..., None, None])                        # eq. (8)
        feasible = np.isfinite(values.ue)
        least_s = np.where(feasible, work_s, np.inf).min(axis=(-2, -1), keepdims=True)
        over = work_s > np.maximum(self.ue_capacity_s, least_s)
        return SlotValues(ue=np.where(over, -np.inf, values.ue),
                          group_wait=values.group_wait, group_energy=values.group_energy)

    def _es_work_s(self, state: SlotState, solution: SlotSolution) -> np.ndarray:
        """The ES work, s, of the decision ``solution`` makes, per slot (...)."""
        p = self.params.physics
        x, y = solution.optimum(state.group)
        m = state.num_groups
        flat_x = x.reshape(-1, state.num_ues)
        slots = flat_x.shape[0]
        key = (np.arange(slots)[:, None] * m + state.group.reshape(slots, -1)).ravel()
        common_steps = np.zeros(slots * m, dtype=np.int64)
        np.maximum.at(common_steps, key, flat_x.ravel())                           # x_m^max
        common_s = common_delay_s(p, common_steps).reshape(slots, m).sum(-1)       # eq. (1)
        phase1_s = es_delay_s(p, y).reshape(slots, -1).sum(-1)                     # eq. (3)
        return (common_s + phase1_s).reshape(x.shape[:-1])

    def _priced(self, state: SlotState, values: SlotValues, price: np.ndarray
                ) -> tuple[SlotSolution, np.ndarray]:
        p, st = self.params.physics, self.steps
        per_s = price[..., None, None]
        penalty = Penalty(ue=per_s[..., None] * es_delay_s(p, np.arange(st.y_max + 1)),
                          group=per_s * common_delay_s(p, np.arange(st.x_max + 1)))
        solution = self.oracle.best(state, values, penalty)
        return solution, self._es_work_s(state, solution)

    def solve(self, state: SlotState, values: SlotValues | None = None) -> SlotSolution:
        """The constrained optimum of one slot or a batch (S, N), with every best response
        under its price (what a learner imitates); ``values``: the oracle's, if at hand."""
        values = self._within_ue_capacity(
            state, self.oracle.values(state) if values is None else values)
        batch = state.phi.shape[:-1]
        low = np.zeros(batch)
        solution, work_s = self._priced(state, values, low)
        over = work_s > self.es_capacity_s
        if not over.any():
            return solution
        high = np.where(over, PRICE_START, 0.0)
        for _ in range(PRICE_RAISES):
            _, work_s = self._priced(state, values, high)
            still = work_s > self.es_capacity_s
            if not still.any():
                break
            low = np.where(still, high, low)
            high = np.where(still, high * PRICE_GROWTH, high)
        for _ in range(BISECTIONS):
            middle = np.where(over, 0.5 * (low + high), 0.0)
            _, work_s = self._priced(state, values, middle)
            fits = work_s <= self.es_capacity_s
            high = np.where(over & fits, middle, high)
            low = np.where(over & ~fits, middle, low)
        return self._priced(state, values, high)[0]
