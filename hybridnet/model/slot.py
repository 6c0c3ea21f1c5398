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
class Queues:
    """What the network reports about its queues at a decision epoch.

    Work is counted in seconds of service at the resource's own speed, so a
    backlog reads as "how long the resource needs to clear what it has been
    given". Only the DES has queues: the closed form reports :meth:`idle`.
    Leading batch dimensions (...,) as in :class:`SlotState`.
    """

    ue_backlog_s: np.ndarray
    """Each UE's CPU: phase II work of its requests not yet finished, s (..., N)."""
    es_backlog_s: np.ndarray
    """The ES: common-phase and phase I work launched and not yet done, s per compute unit
    (the total under the dedicated scheduler, which has a processor per task) (...)."""
    downlink_in_flight: np.ndarray
    """Transmissions on the air (...)."""
    downlink_bits: np.ndarray
    """Bits those transmissions still have to send (...)."""
    last_delay_s: np.ndarray
    """Each UE's most recently finished request: its delay, s (..., N); 0 before the first."""
    last_wait_s: np.ndarray
    """That request's waiting for an ES unit and for the UE's CPU, s (..., N)."""

    @classmethod
    def idle(cls, batch: tuple[int, ...], num_ues: int) -> Queues:
        """Nothing queued and nothing measured: what the closed form reports."""
        per_ue, per_cell = np.zeros((*batch, num_ues)), np.zeros(batch)
        return cls(per_ue, per_cell, per_cell, per_cell, per_ue, per_ue)

    def take(self, index: int) -> Queues:
        return Queues(*(getattr(self, f)[index] for f in _QUEUE_FIELDS))

    @staticmethod
    def stack(queues: list[Queues]) -> Queues:
        return Queues(*(np.stack([getattr(q, f) for q in queues]) for f in _QUEUE_FIELDS))


_QUEUE_FIELDS = ("ue_backlog_s", "es_backlog_s", "downlink_in_flight", "downlink_bits",
                 "last_delay_s", "last_wait_s")


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
    queues: Queues | None = None
    """What the DES measured at the decision epoch; None where nothing queues (closed form)."""

    @property
    def num_ues(self) -> int:
        return int(self.phi.shape[-1])

    @property
    def observed_queues(self) -> Queues:
        """The queues, all zero when nothing was measured."""
        if self.queues is not None:
            return self.queues
        return Queues.idle(self.phi.shape[:-1], self.num_ues)

    @property
    def num_slots(self) -> int:
        """Slots in the batch (1 for a single slot)."""
        return int(np.prod(self.phi.shape[:-1], dtype=int))

    def group_keys(self) -> np.ndarray:
        """Each UE's slot and group as one index, slot * M + group, over the batch's slots
        flattened (S N,): what per-(slot, group) sums bincount over, with minlength
        ``num_slots * num_groups``."""
        group = np.asarray(self.group).reshape(-1, self.num_ues)
        return (np.arange(group.shape[0])[:, None] * self.num_groups + group).ravel()

    def take(self, index: int) -> SlotState:
        """Slot ``index`` of a batched state."""
        return SlotState(
            f_ue_hz=self.f_ue_hz[index], phi=self.phi[index], group=self.group[index],
            gain=self.gain[index], num_groups=self.num_groups,
            allows_common_phase=self.allows_common_phase,
            queues=None if self.queues is None else self.queues.take(index),
        )
