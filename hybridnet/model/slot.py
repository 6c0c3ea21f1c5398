"""What the controller observes at the start of a slot.

The closed-form model, the DES and every policy read the same record, so a
decision evaluated by either engine is a decision about the same world.
Arrays may carry leading batch dimensions (..., N) for evaluating many slots at
once; the simulator itself always uses one slot, shape (N,).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SlotState:
    """Per-UE conditions of one slot (or a batch of slots)."""

    f_ue_hz: np.ndarray
    """UE CPU frequency f_n^UE, Hz."""
    phi: np.ndarray
    """Similarity of the UE's personal prompt to its group's public prompt, eq. (10)."""
    group: np.ndarray
    """Group index m(n) in 0..num_groups-1."""
    gain: np.ndarray
    """Linear downlink power gain g_n (path loss times fading)."""
    num_groups: int
    allows_common_phase: bool = True
    """False under IIS: every x_n must be 0."""

    @property
    def num_ues(self) -> int:
        return int(self.phi.shape[-1])

    def take(self, index: int) -> SlotState:
        """Slot ``index`` of a batched state."""
        return SlotState(
            f_ue_hz=self.f_ue_hz[index], phi=self.phi[index], group=self.group[index],
            gain=self.gain[index], num_groups=self.num_groups,
            allows_common_phase=self.allows_common_phase,
        )
