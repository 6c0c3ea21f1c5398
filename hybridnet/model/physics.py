"""The physical constants of eq. (1)-(12), read once from a scenario.

The cost kernel (:mod:`hybridnet.model.costs`) runs in tight loops (the
oracle, training), so it takes this flat, precomputed record instead of
walking the scenario's dataclasses each time. The reward's weights and
references are not here (:class:`~hybridnet.model.reward.RewardParams`): the
references are computed from these constants, so they cannot be part of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridnet.model.channel import noise_psd_w_per_hz, payload_bits
from hybridnet.model.hiqm import QosModel, load_qos_model
from hybridnet.scenario import Scenario


@dataclass(frozen=True)
class PhysicsParams:
    """Flat physical constants of one scenario (SI units)."""

    total_steps: int
    """T_max = x_n + y_n + z_n."""
    es_freq_hz: float
    es_cycles_per_step: float
    es_kappa: float
    ue_cycles_per_step: float
    ue_kappa: float
    tx_power_w: float
    bandwidth_hz: float
    """b_n of a dedicated band."""
    noise_psd_w_hz: float
    """sigma0^2, W/Hz."""
    payload_bits: float
    """n_h n_w d_h rho / tau: the bits of one latent on the air."""
    early_handoff: bool
    """Whether UE n waits for common step x_n only, rather than x_m^max (eq. 13)."""
    qos_model: QosModel

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> PhysicsParams:
        lat, ch = scenario.latent, scenario.channel
        return cls(
            total_steps=scenario.steps.total,
            es_freq_hz=scenario.edge.freq_hz,
            es_cycles_per_step=scenario.edge.cycles_per_step,
            es_kappa=scenario.edge.kappa,
            ue_cycles_per_step=scenario.ue.cycles_per_step,
            ue_kappa=scenario.ue.kappa,
            tx_power_w=ch.tx_power_w,
            bandwidth_hz=ch.bandwidth_hz,
            noise_psd_w_hz=noise_psd_w_per_hz(ch.noise_psd_dbm_hz, ch.noise_figure_db),
            payload_bits=payload_bits(
                lat.height, lat.width, lat.channels, lat.bits_per_value, lat.compression_ratio
            ),
            early_handoff=scenario.sim.early_handoff,
            qos_model=load_qos_model(scenario.qos.model),
        )
