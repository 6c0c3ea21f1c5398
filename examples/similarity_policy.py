"""A policy of your own: a UE shares more common steps with its group the closer its prompt is.

Run it like any built-in policy, by file path or, from this folder, by module:

    hybridnet run scenarios/paper.toml --policy examples/similarity_policy.py:SimilarityPolicy
    cd examples && hybridnet run ../scenarios/paper.toml --policy similarity_policy:SimilarityPolicy

A policy is a class with a ``decide(state)`` method that answers, every slot,
two integer arrays (x, y) of one entry per UE: x common steps on the edge
server (shared by the UE's group), y personal steps on the edge server, and
the rest, z = T_max - x - y, on the UE. Its constructor may ask, by name, for
``scenario`` (the resolved scenario: steps, edge, UEs, ...) and ``rng`` (its
own random generator, seeded by the run's seed).
"""

from __future__ import annotations

import numpy as np

from hybridnet.model.actions import action_mask
from hybridnet.model.slot import SlotState
from hybridnet.scenario import Scenario


class SimilarityPolicy:
    """x_n = phi_n * x_max, the nearest feasible split with the fewest personal ES steps.

    phi_n (eq. 10) is how close UE n's prompt is to its group's public prompt:
    the closer, the more of the shared denoising suits it (the HIQM, eq. 12).
    """

    name = "similarity"

    def __init__(self, scenario: Scenario) -> None:
        self.steps = scenario.steps

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = np.nonzero(action_mask(self.steps, state.allows_common_phase))
        target = np.rint(state.phi * self.steps.x_max)
        # Nearest x first, then the fewest y: a cost that orders the feasible splits so.
        cost = np.abs(xs[None, :] - target[:, None]) * (self.steps.y_max + 1) + ys[None, :]
        pick = cost.argmin(axis=1)
        return xs[pick], ys[pick]
