"""The Policy protocol: what the controller process asks every slot.

A policy sees the slot's observation (f^UE, phi, groups, channel) and answers
one (x_n, y_n) per UE. It never sees the engine that will execute the decision,
so the same policy drives the closed-form model, the DES and training.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from hybridnet.model.slot import SlotState


class Policy(Protocol):
    """Chooses every UE's step split for one slot."""

    name: str

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        """Return integer arrays (x, y), each of shape (N,)."""
        ...
