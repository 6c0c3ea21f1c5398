"""Which step splits (x_n, y_n) are feasible under (17b)-(17e).

A decision is a pair (x, y); z = T_max - x - y follows. The joint action space
is the (x_max + 1) x (y_max + 1) grid, of which a mask marks the feasible part.
"""

from __future__ import annotations

import numpy as np

from hybridnet.scenario import StepsConfig


def action_mask(steps: StepsConfig, allows_common_phase: bool = True) -> np.ndarray:
    """Boolean grid ``mask[x, y]``: True where x + y + z = T_max keeps every range.

    IIS has no common phase, so then only x = 0 is feasible.
    """
    x = np.arange(steps.x_max + 1)[:, None]
    y = np.arange(steps.y_max + 1)[None, :]
    z = steps.total - x - y
    mask = (y >= steps.y_min) & (z >= steps.z_min) & (z <= steps.z_max)
    if not allows_common_phase:
        mask &= x == 0
    return mask


def local_split(steps: StepsConfig) -> tuple[int, int]:
    """The all-on-UE decision: no common steps, the fewest ES steps the ranges allow."""
    return 0, max(steps.y_min, steps.total - steps.z_max)
