"""Baseline policies: random, local (all on the UE) and a fixed split."""

from __future__ import annotations

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.model.actions import action_mask, local_split
from hybridnet.model.slot import SlotState
from hybridnet.scenario import StepsConfig


class RandomPolicy:
    """Every UE draws a feasible (x, y) uniformly at random: the lower yardstick."""

    name = "random"

    def __init__(self, steps: StepsConfig, rng: np.random.Generator) -> None:
        self.steps = steps
        self.rng = rng

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = np.nonzero(action_mask(self.steps, state.allows_common_phase))
        pick = self.rng.integers(len(xs), size=state.num_ues)
        return xs[pick], ys[pick]


class LocalPolicy:
    """No common phase, the fewest ES steps: everything after the request runs on the UE."""

    name = "local"

    def __init__(self, steps: StepsConfig) -> None:
        self.split = local_split(steps)

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        n = state.num_ues
        return np.full(n, self.split[0]), np.full(n, self.split[1])


class FixedPolicy:
    """Every UE takes the same (X, Y): for sweeps and sanity checks."""

    def __init__(self, steps: StepsConfig, x: int, y: int) -> None:
        mask = action_mask(steps)
        if not (0 <= x <= steps.x_max and 0 <= y <= steps.y_max and mask[x, y]):
            raise HybridnetError(
                f"policy fixed:{x},{y} is infeasible: need 0 <= x <= {steps.x_max}, "
                f"{steps.y_min} <= y <= {steps.y_max} and z = {steps.total} - x - y in "
                f"[{steps.z_min}, {steps.z_max}]"
            )
        self.name = f"fixed:{x},{y}"
        self.x, self.y = x, y

    @classmethod
    def from_spec(cls, steps: StepsConfig, spec: str) -> FixedPolicy:
        """The policy ``fixed:X,Y`` names (``--policy fixed:3,0``)."""
        try:
            x_text, y_text = spec.split(":", 1)[1].split(",")
            x, y = int(x_text), int(y_text)
        except ValueError:
            raise HybridnetError(
                f"policy '{spec}' must look like fixed:X,Y with integers X and Y"
            ) from None
        return cls(steps, x, y)

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        if self.x > 0 and not state.allows_common_phase:
            raise HybridnetError(f"policy {self.name}: the prompt scheme forbids common steps")
        n = state.num_ues
        return np.full(n, self.x), np.full(n, self.y)
