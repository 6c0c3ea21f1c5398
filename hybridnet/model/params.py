"""Everything the closed-form model needs, read once from a scenario: physics and reward.

The two halves are kept apart because one is computed from the other: the
reward's references are the costs of a typical UE's local decision
(:mod:`hybridnet.model.reference`), worked out with the physics alone.
``ModelParams.from_scenario`` bundles both for the closed form, the oracle and
training, resolving "auto" references on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridnet.model.physics import PhysicsParams
from hybridnet.model.reference import resolve_references
from hybridnet.model.reward import RewardParams
from hybridnet.scenario import Scenario


@dataclass(frozen=True)
class ModelParams:
    """The physical constants (eq. 1-12) and the reward's weighing (eq. 17a) of a scenario."""

    physics: PhysicsParams
    reward: RewardParams

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> ModelParams:
        """Read ``scenario``; "auto" reward references are resolved first."""
        return cls(physics=PhysicsParams.from_scenario(scenario),
                   reward=RewardParams.from_config(resolve_references(scenario).reward))
