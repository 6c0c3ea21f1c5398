"""The cost kernel: delays, energies and QoS of a decision, eq. (1)-(9) and (12)-(14).

Every cost in hybridnet is computed here, by whichever engine or consumer
needs it: the closed form (:mod:`hybridnet.model.objective`), the DES's plan of
a slot and its recorder (which applies eq. (7) to the time a transfer actually
took on a shared band), the oracle (on an (N, X+1, Y+1) grid of candidate
splits), and the reward references (:mod:`hybridnet.model.reference`). The
functions take the scenario's :class:`PhysicsParams` and broadcast like numpy
arrays, so one UE, one slot (N,), a batch of slots (S, N) or a grid of
candidates all go through the same lines. Weighing the costs into the reward
is :class:`hybridnet.model.reward.RewardParams`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from hybridnet.model.channel import shannon_rate_bps
from hybridnet.model.channel import tx_delay_s as transfer_delay_s
from hybridnet.model.channel import tx_energy_j as transfer_energy_j
from hybridnet.model.compute import processing_delay_s, processing_energy_j
from hybridnet.model.physics import PhysicsParams


def common_delay_s(p: PhysicsParams, steps: ArrayLike) -> np.ndarray:
    """Seconds of ``steps`` common steps on the ES."""
    return processing_delay_s(steps, p.es_cycles_per_step, p.es_freq_hz)        # eq. (1)


def common_energy_j(p: PhysicsParams, steps: ArrayLike) -> np.ndarray:
    """Joules of ``steps`` common steps on the ES, spent once for the whole group."""
    return processing_energy_j(steps, p.es_cycles_per_step, p.es_freq_hz,
                               p.es_kappa)                                      # eq. (2)


def es_delay_s(p: PhysicsParams, y: ArrayLike) -> np.ndarray:
    """Seconds of personalized phase I (y steps) on the ES."""
    return processing_delay_s(y, p.es_cycles_per_step, p.es_freq_hz)            # eq. (3)


def es_energy_j(p: PhysicsParams, y: ArrayLike) -> np.ndarray:
    """Joules of personalized phase I on the ES."""
    return processing_energy_j(y, p.es_cycles_per_step, p.es_freq_hz,
                               p.es_kappa)                                      # eq. (4)


def downlink_rate_bps(p: PhysicsParams, gain: ArrayLike,
                      bandwidth_hz: ArrayLike | None = None) -> np.ndarray:
    """Shannon rate at channel gain ``gain`` on ``bandwidth_hz`` (default: a dedicated b_n)."""
    band = p.bandwidth_hz if bandwidth_hz is None else bandwidth_hz
    return shannon_rate_bps(band, p.tx_power_w, gain, p.noise_psd_w_hz)         # eq. (6)


def tx_delay_s(p: PhysicsParams, rate_bps: ArrayLike) -> np.ndarray:
    """Seconds on the air for one latent at ``rate_bps``."""
    return transfer_delay_s(p.payload_bits, rate_bps)                          # eq. (5)


def tx_energy_j(p: PhysicsParams, t_tx_s: ArrayLike) -> np.ndarray:
    """Transmit energy of ``t_tx_s`` seconds on the air, however long the band made it."""
    return transfer_energy_j(p.tx_power_w, t_tx_s)                             # eq. (7)


def ue_delay_s(p: PhysicsParams, z: ArrayLike, f_ue_hz: ArrayLike) -> np.ndarray:
    """Seconds of personalized phase II (z steps) on the UE's CPU."""
    return processing_delay_s(z, p.ue_cycles_per_step, f_ue_hz)                 # eq. (8)


def ue_work_grid_s(p: PhysicsParams, x_max: int, y_max: int, f_ue_hz: ArrayLike) -> np.ndarray:
    """Each UE's phase II work, s, for every (x, y) of the step grid: (..., N, X+1, Y+1).

    z = T_max - x - y is clipped at 0 where x + y exceeds T_max (an infeasible pair
    whose work the masks discard anyway)."""
    z = p.total_steps - np.arange(x_max + 1)[:, None] - np.arange(y_max + 1)[None, :]
    return ue_delay_s(p, np.maximum(z, 0), np.asarray(f_ue_hz)[..., None, None])   # eq. (8)


def ue_energy_j(p: PhysicsParams, z: ArrayLike, f_ue_hz: ArrayLike) -> np.ndarray:
    """Joules of personalized phase II on the UE's CPU."""
    return processing_energy_j(z, p.ue_cycles_per_step, f_ue_hz, p.ue_kappa)    # eq. (9)


def qos(p: PhysicsParams, x: ArrayLike, phi: ArrayLike) -> np.ndarray:
    """Quality of the final image after x common steps at similarity phi (HIQM)."""
    return p.qos_model.qos(x, phi)                                              # eq. (12)


@dataclass(frozen=True)
class UeCosts:
    """Every per-UE cost of a decision, shaped like ``x``, ``y`` and the conditions broadcast."""

    z: np.ndarray
    t_common_s: np.ndarray
    t_es_s: np.ndarray
    t_tx_s: np.ndarray
    t_ue_s: np.ndarray
    delay_s: np.ndarray
    """T_n, eq. (13)."""
    e_es_j: np.ndarray
    e_tx_j: np.ndarray
    e_ue_j: np.ndarray
    own_energy_j: np.ndarray
    """E_n, eq. (14): the UE's own phases; the common phase's energy is its group's."""
    qos: np.ndarray


def ue_costs(p: PhysicsParams, x: ArrayLike, y: ArrayLike, *, waited_steps: ArrayLike,
             f_ue_hz: ArrayLike, phi: ArrayLike, t_tx_s: ArrayLike) -> UeCosts:
    """The costs of splits (x, y) for UEs with CPU ``f_ue_hz`` and similarity ``phi``.

    ``waited_steps`` are the common steps a UE waits for: x_m^max of its group
    under eq. (13), its own x_n with early hand-off, 0 to leave the common delay
    out. ``t_tx_s`` is the transfer delay: eq. (5) of the UE's own rate for a
    dedicated band, but a caller may need another (the references average it
    over the distances), so it is given rather than derived here.
    """
    z = p.total_steps - x - y                                                   # eq. (17e)
    t_common = common_delay_s(p, waited_steps)                                  # eq. (1)
    t_es = es_delay_s(p, y)                                                     # eq. (3)
    t_ue = ue_delay_s(p, z, f_ue_hz)                                            # eq. (8)
    e_es = es_energy_j(p, y)                                                    # eq. (4)
    e_tx = tx_energy_j(p, t_tx_s)                                               # eq. (7)
    e_ue = ue_energy_j(p, z, f_ue_hz)                                           # eq. (9)
    return UeCosts(
        z=z, t_common_s=t_common, t_es_s=t_es, t_tx_s=np.asarray(t_tx_s), t_ue_s=t_ue,
        delay_s=t_common + t_es + t_tx_s + t_ue,                                # eq. (13)
        e_es_j=e_es, e_tx_j=e_tx, e_ue_j=e_ue,
        own_energy_j=e_es + e_tx + e_ue,                                        # eq. (14)
        qos=qos(p, x, phi),                                                     # eq. (12)
    )
