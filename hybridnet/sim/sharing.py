"""A sharing server: one capacity shared continuously by every job in service.

(Queueing theory calls it a fluid server; hybridnet's ``fluid`` is a policy,
:mod:`hybridnet.policies.fluid`, hence the name here.)

This models a processor under processor sharing (every task in service
progresses at once, each at its share of the capacity) and a radio band split
among the transmissions in progress. Work is continuous (seconds of service,
bits) and each job in service progresses at its own rate, which a rate
function computes from the number of jobs in service and each job's key (a
receiver's channel gain, say).

SimPy has no such server built in. This one is event-driven: whenever a job
arrives or leaves, the work done since the last change is booked at the old
rates, the rates are recomputed and the next departure is scheduled as a
``Timeout`` whose value is a generation number. Any change bumps the
generation, so a departure scheduled before it is recognised as stale and
ignored when it fires; nothing has to be cancelled or interrupted. Jobs that
arrive at the same instant are admitted by one wake-up.

Every change costs O(jobs in service) in numpy, since with heterogeneous
gains every rate depends on the number sharing the band. Departed jobs stay
in the arrays, with infinite remaining work, until they outnumber the jobs in
service, so that a departure does not copy every array.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy

DONE_REL_TOL = 1e-9
"""A job whose remaining work is within this fraction of its size is done.

The remaining work is a difference of floating-point products; without a
tolerance a job could linger for a few ulps after its scheduled departure.
"""

RateFunction = Callable[[np.ndarray, int], np.ndarray]
"""``rates(keys, n)``: the rate (work/s) of each job with these keys when n are in service."""


class SharingServer:
    """Serves every job at once, at rates set by who is in service."""

    def __init__(self, env: simpy.Environment, rates: RateFunction) -> None:
        self.env = env
        self._rates_of = rates
        # One element per admitted job not yet compacted away, in order of admission.
        self._id = np.empty(0, dtype=np.int64)
        self._left = np.empty(0)        # remaining work; inf once departed
        self._done_below = np.empty(0)  # remaining work at which the job counts as done
        self._key = np.empty(0)         # passed to the rate function
        self._rate = np.empty(0)        # current rate, work/s
        self._in_service = 0
        self._done: dict[int, simpy.Event] = {}           # by id: succeeds on departure
        self._arriving_work: list[float] = []            # to admit at the next wake-up
        self._arriving_key: list[float] = []
        self._next_id = 0
        self._since = 0.0               # when the remaining work was last booked
        self._generation = 0            # of the only wake-up that is not stale
        self._wake_time = float("inf")  # when that wake-up fires
        self._target = -1               # index of the job whose departure it is, -1 if none

    def serve(self, work: float, key: float = 0.0) -> simpy.Event:
        """An event that succeeds once ``work`` units of this job have been served."""
        if not work > 0.0:
            raise ValueError(f"work(={work}) must be > 0")
        done = self.env.event()
        self._done[self._next_id + len(self._arriving_work)] = done
        self._arriving_work.append(work)
        self._arriving_key.append(key)
        if self._wake_time != self.env.now:
            self._target = -1
            self._schedule(0.0)
        return done

    def load(self) -> tuple[int, float]:
        """Jobs in service (or admitted this instant) and the work they still need, now."""
        waiting = sum(self._arriving_work)
        if not self._in_service:
            return len(self._arriving_work), waiting
        active = np.isfinite(self._left)
        left = self._left[active] - (self.env.now - self._since) * self._rate[active]
        return (self._in_service + len(self._arriving_work),
                float(np.maximum(left, 0.0).sum()) + waiting)

    def _schedule(self, delay: float) -> None:
        self._generation += 1
        self._wake_time = self.env.now + delay
        self.env.timeout(delay, self._generation).callbacks.append(self._wake)

    def _wake(self, timer: simpy.Event) -> None:
        """Book the work done, release finished jobs, admit arrivals, plan the next departure."""
        if timer.value != self._generation:
            return
        now = self.env.now
        if self._in_service:
            self._left -= (now - self._since) * self._rate
            finished = self._left <= self._done_below
            if self._target >= 0:
                finished[self._target] = True
            departed = finished.nonzero()[0]
            for job in self._id[departed].tolist():
                self._done.pop(job).succeed()
            self._left[departed] = np.inf
            self._in_service -= departed.size
            if 2 * self._in_service < self._id.size:
                self._compact()
        self._since = now
        if self._arriving_work:
            self._admit()
        if not self._in_service:
            self._target = -1
            self._wake_time = float("inf")
            return
        self._rate = self._rates_of(self._key, self._in_service)
        eta = self._left / self._rate
        target = int(eta.argmin())
        self._schedule(float(eta[target]))
        self._target = target

    def _compact(self) -> None:
        keep = np.isfinite(self._left)
        self._id, self._left, self._done_below, self._key = (
            self._id[keep], self._left[keep], self._done_below[keep], self._key[keep])

    def _admit(self) -> None:
        work = np.array(self._arriving_work)
        key = np.array(self._arriving_key)
        self._arriving_work, self._arriving_key = [], []
        self._id = np.concatenate([self._id, np.arange(self._next_id, self._next_id + work.size)])
        self._next_id += work.size
        self._left = np.concatenate([self._left, work])
        self._done_below = np.concatenate([self._done_below, DONE_REL_TOL * work])
        self._key = np.concatenate([self._key, key])
        self._in_service += work.size
