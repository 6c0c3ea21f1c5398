"""The oracle held to what the cell can serve: the queue-aware teacher and yardstick.

The closed-form oracle maximises each slot's reward as if nothing queued. In a
busy cell that decision can hand a resource more work per slot than it serves
in a slot, and its queue then grows for ever. In the fluid limit a cell is
stable exactly when no resource is loaded beyond its capacity, so this policy
maximises the slot reward (17a) subject to

- every UE's phase II work within one slot: z_n c^UE / f_n <= slot_s (eq. 8);
- the ES's work within ES_LOAD (90 %) of one slot of its units:
  sum_m t_common(X_m) + sum_n t_ES(y_n) <= 0.9 * units * slot_s (eq. 1, 3).

Where no decision meets them all (a UE too slow for its slot whatever its
group's common steps, an ES the groups' common phases alone overload), some
queue grows whatever the policy does, and what matters is how fast the
requests' waiting grows: a UE's work beyond its slot delays only its own
requests, by that much more every slot; ES work beyond its capacity delays
every request of the slot, by 1/units of it more every slot. So the
constraints are soft, at the price OVERLOAD_SLOTS times the reward's weight of
a second of one request's delay, per second of that growth: work beyond a
UE's slot costs it per second, work beyond the ES's planned capacity N/units
times that. The ES's capacity is then all of its units' slot less the backlog
they have not yet served (``es_room_s``): no reserve is kept where a queue grows
anyway, and a slot that overshot the ES leaves a backlog that the next slot
plans around. Where the cell can be kept stable, this is the constrained
optimum above; where it cannot, the overload goes where it delays fewest
requests.

The UE terms are per UE, so they only change each UE's own values. The ES
constraint couples everyone; it is priced by a Lagrange multiplier lambda
(reward per second of ES work), which keeps the oracle's per-group
decomposition, and lambda is the least price that brings the ES's work within
capacity, found by bisection (the ES work of the priced optimum does not grow
with the price), capped at the overload's price. One price can miss the best
decision by one UE's jump: at the price where a UE hands its steps back, it
hands all of them, and the ES may end below its plan (two UEs at 0.8 and 1.2
GHz on one unit: waiting growth 0.050 s a slot where 0.043 s was possible);
among hundreds of UEs at different speeds the jumps are small.

It uses the model and the capacities, and of the queues only the ES's backlog
where the cell is overloaded: it is what a queue-aware controller should do in
steady state, and where the cell has spare capacity it is the oracle. HID trained
on the DES imitates it (``train.imitation``) and learns from the DES's rewards
beyond it.
"""

from __future__ import annotations

import numpy as np

from hybridnet.model.costs import common_delay_s, es_delay_s, ue_work_grid_s
from hybridnet.model.objective import group_max
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.oracle import OraclePolicy, Penalty, SlotSolution, SlotValues
from hybridnet.scenario import Scenario, StepsConfig

ES_LOAD = 0.9
"""Share of the ES's capacity the fluid policy plans to use in a stable cell: at full load
an FCFS queue's waiting has no bound, and a reserve leaves a learner that imitates the
policy room for small errors. Where some queue grows anyway the ES is planned to the full
slot less its backlog instead (``es_room_s``). The UEs' CPUs are planned to the full
slot: each serves only its own requests, one a slot, so planned within the slot its
waiting stays under one. docs/controller.md gives the runs that chose 0.9."""

OVERLOAD_SLOTS = 100.0
"""What a second of queue growth per slot costs each request behind it, in seconds of its
delay: a backlog that grows by g each slot delays the request k slots later by k g, so
over a horizon of H slots the growth costs about H/2 times the delay (100: a 200-slot
run). Large enough that the overload is spread before any reward is weighed; on the
overloaded variants of dense.toml 10, 100 and 1000 decide alike (docs/controller.md)."""

PRICE_START = 1e-4
"""First price tried on an overloaded ES, reward per second of ES work: about what one
step of one UE is worth in a slot reward normalised by N."""
PRICE_GROWTH = 4.0
PRICE_RAISES = 40
"""Raises of the price by PRICE_GROWTH before giving up on fitting the ES (a factor 1e24)."""
BISECTIONS = 12
"""Halvings of the bracket once it holds the price: its width ends 1/4096 of where it
began, within 0.1 % of the least price that fits (the ES work is a step function of it)."""


Priced = tuple[SlotSolution, np.ndarray]
"""A fluid solution and the ES's shadow price it settled on, per slot."""

PlannedSlots = dict[tuple[object, ...], Priced]
"""Stable slots' solutions and ES prices (each a batch of one), by the slots' conditions."""


class FluidPolicy:
    """Each slot, the oracle's optimum subject to every UE's and the ES's capacity."""

    name = "fluid"

    def __init__(self, steps: StepsConfig, params: ModelParams, slot_s: float,
                 backlog_units: int) -> None:
        self.oracle = OraclePolicy(steps, params)
        self.steps = steps
        self.params = params
        self.backlog_units = backlog_units
        self.slot_s = slot_s
        self.es_planned_s = ES_LOAD * backlog_units * slot_s

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> FluidPolicy:
        """The fluid policy of ``scenario``: its ES planned as
        :attr:`~hybridnet.scenario.EdgeConfig.backlog_units` units, the units its reported
        backlog is divided by."""
        return cls(scenario.steps, ModelParams.from_scenario(scenario), scenario.sim.slot_s,
                   scenario.edge.backlog_units)

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        return self.solve(state).optimum(state.group)

    def overload_price(self, num_ues: int) -> float:
        """Reward per second a queue grows by in a slot, for each request behind it."""
        return OVERLOAD_SLOTS * self.params.reward.per_unit(num_ues)[1]

    def ue_work_s(self, state: SlotState) -> np.ndarray:
        """Each UE's phase II work, s, per (x, y): (..., N, X+1, Y+1)."""
        return ue_work_grid_s(self.params.physics, self.steps.x_max, self.steps.y_max,
                              state.f_ue_hz)                                       # eq. (8)

    def _es_work_s(self, state: SlotState, solution: SlotSolution) -> np.ndarray:
        """The ES work, s, of the decision ``solution`` makes, per slot (...)."""
        p = self.params.physics
        x, y = solution.optimum(state.group)
        common_steps = group_max(x, state.group, state.num_groups)                 # x_m^max
        return (common_delay_s(p, common_steps).sum(-1)                            # eq. (1)
                + es_delay_s(p, y).sum(-1))                                        # eq. (3)

    def es_room_s(self, state: SlotState) -> np.ndarray:
        """The ES work, s, the slot can still take where some queue grows anyway (...):
        all of its units' slot less what they have not yet served.

        The reserve (ES_LOAD) guards a stable cell's waiting; in an overloaded one
        every second of ES left idle is a second more on a slow UE's queue. Taking
        the backlog off makes the plan a feedback: a decision that overshot the ES
        (a learner's error, a burst of arrivals) leaves work behind, and the next
        slot plans that much less, so the ES's queue stays bounded where its
        capacity allows. The closed form reports no backlog: the whole slot.

        Stable cells keep the reserve's plan whatever the backlog: planning less
        there after a learner's overshoot would move the teacher's targets with
        every mistake (docs/controller.md).
        """
        backlog_s = state.observed_queues.es_backlog_s
        return self.backlog_units * np.maximum(self.slot_s - backlog_s, 0.0)

    def _priced(self, state: SlotState, values: SlotValues, price: np.ndarray
                ) -> tuple[SlotSolution, np.ndarray]:
        p, st = self.params.physics, self.steps
        per_s = price[..., None, None]
        penalty = Penalty(ue=per_s[..., None] * es_delay_s(p, np.arange(st.y_max + 1)),
                          group=per_s * common_delay_s(p, np.arange(st.x_max + 1)))
        solution = self.oracle.best(state, values, penalty)
        return solution, self._es_work_s(state, solution)

    def _fit(self, state: SlotState, values: SlotValues, capacity_s: float | np.ndarray,
             ceiling: float) -> tuple[SlotSolution, np.ndarray, np.ndarray]:
        """The optimum at the least ES price, up to ``ceiling``, that fits ``capacity_s``;
        its ES work and that price, per slot."""
        batch = state.phi.shape[:-1]
        low = np.zeros(batch)
        solution, work_s = self._priced(state, values, low)
        over = work_s > capacity_s
        if not over.any():
            return solution, work_s, low
        high = np.where(over, min(PRICE_START, ceiling), 0.0)
        for _ in range(PRICE_RAISES):
            _, work_s = self._priced(state, values, high)
            still = (work_s > capacity_s) & (high < ceiling)
            if not still.any():
                break
            low = np.where(still, high, low)
            high = np.where(still, np.minimum(high * PRICE_GROWTH, ceiling), high)
        for _ in range(BISECTIONS):
            middle = np.where(over, 0.5 * (low + high), 0.0)
            _, work_s = self._priced(state, values, middle)
            fits = work_s <= capacity_s
            high = np.where(over & fits, middle, high)
            low = np.where(over & ~fits, middle, low)
        fitting, fitting_s = self._priced(state, values, high)
        if np.isinf(ceiling):
            return fitting, fitting_s, high
        # work beyond capacity is allowed at the ceiling's price: the decision just over
        # it, at the bracket's low end, may be worth more than the one that fits
        crossing, crossing_s = self._priced(state, values, low)
        better = (self._value(state, values, crossing, crossing_s - capacity_s, ceiling)
                  > self._value(state, values, fitting, fitting_s - capacity_s, ceiling))
        return (_where(better, crossing, fitting), np.where(better, crossing_s, fitting_s),
                np.where(better, low, high))

    def _value(self, state: SlotState, values: SlotValues, solution: SlotSolution,
               excess_s: np.ndarray, price: float) -> np.ndarray:
        """``values`` of the decision ``solution`` makes, less ``price`` per second of ES
        work in ``excess_s`` (...)."""
        x, y = solution.optimum(state.group)
        own = np.take_along_axis(
            np.take_along_axis(values.ue, x[..., None, None], axis=-2)[..., 0, :],
            y[..., None], axis=-1)[..., 0].sum(axis=-1)
        group = values.group_energy[solution.group_bound]
        if values.group_wait is not None:
            group = group + np.take_along_axis(values.group_wait,
                                               solution.group_bound[..., None], axis=-1)[..., 0]
        return own - group.sum(axis=-1) - price * np.maximum(excess_s, 0.0)

    def solve(self, state: SlotState, values: SlotValues | None = None) -> SlotSolution:
        """The constrained optimum of one slot or a batch (S, N), with every best response
        under its prices (what a learner imitates); ``values``: the oracle's, if at hand."""
        return self.solve_priced(state, values)[0]

    def solve_priced(self, state: SlotState, values: SlotValues | None = None,
                     planned: PlannedSlots | None = None) -> Priced:
        """:meth:`solve`, and the price of a second of ES work it settled on, per slot (...).

        The price is the ES's shadow price: 0 where the ES has room, higher the
        more the cell wants of it. A controller that sees it knows how scarce the
        ES is in this slot, which no UE's or group's own state tells. A slot
        in ``planned`` (:meth:`plan_ahead`) is answered from it.
        """
        ready = (planned.get(_conditions_key(state))
                 if planned is not None and state.phi.shape[:-1] == (1,) else None)
        if ready is not None:
            return ready
        values = self.oracle.values(state) if values is None else values
        over_s = np.maximum(self.ue_work_s(state) - self.slot_s, 0.0)
        planned, planned_price, stable = self._plan(state, values, over_s)
        if stable.all():
            return planned, planned_price
        # elsewhere some queue grows whatever the decision: price the growth
        price = self.overload_price(state.num_ues)
        soft = SlotValues(ue=values.ue - price * over_s, group_wait=values.group_wait,
                          group_energy=values.group_energy)
        full, _, full_price = self._fit(state, soft, self.es_room_s(state),
                                        price * state.num_ues / self.backlog_units)
        return _where(stable, planned, full), np.where(stable, planned_price, full_price)

    def _plan(self, state: SlotState, values: SlotValues, over_s: np.ndarray
              ) -> tuple[SlotSolution, np.ndarray, np.ndarray]:
        """The optimum within every capacity, the ES held to its reserve; its price; and
        the slots where it exists, the stable ones (...). None of it depends on the queues.
        """
        # stable where every UE has an option within its slot and the ES fits its plan
        within = SlotValues(ue=np.where(over_s > 0, -np.inf, values.ue),
                            group_wait=values.group_wait, group_energy=values.group_energy)
        planned, work_s, planned_price = self._fit(state, within, self.es_planned_s, np.inf)
        stable = ((work_s <= self.es_planned_s)
                  & np.isfinite(within.ue).any(axis=(-2, -1)).all(axis=-1))
        return planned, planned_price, stable

    def plan_ahead(self, slots: SlotState) -> PlannedSlots:
        """The stable ones of a run's slots (S, N), solved in one batched call, by their
        conditions: what :meth:`solve_priced`'s ``planned`` takes.

        A stable slot's solution depends on its conditions only, never on the
        queues, and the DES draws every slot's conditions independently of the
        decisions, so training can solve an episode's slots before playing it,
        and while the previous episode plays (:class:`~hybridnet.rl.train.Trainer`
        runs this on a second thread; a policy's buffers are its own, so that
        thread needs a FluidPolicy of its own). The answers are the same to the
        last bit as solving each slot alone (a batch's slots are solved
        independently); a slot not planned is simply solved when it comes.
        """
        values = self.oracle.values(slots)
        over_s = np.maximum(self.ue_work_s(slots) - self.slot_s, 0.0)
        planned, price, stable = self._plan(slots, values, over_s)
        return {
            _conditions_key(slots.take(k)): (
                SlotSolution(group_bound=planned.group_bound[k:k + 1],
                             x_upto=planned.x_upto[k:k + 1], y_of_x=planned.y_of_x[k:k + 1]),
                price[k:k + 1])
            for k in np.flatnonzero(stable).tolist()}


def _conditions_key(state: SlotState) -> tuple[object, ...]:
    """What a slot's stable solution depends on, exactly, as a dictionary key."""
    return (state.f_ue_hz.tobytes(), state.phi.tobytes(), state.group.tobytes(),
            state.gain.tobytes(), state.num_groups, state.allows_common_phase)


def _where(condition: np.ndarray, chosen: SlotSolution, other: SlotSolution) -> SlotSolution:
    """Per slot (``condition``'s shape), ``chosen`` where it holds and ``other`` elsewhere."""
    return SlotSolution(
        group_bound=np.where(condition[..., None], chosen.group_bound, other.group_bound),
        x_upto=np.where(condition[..., None, None], chosen.x_upto, other.x_upto),
        y_of_x=np.where(condition[..., None, None], chosen.y_of_x, other.y_of_x))
