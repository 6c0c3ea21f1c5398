"""The Policy protocol: what the controller process asks every slot.

A policy sees the slot's observation (f^UE, phi, groups, channel) and answers
one (x_n, y_n) per UE. It never sees the engine that will execute the decision,
so the same policy drives the closed-form model, the DES and training; each
engine asks through :func:`checked_decision`, so an infeasible answer is
refused the same way whichever engine runs it.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.model.actions import check_decision
from hybridnet.model.slot import SlotState
from hybridnet.scenario import StepsConfig


class Policy(Protocol):
    """Chooses every UE's step split for one slot."""

    name: str

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        """Return integer arrays (x, y), each of shape (N,)."""
        ...


def checked_decision(policy: Policy, state: SlotState, steps: StepsConfig, slot: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The policy's (x, y) for slot ``slot``, refused unless every UE's split is feasible."""
    name = getattr(policy, "name", type(policy).__name__)
    decision = policy.decide(state)
    if not isinstance(decision, tuple | list) or len(decision) != 2:
        raise HybridnetError(f"policy {name} in slot {slot}: decide() returned "
                             f"{type(decision).__name__} {str(decision)[:40]!r}; expected a "
                             "pair (x, y) of integer arrays")
    x, y = decision
    return check_decision(x, y, state, steps, policy=name, slot=slot)
