"""The edge server's GDM processor and the common phase it runs for each group.

The ES runs two kinds of task: a group's common phase (x_m^max steps with the
public prompt, eq. 1) and a UE's personalized phase I (y_n steps with the
personal prompt, eq. 3). A task ``acquire``s what it needs to start, asks to
``compute`` an amount of work given in seconds of service at ``freq_hz``, and
``release``s what it acquired. How tasks share the processor is the
scheduler, chosen by ``[edge] scheduler``:

- ``dedicated`` (the paper): every task gets its own processor at
  ``freq_hz``; nothing queues, so nothing is created to queue on.
- ``fcfs``: ``compute_units`` units, each at ``freq_hz``; a task holds one
  unit from start to end (a common phase for all its steps) and tasks wait
  for a free unit in order of request. Requests made at the same instant
  (within a nanosecond: hand-offs land on slot boundaries and on each other,
  a step being 7.5 ms) are served earlier slot first, then a group's common
  phase before the UEs' phase I, then by UE; see :class:`FcfsEdge`.
- ``ps``: processor sharing of the total capacity ``compute_units * freq_hz``;
  each of the n tasks in service runs at ``freq_hz * min(1, compute_units / n)``.

Energy is not the scheduler's concern: time-slicing does not change the
energy per cycle, so eq. (2) and (4) hold under every scheduler.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Generator
from typing import Protocol

import numpy as np
import simpy

from hybridnet.registry import EDGE_SCHEDULERS
from hybridnet.scenario import EdgeConfig
from hybridnet.sim.recorder import Recorder
from hybridnet.sim.sharing import SharingServer


class EdgeServer(Protocol):
    """What a task sees of the ES, whatever the scheduler."""

    def acquire(self, slot: int, ue: int) -> simpy.Event | None:
        """The event to wait for before starting (None: start at once).

        ``slot`` and ``ue`` (-1 for a common phase) name the task, for schedulers
        that order simultaneous requests.
        """
        ...

    def compute(self, work_s: float) -> simpy.Event:
        """An event that succeeds once ``work_s`` seconds of service at freq_hz are done."""
        ...

    def release(self, unit: simpy.Event | None) -> None:
        """Give back what :meth:`acquire` returned."""
        ...

    def in_service_s(self) -> float:
        """Work still to do on the tasks now computing, s at freq_hz (queued tasks excluded)."""
        ...


class TimedWork:
    """The end times of tasks that compute at full speed: what is left of them, at any time."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.ends: list[float] = []

    def start(self, work_s: float) -> simpy.Event:
        self.ends.append(self.env.now + work_s)
        return self.env.timeout(work_s)

    def left_s(self) -> float:
        now = self.env.now
        self.ends = [end for end in self.ends if end > now]
        return sum(self.ends) - now * len(self.ends)


class DedicatedEdge:
    """Every task on a processor of its own: no queue, work takes exactly its time (eq. 1, 3)."""

    def __init__(self, env: simpy.Environment, config: EdgeConfig) -> None:
        self.env = env
        self.work = TimedWork(env)

    def acquire(self, slot: int, ue: int) -> simpy.Event | None:
        return None

    def compute(self, work_s: float) -> simpy.Event:
        return self.work.start(work_s)

    def release(self, unit: simpy.Event | None) -> None:
        """Nothing was acquired."""

    def in_service_s(self) -> float:
        return self.work.left_s()


AFTER_THE_INSTANT = 2
"""SimPy priority of the FCFS dispatch: after every NORMAL (1) and URGENT (0) event
at the same time, so it sees all the requests and releases of that instant."""
END_OF_THE_INSTANT = AFTER_THE_INSTANT + 1
"""SimPy priority of the controller's look at a slot boundary: after the dispatches too,
so that it sees the units they grant (es_controller.py, ``_settle``)."""

TIE_S = 1e-9
"""Requests this close in time are simultaneous: float sums of step times that
should coincide differ by an ulp, and must not decide who is served first."""


class AfterTheInstant(simpy.Event):
    """An event that fires at the current time once every other event of it has.

    Built the way ``simpy.Timeout`` is (triggered at creation, scheduled by the
    environment), only with a later priority than any event SimPy makes.
    """

    def __init__(self, env: simpy.Environment,
                 callback: Callable[[simpy.Event], None] | None = None,
                 priority: int = AFTER_THE_INSTANT) -> None:
        super().__init__(env)
        if callback is not None:
            self.callbacks.append(callback)
        self._ok = True
        self._value = None
        env.schedule(self, priority=priority)


class FcfsEdge:
    """``compute_units`` identical units; a task holds one throughout, others queue FCFS.

    Units are not granted the moment they are asked for, which would serve
    simultaneous requests in the order SimPy happened to schedule them, but by
    a dispatch that runs once everything else of the instant has happened:
    it grants free units in order of (request time to the nanosecond, slot,
    UE), a group's common phase counting as UE -1.
    """

    def __init__(self, env: simpy.Environment, config: EdgeConfig) -> None:
        self.env = env
        self.free = config.compute_units
        self.waiting: list[tuple[tuple[int, int, int, int], simpy.Event]] = []
        self._dispatch_pending = False
        self._order = 0
        self.work = TimedWork(env)

    def acquire(self, slot: int, ue: int) -> simpy.Event | None:
        grant = self.env.event()
        self._order += 1
        key = (round(self.env.now / TIE_S), slot, ue, self._order)
        heapq.heappush(self.waiting, (key, grant))
        self._dispatch()
        return grant

    def compute(self, work_s: float) -> simpy.Event:
        return self.work.start(work_s)

    def release(self, unit: simpy.Event | None) -> None:
        self.free += 1
        self._dispatch()

    def in_service_s(self) -> float:
        return self.work.left_s()

    def _dispatch(self) -> None:
        """Grant free units at the end of this instant (once, however many ask)."""
        if self._dispatch_pending:
            return
        self._dispatch_pending = True
        AfterTheInstant(self.env, self._grant)

    def _grant(self, _event: simpy.Event) -> None:
        self._dispatch_pending = False
        while self.free and self.waiting:
            _, grant = heapq.heappop(self.waiting)
            self.free -= 1
            grant.succeed()


class SharingEdge:
    """Processor sharing: n tasks in service each progress at min(1, units / n) of freq_hz."""

    def __init__(self, env: simpy.Environment, config: EdgeConfig) -> None:
        units = float(config.compute_units)
        self.env = env
        self.server = SharingServer(env, lambda keys, n: np.full(keys.size, min(1.0, units / n)))

    def acquire(self, slot: int, ue: int) -> simpy.Event | None:
        return None

    def compute(self, work_s: float) -> simpy.Event:
        return self.server.serve(work_s)

    def release(self, unit: simpy.Event | None) -> None:
        """Nothing was acquired: a task leaves the shared processor when its work is done."""

    def in_service_s(self) -> float:
        return self.server.load()[1]


SCHEDULERS = EDGE_SCHEDULERS.implement(
    {"dedicated": DedicatedEdge, "fcfs": FcfsEdge, "ps": SharingEdge})


def make_edge(env: simpy.Environment, config: EdgeConfig) -> EdgeServer:
    """The ES under the scheduler ``config.scheduler`` names (one line for an unknown one)."""
    return EDGE_SCHEDULERS.pick(SCHEDULERS, config.scheduler)(env, config)


def common_phase(env: simpy.Environment, edge: EdgeServer, recorder: Recorder,
                 started: Callable[[float], None], slot: int, row: int, start_delay_s: float,
                 milestones: list[tuple[float, simpy.Event]]
                 ) -> Generator[simpy.Event, object, None]:
    """One group's common phase: a single ES task of x_m^max steps (eq. 1).

    It starts when the group's first request arrives (``start_delay_s`` after
    the slot start). ``milestones`` lists, in step order, the work (seconds at
    freq_hz) from the previous milestone to a step some member hands off at,
    and the event that announces that step's latent; the last milestone is
    x_m^max. Without early hand-off it is the only one. ``started(work_s)`` is
    told when each stretch of work starts (the controller's queue ledger).
    """
    if start_delay_s > 0.0:
        yield env.timeout(start_delay_s)          # the group's first request arrives
    ready = env.now
    unit = edge.acquire(slot, -1)
    if unit is not None and not unit.triggered:
        yield unit                                # wait for a compute unit
    start = env.now
    for work_s, reached in milestones:
        started(work_s)
        yield edge.compute(work_s)                # denoise with the public prompt
        reached.succeed()                         # hand the latent of this step over
    edge.release(unit)
    recorder.common_done(row, ready, start, env.now)
