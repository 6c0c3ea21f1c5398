"""The closed-form model: a decision (x, y) for every UE -> delays, energies, QoS, reward.

This is the paper's model (13)-(17) evaluated without queues: every task gets
its own processor and every UE its own band. It is the fast engine used for
training and by the oracle; the DES reproduces it exactly when it has no
contention (tests/test_des_equivalence.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.model.channel import shannon_rate_bps, tx_delay_s, tx_energy_j
from hybridnet.model.compute import processing_delay_s, processing_energy_j
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


def slot_reward(params: ModelParams, num_ues: int, total_qos: np.ndarray,
                total_delay_s: np.ndarray, total_energy_j: np.ndarray) -> np.ndarray:
    """Eq. (17a) with each term divided by its per-UE reference times N."""
    w1, w2, w3 = params.weights
    # eq. (17a) w1 Q - w2 T - w3 E, normalised (our assumption, docs/scenarios.md)
    return (w1 * total_qos / (num_ues * params.qos_ref)
            - w2 * total_delay_s / (num_ues * params.delay_ref_s)
            - w3 * total_energy_j / (num_ues * params.energy_ref_j))


def downlink_rate_bps(params: ModelParams, state: SlotState) -> np.ndarray:
    """Dedicated-band rate of every UE, eq. (6)."""
    return shannon_rate_bps(params.bandwidth_hz, params.tx_power_w, state.gain,
                            params.noise_psd_w_hz)


def evaluate(params: ModelParams, state: SlotState, x: np.ndarray, y: np.ndarray) -> SlotOutcome:
    """Evaluate the decision (x, y) in closed form, eq. (1)-(17)."""
    x = np.asarray(x, dtype=np.int64)
    y = np.asarray(y, dtype=np.int64)
    z = params.total_steps - x - y
    common_steps = group_max(x, state.group, state.num_groups)
    waited_steps = x if params.early_handoff else np.take_along_axis(
        common_steps, state.group, axis=-1)
    t_common = processing_delay_s(waited_steps, params.es_cycles_per_step,
                                  params.es_freq_hz)                                 # eq. (1)
    t_es = processing_delay_s(y, params.es_cycles_per_step, params.es_freq_hz)       # eq. (3)
    rate = downlink_rate_bps(params, state)                                          # eq. (6)
    t_tx = tx_delay_s(params.payload_bits, rate)                                     # eq. (5)
    t_ue = processing_delay_s(z, params.ue_cycles_per_step, state.f_ue_hz)           # eq. (8)
    delay = t_common + t_es + t_tx + t_ue                                            # eq. (13)
    e_common = processing_energy_j(common_steps, params.es_cycles_per_step,
                                   params.es_freq_hz, params.es_kappa)               # eq. (2)
    e_es = processing_energy_j(y, params.es_cycles_per_step, params.es_freq_hz,
                               params.es_kappa)                                      # eq. (4)
    e_tx = tx_energy_j(params.tx_power_w, t_tx)                                      # eq. (7)
    e_ue = processing_energy_j(z, params.ue_cycles_per_step, state.f_ue_hz,
                               params.ue_kappa)                                      # eq. (9)
    qos = params.qos_model.qos(x, state.phi)                                         # eq. (12)
    total_qos = qos.sum(axis=-1)                                                     # eq. (15)
    total_delay = delay.sum(axis=-1)                                                 # eq. (15)
    total_energy = e_common.sum(axis=-1) + (e_es + e_tx + e_ue).sum(axis=-1)         # eq. (14, 16)
    return SlotOutcome(
        x=x, y=y, z=z, common_steps=common_steps, rate_bps=rate,
        t_common_s=t_common, t_es_s=t_es, t_tx_s=t_tx, t_ue_s=t_ue, delay_s=delay,
        e_common_j=e_common, e_es_j=e_es, e_tx_j=e_tx, e_ue_j=e_ue, qos=qos,
        total_qos=total_qos, total_delay_s=total_delay, total_energy_j=total_energy,
        reward=slot_reward(params, state.num_ues, total_qos, total_delay, total_energy),
    )
