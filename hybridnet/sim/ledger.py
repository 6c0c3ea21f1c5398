"""The queues the controller is told about: work handed out and not yet done.

The controller hands work to the ES and to the UEs' CPUs when it launches a
slot; the resources take it up later, when a request reaches them. The
ledger books work at both moments, so that at a decision epoch the work
still ahead of a resource is what was handed out and not started, plus what
remains of the tasks in progress (which the resource itself reports: under
processor sharing only it knows its progress). It also keeps what each UE's
last finished request measured.
"""

from __future__ import annotations

import numpy as np
import simpy

from hybridnet.model.slot import Queues
from hybridnet.sim.downlink import Downlink
from hybridnet.sim.edge import EdgeServer

NONE_BELOW_S = 1e-12
"""Less work than this is no work: far below a step (7.5 ms), far above the rounding of
the sums booked in and out."""


def _none_below(work_s: np.ndarray) -> np.ndarray:
    return np.where(work_s < NONE_BELOW_S, 0.0, work_s)


class QueueLedger:
    """Work booked per resource between launch and start, and what finished requests saw."""

    def __init__(self, env: simpy.Environment, num_ues: int, backlog_units: int) -> None:
        self.env = env
        self.backlog_units = backlog_units
        """The units the ES backlog is reported per (``EdgeConfig.backlog_units``)."""
        self.es_unstarted_s = 0.0
        self.ue_unstarted_s = np.zeros(num_ues)
        self.ue_busy_until_s = np.zeros(num_ues)
        self.last_delay_s = np.zeros(num_ues)
        self.last_wait_s = np.zeros(num_ues)

    def handed_out(self, es_work_s: float, ue_work_s: np.ndarray) -> None:
        """A slot was launched: its common phases and phase I (ES), its phase II (each UE)."""
        self.es_unstarted_s += es_work_s
        self.ue_unstarted_s += ue_work_s

    def es_started(self, work_s: float) -> None:
        self.es_unstarted_s -= work_s

    def ue_started(self, ue: int, work_s: float) -> None:
        self.ue_unstarted_s[ue] -= work_s
        self.ue_busy_until_s[ue] = self.env.now + work_s

    def finished(self, ue: int, delay_s: float, wait_s: float) -> None:
        self.last_delay_s[ue] = delay_s
        self.last_wait_s[ue] = wait_s

    def measure(self, edge: EdgeServer, downlink: Downlink) -> Queues:
        """The queues now; work booked in and out sums to a few ulps, which count as none."""
        now = self.env.now
        ue_backlog = _none_below(self.ue_unstarted_s + np.maximum(self.ue_busy_until_s - now, 0.0))
        es_backlog = _none_below(np.asarray(self.es_unstarted_s + edge.in_service_s()))
        in_flight, bits = downlink.in_flight()
        return Queues(ue_backlog_s=ue_backlog,
                      es_backlog_s=es_backlog / self.backlog_units,
                      downlink_in_flight=np.asarray(float(in_flight)),
                      downlink_bits=np.asarray(bits),
                      last_delay_s=self.last_delay_s.copy(), last_wait_s=self.last_wait_s.copy())
