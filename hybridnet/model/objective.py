"""The closed-form model: a decision (x, y) for every UE -> delays, energies, QoS, reward.

This is the paper's model (13)-(17) evaluated without queues: every task gets
its own processor and every UE its own band. It is the fast engine used for
training and by the oracle; the DES reproduces it exactly when it has no
contention (tests/test_des_equivalence.py). The costs themselves come from the
kernel (:mod:`hybridnet.model.costs`); this module adds the coupling through
x_m^max and the sums of eq. (15)-(16).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.model.costs import common_energy_j, downlink_rate_bps, tx_delay_s, ue_costs
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState


@dataclass(frozen=True)
class SlotOutcome:
    """Per-UE (..., N), per-group (..., M) and per-slot (...) results of one decision."""

    x: np.ndarray
    y: np.ndarray
    z: np.ndarray
    common_steps: np.ndarray
    """x_m^max per group (..., M)."""
    rate_bps: np.ndarray
    t_common_s: np.ndarray
    t_es_s: np.ndarray
    t_tx_s: np.ndarray
    t_ue_s: np.ndarray
    delay_s: np.ndarray
    e_common_j: np.ndarray
    """E_m^C per group (..., M)."""
    e_es_j: np.ndarray
    e_tx_j: np.ndarray
    e_ue_j: np.ndarray
    own_energy_j: np.ndarray
    """E_n of eq. (14): e_es_j + e_tx_j + e_ue_j."""
    qos: np.ndarray
    total_qos: np.ndarray
    total_delay_s: np.ndarray
    total_energy_j: np.ndarray
    reward: np.ndarray


def group_max(values: np.ndarray, group: np.ndarray, num_groups: int) -> np.ndarray:
    """Max of ``values`` over each group's members, 0 for an empty group; shape (..., M)."""
    lead = values.shape[:-1]
    batch = int(np.prod(lead)) if lead else 1
    offsets = (np.arange(batch) * num_groups).reshape(lead + (1,)) if lead else 0
    out = np.zeros(batch * num_groups, dtype=values.dtype)
    np.maximum.at(out, (group + offsets).ravel(), values.ravel())
    return out.reshape(lead + (num_groups,))


def evaluate(params: ModelParams, state: SlotState, x: np.ndarray, y: np.ndarray) -> SlotOutcome:
    """Evaluate the decision (x, y) in closed form, eq. (1)-(17)."""
    p = params.physics
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    common_steps = group_max(x, state.group, state.num_groups)                  # x_m^max
    waited_steps = x if p.early_handoff else np.take_along_axis(
        common_steps, state.group, axis=-1)
    rate = downlink_rate_bps(p, state.gain)                                     # eq. (6)
    ue = ue_costs(p, x, y, waited_steps=waited_steps, f_ue_hz=state.f_ue_hz, phi=state.phi,
                  t_tx_s=tx_delay_s(p, rate))                                   # eq. (1)-(14)
    e_common = common_energy_j(p, common_steps)                                 # eq. (2)
    total_qos = ue.qos.sum(axis=-1)                                             # eq. (15)
    total_delay = ue.delay_s.sum(axis=-1)                                       # eq. (15)
    total_energy = e_common.sum(axis=-1) + ue.own_energy_j.sum(axis=-1)         # eq. (16)
    return SlotOutcome(
        x=x, y=y, z=ue.z, common_steps=common_steps, rate_bps=rate,
        t_common_s=ue.t_common_s, t_es_s=ue.t_es_s, t_tx_s=ue.t_tx_s, t_ue_s=ue.t_ue_s,
        delay_s=ue.delay_s, e_common_j=e_common, e_es_j=ue.e_es_j, e_tx_j=ue.e_tx_j,
        e_ue_j=ue.e_ue_j, own_energy_j=ue.own_energy_j, qos=ue.qos,
        total_qos=total_qos, total_delay_s=total_delay, total_energy_j=total_energy,
        reward=params.reward.objective(total_qos, total_delay, total_energy,
                                       state.num_ues),                          # eq. (17a)
    )
