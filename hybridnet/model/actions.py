"""Which step splits (x_n, y_n) are feasible under (17b)-(17e), and refusing the others.

A decision is a pair (x, y); z = T_max - x - y follows. The joint action space
is the (x_max + 1) x (y_max + 1) grid, of which a mask marks the feasible part.
Both engines refuse an infeasible decision with :func:`check_decision` (the
closed form would quietly score it, the DES would schedule negative
durations: either way a policy bug), and the PettingZoo env replaces the
actions :func:`feasible_splits` rejects.
"""

from __future__ import annotations

import functools

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.model.slot import SlotState
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


@functools.cache
def _cached_mask(steps: StepsConfig, allows_common_phase: bool) -> np.ndarray:
    """The action mask, built once per step configuration rather than every slot."""
    return action_mask(steps, allows_common_phase)


def feasible_splits(steps: StepsConfig, x: np.ndarray, y: np.ndarray,
                    allows_common_phase: bool = True) -> np.ndarray:
    """Per UE, whether the integer split (x_n, y_n) keeps every range of (17b)-(17e)."""
    x, y = np.asarray(x), np.asarray(y)
    inside = (x >= 0) & (x <= steps.x_max) & (y >= 0) & (y <= steps.y_max)
    feasible = np.zeros(inside.shape, dtype=bool)
    feasible[inside] = _cached_mask(steps, allows_common_phase)[x[inside], y[inside]]
    return feasible


def allowed_splits(steps: StepsConfig, allows_common_phase: bool = True) -> str:
    """The ranges (17b)-(17e) in words, for error messages."""
    only_local = "" if allows_common_phase else " (x = 0: the scheme has no common phase)"
    return (f"0 <= x <= {steps.x_max}{only_local}, {steps.y_min} <= y <= {steps.y_max} and "
            f"z = {steps.total} - x - y in [{steps.z_min}, {steps.z_max}]")


def check_decision(x: np.ndarray, y: np.ndarray, state: SlotState, steps: StepsConfig, *,
                   policy: str, slot: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) as int64 arrays, refused unless every UE's split is feasible (17b-e).

    The error names the policy, the slot, the first offending UE and the ranges.
    """
    n = state.num_ues
    x, y = np.asarray(x), np.asarray(y)

    def refuse(problem: str) -> HybridnetError:
        return HybridnetError(f"policy {policy} in slot {slot}: {problem}")

    if x.shape != (n,) or y.shape != (n,) or x.dtype.kind not in "iu" or y.dtype.kind not in "iu":
        raise refuse(f"returned x as {x.dtype} {x.shape} and y as {y.dtype} {y.shape}; "
                     f"expected integer arrays of shape ({n},)")
    feasible = feasible_splits(steps, x, y, state.allows_common_phase)
    if not feasible.all():
        ue = int(np.flatnonzero(~feasible)[0])
        raise refuse(f"UE {ue} got infeasible (x, y) = ({x[ue]}, {y[ue]}); need "
                     f"{allowed_splits(steps, state.allows_common_phase)}")
    return x.astype(np.int64, copy=False), y.astype(np.int64, copy=False)
