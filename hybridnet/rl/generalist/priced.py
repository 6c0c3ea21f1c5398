"""The generalist where queues form: the same networks, the ES priced by a dual variable.

The fluid policy (hybridnet/policies/fluid.py) is the oracle held to every UE's and
the ES's capacity: each UE's phase II work within its slot (eq. 8) and the ES's work
within ES_LOAD of its units' slot (eq. 1, 3). The ES constraint is priced by a
Lagrange multiplier, which leaves every cost a per-step cost: a second of ES work
costs the price more, a personalized step to its UE and a common step to its group.
The generalist observes exactly those per-step costs (features.py), so the fluid
decision at a price is the generalist's decision on the cell with its ES steps
costlier by that price (:meth:`StepCosts.priced`), no training on queues needed;
the UEs' capacities are masks on their grids.

What is left is the price. The fluid policy finds each slot's by bisection, a
dozen solves a slot; here the price is a dual variable carried from slot to slot
(the primal-dual scheme of constrained RL, e.g. Tessler et al., "Reward Constrained
Policy Optimization", ICLR 2019): a slot decides once at the price it inherits; if
that overloads the ES, the price rises until the decision fits and the slot takes
that decision; if it fits, the next slot tries a slightly lower price. The price so
tracks the least that fits from above, with one decision in most slots (two passes of
the UE actor where some UE is held at its slot's edge, below). A cold start
(the first slot, or the ES had room) raises the price by a factor of 4, then bisects.

The ES's capacity is planned at ES_LOAD of its units' slot, less any backlog its
units have not yet served: a slot that overshoots leaves work behind, and the next
plans that much less. Where even the price ceiling (the fluid policy's price of
overload) cannot bring the ES within its capacity, the slot takes the decision at the
ceiling, the least ES work the generalist offers at that price.
"""

from __future__ import annotations

import numpy as np
import torch

from hybridnet.model.actions import action_mask
from hybridnet.model.costs import ue_work_grid_s
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.fluid import ES_LOAD, OVERLOAD_SLOTS
from hybridnet.rl.controller import DECIDE_THREADS
from hybridnet.rl.distributions import MASKED_LOGIT
from hybridnet.rl.generalist.features import StepCosts, observe
from hybridnet.rl.generalist.network import GeneralistNet
from hybridnet.scenario import Scenario
from hybridnet.threads import torch_threads

TOLERANCE_S = 1e-12
"""ES work below this is rounding, not an excess."""
COLD_START = 1e-6
"""First price tried from 0, as a share of the QoS weight per ES step: far below any
step cost the generalist was trained on."""
COLD_GROWTH = 4.0
COLD_BISECTIONS = 8
"""A cold start's bracket [p, 4p] is halved in log space this often: within 0.5 % of the
least price that fits."""
WARM_GROWTH = 1.25
"""A price that overloads the ES is raised by this factor until the decision fits."""
WARM_RAISES = 8
COLD_RAISES = 40
"""Raises tried in one slot before taking the decision of least ES work seen: the next
slot starts from its price and goes on (a factor of 6 a slot warm, 1e24 cold)."""
DECAY = 1.05
"""A price that fits is lowered by this factor for the next slot."""


class PricedGeneralistPolicy:
    """The generalist with the ES priced by a dual variable and each UE held to its slot."""

    name = "hid"

    def __init__(self, net: GeneralistNet, scenario: Scenario) -> None:
        self.net = net.eval()
        params = ModelParams.from_scenario(scenario)
        self.physics = params.physics
        self.steps = scenario.steps
        self.costs = StepCosts.of(params, scenario.steps.x_max)
        self.slot_s = scenario.sim.slot_s
        self.units = scenario.edge.backlog_units
        self.planned_s = ES_LOAD * self.units * self.slot_s
        # the fluid policy's price of ES overload: a second of it delays every request
        self.ceiling = (OVERLOAD_SLOTS * self.costs.delay_per_s * scenario.network.num_ues
                        / self.units)
        self.cold_start = COLD_START / max(self.costs.es_step_s, 1e-300)
        self.price = 0.0
        """The ES's price, per second of its work, in the costs' units (the dual variable)."""
        self.overloaded = False
        """Whether no decision fitted the ES's plan, and none has since."""
        self._f_key: bytes | None = None
        self._quality: tuple[SlotState | None, np.ndarray] = (None, np.empty(0))

    def capacity_s(self, state: SlotState) -> float:
        """The ES work this slot can take: its units' slot less what they have not yet
        served, and of that the planned share (ES_LOAD) unless the cell is overloaded (no
        decision fitted the plan: a reserve there only lengthens the UEs' queues)."""
        backlog_s = float(np.asarray(state.observed_queues.es_backlog_s).ravel()[0])
        room_s = self.units * max(self.slot_s - backlog_s, 0.0)
        return room_s if self.overloaded else min(self.planned_s, room_s)

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        f = np.asarray(state.f_ue_hz, dtype=float).ravel()
        with torch.inference_mode(), torch_threads(DECIDE_THREADS):
            if f.tobytes() != self._f_key:
                self._new_cpus(f, state.allows_common_phase)
            x, y = self._fit_es(state)
        shape = np.shape(state.phi)
        return x.numpy().reshape(shape), y.numpy().reshape(shape)

    def _new_cpus(self, f: np.ndarray, allows_common: bool) -> None:
        """What the UEs' slots allow them, for CPUs ``f``: per UE and x, whether some y
        fits and the least y that does (or, where none does, the y of least UE work); the
        UEs that cannot run every step themselves; their steps' own costs."""
        self._f_key = f.tobytes()
        work_s = ue_work_grid_s(self.physics, self.steps.x_max, self.steps.y_max, f)
        pairs = torch.from_numpy(action_mask(self.steps, allows_common))
        self._within = pairs & torch.from_numpy(work_s <= self.slot_s)
        self._x_within = self._within.any(-1)
        y_index = torch.arange(self.steps.y_max + 1)
        least = torch.where(self._within, y_index, self.steps.y_max + 1).amin(-1)
        most = torch.where(pairs, y_index, -1).amax(-1).expand_as(least)
        self._least_y = torch.where(self._x_within, least, most)
        # the fewest steps off the UE its slot needs: a held UE takes no more common ones
        total = (torch.arange(self.steps.x_max + 1)[:, None] + y_index).expand_as(self._within)
        need = torch.where(self._within, total,
                           self.steps.x_max + self.steps.y_max + 1).amin((-2, -1))
        self._x_needed = torch.arange(self.steps.x_max + 1) <= need.unsqueeze(1)
        self._held = need > 0
        self._f = f
        self._own_step = self.costs.ue_step(f)

    def ue_price(self, price: float) -> np.ndarray:
        """Each UE's price per second of its own work at the ES's ``price``: where its slot
        cannot hold every step, enough to make its steps as dear as the ES's, the value
        of its capacity where the ES takes its overflow; 0 elsewhere."""
        es_step = self.costs.es_step + price * self.costs.es_step_s
        gap = np.maximum(es_step - self._own_step, 0.0)
        return np.where(self._held.numpy(), gap * self._f / self.costs.ue_step_s_hz, 0.0)

    def _at(self, state: SlotState, price: float) -> tuple[torch.Tensor, torch.Tensor, float]:
        """The decision at the ES's ``price`` and the UEs' (:meth:`ue_price`), and its ES
        work, s.

        A UE whose slot cannot hold every step is priced to find its own steps at least
        as dear as the ES's. Where that price is not 0 (it would rather keep its steps)
        or its actor's answer to a bound would still overrun its slot, it answers with
        the x its actor prefers under the bound, up to what its slot needs (or more, if
        its actor unpriced wants more common steps), and the fewest ES steps its slot
        allows with it: the split at the edge of its capacity (the primal recovery of a
        linear relaxation, where its actor's y is indifferent). A UE that would rather
        hand its steps to the ES answers freely. Each group's bound is then the one the model values
        most given every member's answer (GeneralistNet.settle).
        """
        ue_price = self.ue_price(price)
        costs = self.costs.priced(price)
        if self._quality[0] is not state:          # one slot is observed at several prices
            self._quality = state, self.costs.quality(np.asarray(state.phi, dtype=float).ravel())
        quality = self._quality[1]
        obs = observe(costs, state, ue_price, quality)
        x_ok, x_feasible, pairs = self.net.grids(obs)
        x_logits, y_logits = self.net.logits(obs)
        x_free, y_free = self.net.answers(x_logits, y_logits, x_feasible, pairs)
        allowed = self._x_within & self._x_needed
        x_held = torch.cummax(torch.where(allowed, x_logits, MASKED_LOGIT), dim=1).indices
        x_held = torch.where(torch.cummax(allowed.to(torch.int8), dim=1).values > 0,
                             x_held, x_free)        # nothing allowed up to X: as if free
        if (ue_price > 0.0).any():      # more common steps than it needs, if it wants them
            x_own = self.net.x_answers(self.net.logits(observe(costs, state, 0.0, quality))[0],
                                       x_feasible)
            x_held = torch.maximum(x_held, x_own)
        ues = torch.arange(len(x_free))[:, None]
        held = (torch.from_numpy(ue_price > 0.0)[:, None]          # priced to indifference
                | (self._held[:, None] & ~self._within[ues, x_free, y_free]))  # overruns
        x_answer = torch.where(held, x_held, x_free)
        y_answer = torch.where(held, self._least_y.gather(1, x_held), y_free)
        choice = self.net.settle(obs, x_ok, x_answer, y_answer)
        common = torch.zeros(len(obs.group), dtype=choice.x.dtype).scatter_reduce_(
            0, torch.from_numpy(obs.row), choice.x, "amax")                  # x_m^max
        work_s = (self.costs.common_step_s * float(common.sum())              # eq. (1)
                  + self.costs.es_step_s * float(choice.y.sum()))             # eq. (3)
        return choice.x, choice.y, work_s

    def _fit_es(self, state: SlotState) -> tuple[torch.Tensor, torch.Tensor]:
        """The decision at the inherited ES price if it fits the ES's capacity, else at the
        least price found that does; where none up to the ceiling does, the ES is planned
        to its whole slot (:meth:`capacity_s`), and what still does not fit overflows the
        UEs' own CPUs (:meth:`_overflow`). The ES price for the next slot."""
        capacity_s = self.capacity_s(state)
        price = self.price
        x, y, work_s = self._at(state, price)
        if work_s <= capacity_s:
            self.overloaded = self.overloaded and work_s > self.planned_s
            self.price = price / DECAY if price / DECAY >= self.cold_start else 0.0
            return x, y
        if self.overloaded:               # it was last slot too: no search, overflow
            return self._overflow(x, y, np.asarray(state.group).ravel(), work_s - capacity_s)
        cold = price == 0.0
        growth = COLD_GROWTH if cold else WARM_GROWTH
        low, high = price, min(max(price * growth, self.cold_start), self.ceiling)
        least = (work_s, price, x, y)
        for _ in range(COLD_RAISES if cold else WARM_RAISES):
            x, y, work_s = self._at(state, high)
            if work_s < least[0]:
                least = (work_s, high, x, y)
            if work_s <= capacity_s or high >= self.ceiling:
                break
            low, high = high, min(high * growth, self.ceiling)
        if work_s > capacity_s:            # nothing fits: the least ES work seen
            work_s, self.price, x, y = least
            self.overloaded = True
            capacity_s = self.capacity_s(state)
            return self._overflow(x, y, np.asarray(state.group).ravel(), work_s - capacity_s)
        if cold and low > 0.0:
            for _ in range(COLD_BISECTIONS):
                middle = float(np.sqrt(low * high))
                trial = self._at(state, middle)
                if trial[2] <= capacity_s:
                    high, (x, y) = middle, trial[:2]
                else:
                    low = middle
        self.price = high
        return x, y

    def _overflow(self, x: torch.Tensor, y: torch.Tensor, ue_group: np.ndarray, excess_s: float
                  ) -> tuple[torch.Tensor, torch.Tensor]:
        """(x, y) with ``excess_s`` of ES work moved onto the UEs' own CPUs, where it
        overruns their slots least (the fluid policy's soft capacities, fluid.py): first
        the ES steps UEs have room for, fastest CPUs first; then, one step at a time, a
        UE's personalized step or a group's top common step, whichever overruns the UEs'
        slots by the least time (a common step overruns each of its top members)."""
        x, y = x.numpy().copy(), y.numpy().copy()
        step_s = self.costs.ue_step_s_hz / self._f
        order = np.argsort(-self._f, kind="stable")
        slack_s = self.slot_s - (self.physics.total_steps - x - y) * step_s        # eq. (8)
        room = np.floor(np.maximum(slack_s, 0.0) / step_s + 1e-9).astype(y.dtype)
        excess_s = self._move_y(y, np.minimum(y, room), order, excess_s)
        groups = int(ue_group.max()) + 1
        while excess_s > TOLERANCE_S:
            overrun_s = np.maximum(step_s - np.maximum(
                self.slot_s - (self.physics.total_steps - x - y) * step_s, 0.0), 0.0)
            ue_cost = np.where(y[order] > 0, overrun_s[order], np.inf)
            ue = int(order[np.argmin(ue_cost)])                   # fastest among the least
            top = np.zeros(groups, dtype=x.dtype)
            np.maximum.at(top, ue_group, x)
            at_top = (x == top[ue_group]) & (x > 0)
            group_cost = np.bincount(ue_group[at_top], overrun_s[at_top],
                                     minlength=groups).astype(float)
            group_cost[top == 0] = np.inf
            group = int(np.argmin(group_cost))
            if min(ue_cost.min(), group_cost[group]) == np.inf:
                break
            if ue_cost.min() <= group_cost[group]:
                y[ue] -= 1
                excess_s -= self.costs.es_step_s
            else:
                x[at_top & (ue_group == group)] -= 1
                excess_s -= self.costs.common_step_s
        return torch.from_numpy(x), torch.from_numpy(y)

    def _move_y(self, y: np.ndarray, movable: np.ndarray, order: np.ndarray,
                excess_s: float) -> float:
        """Take up to ``movable`` ES steps off each UE in ``order`` until ``excess_s`` of
        ES work is gone (in place); what is left of it."""
        steps = movable[order]
        freed_s = np.cumsum(steps) * self.costs.es_step_s
        last = int(np.searchsorted(freed_s, excess_s - TOLERANCE_S))
        taken = np.zeros(len(order), dtype=y.dtype)
        taken[:last] = steps[:last]
        if last < len(order):                  # the last UE gives only what is needed
            left_s = excess_s - (freed_s[last - 1] if last else 0.0)
            taken[last] = min(steps[last], int(np.ceil(left_s / self.costs.es_step_s - 1e-9)))
        y[order] -= taken
        return excess_s - float(taken.sum()) * self.costs.es_step_s
