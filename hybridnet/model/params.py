"""Everything the closed-form model needs, read once from a scenario.

The evaluator and the oracle run in tight loops; they take this flat,
precomputed record instead of walking the scenario's dataclasses each time.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridnet.model.channel import noise_psd_w_per_hz, payload_bits
from hybridnet.model.hiqm import QosModel, load_qos_model
from hybridnet.scenario import AUTO, Scenario


@dataclass(frozen=True)
class ModelParams:
    """Flat physical constants of one scenario (SI units)."""

    total_steps: int
    es_freq_hz: float
    es_cycles_per_step: float
    es_kappa: float
    ue_cycles_per_step: float
    ue_kappa: float
    tx_power_w: float
    bandwidth_hz: float
    noise_psd_w_hz: float
    payload_bits: float
    early_handoff: bool
    qos_model: QosModel
    weights: tuple[float, float, float]
    qos_ref: float
    delay_ref_s: float
    energy_ref_j: float

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ModelParams:
        """Read a scenario whose reward references are resolved (see ``resolve_references``)."""
        r = scenario.reward
        if AUTO in (r.qos_ref, r.delay_ref_s, r.energy_ref_j):
            from hybridnet.model.reference import resolve_references

            r = resolve_references(scenario).reward
        lat = scenario.latent
        return cls(
            total_steps=scenario.steps.total,
            es_freq_hz=scenario.edge.freq_hz,
            es_cycles_per_step=scenario.edge.cycles_per_step,
            es_kappa=scenario.edge.kappa,
            ue_cycles_per_step=scenario.ue.cycles_per_step,
            ue_kappa=scenario.ue.kappa,
            tx_power_w=scenario.channel.tx_power_w,
            bandwidth_hz=scenario.channel.bandwidth_hz,
            noise_psd_w_hz=noise_psd_w_per_hz(
                scenario.channel.noise_psd_dbm_hz, scenario.channel.noise_figure_db
            ),
            payload_bits=payload_bits(
                lat.height, lat.width, lat.channels, lat.bits_per_value, lat.compression_ratio
            ),
            early_handoff=scenario.sim.early_handoff,
            qos_model=load_qos_model(scenario.qos.model),
            weights=r.weights,
            qos_ref=float(r.qos_ref),
            delay_ref_s=float(r.delay_ref_s),
            energy_ref_j=float(r.energy_ref_j),
        )
