"""The reward (17a) with each term divided by a per-UE reference: the one normalisation.

Q, T and E differ by orders of magnitude, so ``w1 Q - w2 T - w3 E`` is only
meaningful once each term is divided by a reference (ours:
:mod:`hybridnet.model.reference`). The slot reward divides each total by N
times its per-UE reference,

    w1 Q / (N q_ref) - w2 T / (N t_ref) - w3 E / (N e_ref),

and a UE's own terms (the PettingZoo env's ``own_reward``, the default-mode
training reward) are the same expression with N = 1 over that UE's Q_n, T_n and
E_n, so that they add up to N times the slot reward. Every engine, the oracle,
training and the PettingZoo env weigh costs through this class only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.scenario import AUTO, RewardConfig

Values = float | np.ndarray
"""A term, a total, or arrays of them (per UE, per slot, batched)."""


@dataclass(frozen=True)
class RewardParams:
    """The weights of (17a) and the per-UE references that normalise its terms."""

    weights: tuple[float, float, float]
    """(w1, w2, w3) for QoS, delay and energy."""
    qos_ref: float
    delay_ref_s: float
    energy_ref_j: float

    @classmethod
    def from_config(cls, config: RewardConfig) -> RewardParams:
        """Read ``[reward]`` once its references are numbers (``resolve_references``)."""
        refs = {"qos_ref": config.qos_ref, "delay_ref_s": config.delay_ref_s,
                "energy_ref_j": config.energy_ref_j}
        unresolved = [key for key, value in refs.items() if value == AUTO]
        if unresolved:
            raise HybridnetError(
                f"[reward] {', '.join(unresolved)} still \"auto\": resolve the scenario with "
                f"hybridnet.model.reference.resolve_references first")
        return cls(weights=config.weights, **{key: float(v) for key, v in refs.items()})

    def qos_term(self, qos: Values, num_ues: int = 1) -> Values:
        """w1 Q / (N q_ref)."""
        return self.weights[0] * qos / (num_ues * self.qos_ref)

    def delay_term(self, delay_s: Values, num_ues: int = 1) -> Values:
        """w2 T / (N t_ref)."""
        return self.weights[1] * delay_s / (num_ues * self.delay_ref_s)

    def energy_term(self, energy_j: Values, num_ues: int = 1) -> Values:
        """w3 E / (N e_ref)."""
        return self.weights[2] * energy_j / (num_ues * self.energy_ref_j)

    def objective(self, qos: Values, delay_s: Values, energy_j: Values,
                  num_ues: int = 1) -> Values:
        """Eq. (17a) of totals over ``num_ues`` UEs (N = 1: one UE's own terms)."""
        # eq. (17a) w1 Q - w2 T - w3 E, each term over N times its reference (our assumption)
        return (self.qos_term(qos, num_ues) - self.delay_term(delay_s, num_ues)
                - self.energy_term(energy_j, num_ues))

    def own(self, qos: Values, delay_s: Values, own_energy_j: Values) -> Values:
        """A UE's own terms of (17a), its Q_n, T_n and E_n (eq. 14) as for N = 1: the UEs'
        add up to N times the slot reward less the common phases' energy."""
        return self.objective(qos, delay_s, own_energy_j)

    def per_unit(self, num_ues: int) -> tuple[float, float, float]:
        """What one unit of Q, of T (s) and of E (J) is worth in the slot reward of N UEs.

        (17a) is linear, so the oracle weighs partial sums with these instead of
        re-normalising every candidate.
        """
        return (float(self.qos_term(1.0, num_ues)), float(self.delay_term(1.0, num_ues)),
                float(self.energy_term(1.0, num_ues)))
