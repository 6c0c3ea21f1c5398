"""The exact optimum of (17) for one slot, by enumerating each group's x_m^max.

UEs interact only through x_m^max in (1), (2) and (13). Fix X = x_m^max of a
group as an upper bound: then each member's best (x_n <= X, y_n) is its own
business, and the group's value is the sum of its members' bests minus the
X-dependent common delay and energy. Enumerating X per group is therefore
exact (a bound X above the realised max only costs more, so the argmax is
attained with X = the realised max), in O(N * |x| * |y| + M * |x|).
"""

from __future__ import annotations

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
from hybridnet.scenario import StepsConfig

_INFEASIBLE = -np.inf


class OraclePolicy:
    """Chooses the reward-maximising decision of every slot on the closed-form model."""

    name = "oracle"

    def __init__(self, steps: StepsConfig, params: ModelParams) -> None:
        self.steps = steps
        self.params = params

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        p, st = self.params.physics, self.steps
        n = state.num_ues
        q_scale, t_scale, e_scale = self.params.reward.per_unit(n)

        # every UE's own costs on the (N, X+1, Y+1) grid, the wait for the common latent aside
        steps_x = np.arange(st.x_max + 1)
        x = steps_x[None, :, None]
        t_tx = tx_delay_s(p, downlink_rate_bps(p, state.gain))
        own = ue_costs(p, x, np.arange(st.y_max + 1)[None, None, :], waited_steps=0,
                       f_ue_hz=state.f_ue_hz[:, None, None], phi=state.phi[:, None, None],
                       t_tx_s=t_tx[:, None, None])
        common_delay = common_delay_s(p, steps_x)                        # eq. (1), per X
        own_delay = own.delay_s
        if p.early_handoff:
            own_delay = own_delay + common_delay[None, :, None]          # waits for its own x
        value = q_scale * own.qos - t_scale * own_delay - e_scale * own.own_energy_j
        mask = action_mask(st, state.allows_common_phase)
        value = np.where(mask[None], value, _INFEASIBLE)

        best_y = value.argmax(axis=2)                      # (N, X+1)
        best_per_x = value.max(axis=2)                     # (N, X+1)
        best_upto = np.maximum.accumulate(best_per_x, axis=1)

        group_value = np.zeros((state.num_groups, st.x_max + 1))
        np.add.at(group_value, state.group, best_upto)
        if not p.early_handoff:                            # every member waits for X, eq. (13)
            members = np.bincount(state.group, minlength=state.num_groups)[:, None]
            group_value -= t_scale * members * common_delay[None, :]
        group_value -= e_scale * common_energy_j(p, steps_x)[None, :]   # eq. (2), once a group
        bound = group_value.argmax(axis=1)[state.group]    # X of each UE's group

        allowed = np.arange(st.x_max + 1)[None, :] <= bound[:, None]
        x_choice = np.where(allowed, best_per_x, _INFEASIBLE).argmax(axis=1)
        y_choice = best_y[np.arange(n), x_choice]
        return x_choice, y_choice
