"""When each slot's requests arrive, chosen by ``[sim] arrivals``.

- ``synchronous`` (the paper): every request arrives at the slot start t_k.
- ``poisson``: each slot's N requests are the points of a Poisson process on
  [t_k, t_k + slot_s) conditioned on there being N of them, which places
  them independently and uniformly in the slot.

Either way the decision is taken at t_k for all N requests: the slot is the
controller's decision epoch. A group's common phase starts when its first
member's request arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from hybridnet.model.slot import SlotState
from hybridnet.registry import ARRIVALS
from hybridnet.scenario import SimConfig


@dataclass(frozen=True)
class SlotArrivals:
    """The instants of one slot's requests, as offsets from the slot start."""

    request_s: np.ndarray | None
    """Each UE's request, s (None: every request at the start)."""
    group_start_s: np.ndarray
    """Each group's first request, when its common phase can start, s."""


class Arrivals(Protocol):
    """Draws the requests' instants slot after slot."""

    def slot(self, state: SlotState) -> SlotArrivals:
        """The arrivals of the slot whose conditions are ``state``."""
        ...


class SynchronousArrivals:
    """Every request at the slot start: nothing to draw."""

    def __init__(self, config: SimConfig, rng: np.random.Generator) -> None:
        """Neither the slot length nor a random stream matters."""

    def slot(self, state: SlotState) -> SlotArrivals:
        return SlotArrivals(request_s=None, group_start_s=np.zeros(state.num_groups))


class PoissonArrivals:
    """N requests placed independently and uniformly in the slot, from their own stream."""

    def __init__(self, config: SimConfig, rng: np.random.Generator) -> None:
        self.slot_s = config.slot_s
        self.rng = rng

    def slot(self, state: SlotState) -> SlotArrivals:
        request_s = self.rng.uniform(0.0, self.slot_s, state.num_ues)
        group_start_s = np.full(state.num_groups, np.inf)
        np.minimum.at(group_start_s, state.group, request_s)   # first member's request
        return SlotArrivals(request_s=request_s, group_start_s=group_start_s)


PROCESSES = ARRIVALS.implement(
    {"synchronous": SynchronousArrivals, "poisson": PoissonArrivals})


def make_arrivals(config: SimConfig, rng: np.random.Generator) -> Arrivals:
    """The arrival process ``config.arrivals`` names (one line for an unknown one)."""
    return ARRIVALS.pick(PROCESSES, config.arrivals)(config, rng)
