"""The exact optimum of (17) for one slot, by enumerating each group's x_m^max.

UEs interact only through x_m^max in (1), (2) and (13). Fix X = x_m^max of a
group as an upper bound: then each member's best (x_n <= X, y_n) is its own
business, and the group's value is the sum of its members' bests minus the
X-dependent common delay and energy. Enumerating X per group is therefore
exact (a bound X above the realised max only costs more, so the argmax is
attained with X = the realised max), in O(N * |x| * |y| + M * |x|).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.model.actions import action_mask
from hybridnet.model.costs import (
    common_delay_s,
    common_energy_j,
    downlink_rate_bps,
    tx_delay_s,
    ue_costs,
)
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.scenario import Scenario, StepsConfig

_INFEASIBLE = -np.inf


@dataclass(frozen=True)
class Penalty:
    """Costs the reward does not see, in reward units, subtracted from the value of (17a).

    Both keep the oracle's decomposition: a per-UE cost of its own (x_n, y_n)
    and a per-group cost of the bound X. Drift-plus-penalty control
    (:mod:`hybridnet.policies.dpp`) prices queues this way.
    """

    ue: np.ndarray
    """Per UE and (x, y), broadcastable to (..., N, X+1, Y+1)."""
    group: np.ndarray
    """Per group and bound X, broadcastable to (..., M, X+1)."""


@dataclass(frozen=True)
class SlotValues:
    """The terms of (17a) the oracle maximises, before any penalty."""

    ue: np.ndarray
    """Each UE's own value per (x, y), -inf where infeasible, (..., N, X+1, Y+1)."""
    group_wait: np.ndarray | None
    """Without early hand-off, the members' wait for X common steps (eq. 13), (..., M, X+1)."""
    group_energy: np.ndarray
    """The common phase's energy per X (eq. 2), (X+1,)."""


@dataclass(frozen=True)
class SlotSolution:
    """The exact optimum of one slot, or of a batch of slots (leading dimension S).

    Besides the optimum it holds every UE's best response to any bound X, which
    is what a learner needs to be told when its group's X is not the optimal one.
    """

    group_bound: np.ndarray
    """Optimal X = x_m^max of every group, (..., M)."""
    x_upto: np.ndarray
    """UE n's best x_n <= X for every bound X, (..., N, X+1)."""
    y_of_x: np.ndarray
    """UE n's best y_n for every x_n, (..., N, X+1)."""

    def respond(self, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every UE's best (x_n, y_n) when its group runs ``bound`` (..., N) common steps."""
        x = np.take_along_axis(self.x_upto, bound[..., None], axis=-1)[..., 0]
        return x, np.take_along_axis(self.y_of_x, x[..., None], axis=-1)[..., 0]

    def optimum(self, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The optimal decision, given every UE's group (..., N)."""
        return self.respond(np.take_along_axis(self.group_bound, group, axis=-1))


class OraclePolicy:
    """Chooses the reward-maximising decision of every slot on the closed-form model."""

    name = "oracle"

    def __init__(self, steps: StepsConfig, params: ModelParams) -> None:
        self.steps = steps
        self.params = params
        self._scratch = np.empty(0)

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> OraclePolicy:
        """The oracle of ``scenario``'s model."""
        return cls(scenario.steps, ModelParams.from_scenario(scenario))

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        return self.solve(state).optimum(state.group)

    def solve(self, state: SlotState, penalty: Penalty | None = None) -> SlotSolution:
        """The optimum of ``state`` (one slot, or a batch (S, N)) and every best response.

        With a ``penalty``, the optimum of the reward less the penalty, as exactly.
        """
        return self.best(state, self.values(state), penalty)

    def values(self, state: SlotState) -> SlotValues:
        """What :meth:`best` maximises, computed once for callers that solve one state
        under several penalties."""
        p, st = self.params.physics, self.steps
        n = state.num_ues
        q_scale, t_scale, e_scale = self.params.reward.per_unit(n)

        # every UE's own costs on the (..., N, X+1, Y+1) grid, the wait for the common latent aside
        steps_x = np.arange(st.x_max + 1)
        x = steps_x[:, None]
        t_tx = tx_delay_s(p, downlink_rate_bps(p, state.gain))
        own = ue_costs(p, x, np.arange(st.y_max + 1)[None, :], waited_steps=0,
                       f_ue_hz=state.f_ue_hz[..., None, None], phi=state.phi[..., None, None],
                       t_tx_s=t_tx[..., None, None])
        common_delay = common_delay_s(p, steps_x)                        # eq. (1), per X
        own_delay = own.delay_s
        if p.early_handoff:
            own_delay = own_delay + common_delay[:, None]                # waits for its own x
        value = q_scale * own.qos - t_scale * own_delay - e_scale * own.own_energy_j
        mask = action_mask(st, state.allows_common_phase)
        value = np.where(mask, value, _INFEASIBLE)
        group_wait = None
        if not p.early_handoff:                            # every member waits for X, eq. (13)
            m = state.num_groups
            members = np.bincount(state.group_keys(), minlength=state.num_slots * m
                                  ).reshape(*state.group.shape[:-1], m)
            group_wait = t_scale * members[..., None] * common_delay
        return SlotValues(ue=value, group_wait=group_wait,
                          group_energy=e_scale * common_energy_j(p, steps_x))  # eq. (2)

    def best(self, state: SlotState, values: SlotValues, penalty: Penalty | None = None
             ) -> SlotSolution:
        """The maximiser of ``values`` (from :meth:`values`) less ``penalty``."""
        st = self.steps
        steps_x = np.arange(st.x_max + 1)
        value = values.ue
        if penalty is not None:
            # the fluid policy's bisection asks ~20 prices of one state: reuse one buffer
            # of the grid's size rather than map tens of MB afresh for each
            if self._scratch.shape != value.shape:
                self._scratch = np.empty_like(value)
            value = np.subtract(value, penalty.ue, out=self._scratch)
        best_y = value.argmax(axis=-1)                     # (..., N, X+1)
        best_per_x = np.take_along_axis(value, best_y[..., None], axis=-1)[..., 0]
        best_upto = np.maximum.accumulate(best_per_x, axis=-1)
        # the x attaining best_upto: the first x to reach the running maximum (ties: fewer steps)
        new_max = np.ones_like(best_per_x, dtype=bool)
        new_max[..., 1:] = best_per_x[..., 1:] > best_upto[..., :-1]
        x_upto = np.maximum.accumulate(np.where(new_max, steps_x, 0), axis=-1)

        # sum the members' best responses per (slot, group): one bincount over flat keys
        m = state.num_groups
        key, bins = state.group_keys(), state.num_slots * m
        group_value = np.stack([
            np.bincount(key, best_upto.reshape(-1, st.x_max + 1)[:, k], minlength=bins)
            for k in range(st.x_max + 1)], axis=-1).reshape(*state.group.shape[:-1], m, -1)
        if values.group_wait is not None:
            group_value -= values.group_wait
        group_value -= values.group_energy                 # once a group
        if penalty is not None:
            group_value -= penalty.group
        return SlotSolution(group_bound=group_value.argmax(axis=-1), x_upto=x_upto,
                            y_of_x=best_y)
