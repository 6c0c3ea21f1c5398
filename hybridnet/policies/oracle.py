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
from hybridnet.model.channel import tx_delay_s, tx_energy_j
from hybridnet.model.compute import processing_delay_s, processing_energy_j
from hybridnet.model.objective import downlink_rate_bps
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
        p, st = self.params, self.steps
        n = state.num_ues
        w1, w2, w3 = p.weights
        q_scale = w1 / (n * p.qos_ref)
        t_scale = w2 / (n * p.delay_ref_s)
        e_scale = w3 / (n * p.energy_ref_j)

        x = np.arange(st.x_max + 1)[None, :, None]
        y = np.arange(st.y_max + 1)[None, None, :]
        z = st.total - x - y
        f_ue = state.f_ue_hz[:, None, None]
        t_tx = tx_delay_s(p.payload_bits, downlink_rate_bps(p, state))[:, None, None]
        own_delay = (processing_delay_s(y, p.es_cycles_per_step, p.es_freq_hz) + t_tx
                     + processing_delay_s(z, p.ue_cycles_per_step, f_ue))
        own_energy = (processing_energy_j(y, p.es_cycles_per_step, p.es_freq_hz, p.es_kappa)
                      + tx_energy_j(p.tx_power_w, t_tx)
                      + processing_energy_j(z, p.ue_cycles_per_step, f_ue, p.ue_kappa))
        common_delay = processing_delay_s(np.arange(st.x_max + 1), p.es_cycles_per_step,
                                          p.es_freq_hz)
        if p.early_handoff:
            own_delay = own_delay + common_delay[None, :, None]
        value = (q_scale * p.qos_model.qos(x, state.phi[:, None, None])
                 - t_scale * own_delay - e_scale * own_energy)
        mask = action_mask(st, state.allows_common_phase)
        value = np.where(mask[None], value, _INFEASIBLE)

        best_y = value.argmax(axis=2)                      # (N, X+1)
        best_per_x = value.max(axis=2)                     # (N, X+1)
        best_upto = np.maximum.accumulate(best_per_x, axis=1)

        group_value = np.zeros((state.num_groups, st.x_max + 1))
        np.add.at(group_value, state.group, best_upto)
        if not p.early_handoff:
            members = np.bincount(state.group, minlength=state.num_groups)[:, None]
            group_value -= t_scale * members * common_delay[None, :]
        group_value -= e_scale * processing_energy_j(
            np.arange(st.x_max + 1), p.es_cycles_per_step, p.es_freq_hz, p.es_kappa)[None, :]
        bound = group_value.argmax(axis=1)[state.group]    # X of each UE's group

        allowed = np.arange(st.x_max + 1)[None, :] <= bound[:, None]
        x_choice = np.where(allowed, best_per_x, _INFEASIBLE).argmax(axis=1)
        y_choice = best_y[np.arange(n), x_choice]
        return x_choice, y_choice
