"""What one slot's decision asks of each actor, worked out once when the slot starts.

The controller turns the decision (x, y, z) and the slot's conditions into
per-UE amounts of work with the model's own equations, vectorised, so that
the simulation processes only look numbers up. Lists of Python floats, not
arrays: the processes read them one element at a time, and a list element is
what ``Environment.timeout`` takes fastest.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hybridnet.model.costs import downlink_rate_bps, es_delay_s, tx_delay_s, ue_delay_s
from hybridnet.model.physics import PhysicsParams
from hybridnet.model.slot import SlotState


@dataclass(frozen=True)
class SlotPlan:
    """Per-UE work of one slot; index with the UE number."""

    slot: int
    """The slot's index: with the UE, the tie-break of an FCFS ES."""
    first_row: int
    """Row of UE 0 of this slot in the recorder."""
    arrival_s: list[float] | None
    """Offset of each request from the slot start, s (None: every request at the start)."""
    es_s: list[float]
    """Phase I on the ES at freq_hz, eq. (3), s."""
    tx_s: list[float]
    """Transfer on the UE's dedicated band, eq. (5), s."""
    gain: list[float]
    """Downlink power gain g_n (for a shared band)."""
    ue_s: list[float]
    """Phase II on the UE's CPU, eq. (8), s."""


def plan_slot(p: PhysicsParams, state: SlotState, y: np.ndarray, z: np.ndarray, slot: int,
              first_row: int, arrival_s: np.ndarray | None) -> SlotPlan:
    """The per-UE work of decision (y, z) in slot ``state``."""
    return SlotPlan(
        slot=slot,
        first_row=first_row,
        arrival_s=None if arrival_s is None else arrival_s.tolist(),
        es_s=es_delay_s(p, y).tolist(),                                         # eq. (3)
        tx_s=tx_delay_s(p, downlink_rate_bps(p, state.gain)).tolist(),          # eq. (5)-(6)
        gain=np.asarray(state.gain, dtype=float).tolist(),
        ue_s=ue_delay_s(p, z, state.f_ue_hz).tolist(),                          # eq. (8)
    )
