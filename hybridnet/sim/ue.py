"""A UE's request for one image, from its arrival to the final content on its CPU.

Each UE owns a CPU, a ``simpy.Resource`` of capacity 1: if the UE is still
finishing an earlier slot's image when the next latent arrives, the new
phase II queues behind it. A request is one process that walks the pipeline
of eq. (13): wait for the group's common latent at step x_n, personalized
phase I on the ES (eq. 3), the downlink (eq. 5), phase II on the UE (eq. 8).

How the request's delay splits (``delay_s`` is exactly their sum):
``t_common_s`` from the request to its common latent (including any time the
common phase queued for the ES), ``t_wait_s`` queueing for an ES unit and for
the UE's CPU, and ``t_es_s``, ``t_tx_s``, ``t_ue_s`` from start to end of each
phase (including any slow-down from sharing the ES or the band).

A phase of zero steps is not executed: it takes no time, asks for no
resource (so it never queues) and leaves no event row. The downlink always
runs, the latent is never empty. A resource granted at once is not waited
for: the request goes on in the same instant without a round trip through
the event queue.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from hybridnet.sim.downlink import Downlink
from hybridnet.sim.edge import EdgeServer
from hybridnet.sim.ledger import QueueLedger
from hybridnet.sim.plan import SlotPlan
from hybridnet.sim.recorder import Recorder


def ue_cpus(env: simpy.Environment, num_ues: int) -> list[simpy.Resource]:
    """One single-core CPU per UE, alive for the whole run."""
    return [simpy.Resource(env, capacity=1) for _ in range(num_ues)]


def ue_request(env: simpy.Environment, ue: int, plan: SlotPlan, latent: simpy.Event | None,
               edge: EdgeServer, downlink: Downlink, cpu: simpy.Resource,
               recorder: Recorder, ledger: QueueLedger) -> Generator[simpy.Event, object, None]:
    """UE ``ue``'s request of the slot ``plan`` describes.

    ``latent`` announces the common latent this UE continues from (None: it
    takes no common steps, or its group has no common phase).
    """
    if plan.arrival_s is not None:
        yield env.timeout(plan.arrival_s[ue])     # the request arrives
    t_request = env.now
    if latent is not None:
        yield latent                              # the group's common latent at step x_n
    t_latent = es_start = es_end = env.now
    work_s = plan.es_s[ue]
    if work_s > 0.0:
        unit = edge.acquire(plan.slot, ue)
        if unit is not None and not unit.triggered:
            yield unit                            # queue for the ES
        es_start = env.now
        ledger.es_started(work_s)
        yield edge.compute(work_s)                # phase I with the personal prompt
        edge.release(unit)
        es_end = env.now
    yield downlink.transmit(plan, ue)             # send the latent
    tx_end = ue_start = ue_end = env.now
    work_s = plan.ue_s[ue]
    if work_s > 0.0:
        turn = cpu.request()
        if not turn.triggered:
            yield turn                            # wait for the UE's own CPU
        ue_start = env.now
        ledger.ue_started(ue, work_s)
        yield env.timeout(work_s)                 # phase II on the UE
        cpu.release(turn)
        ue_end = env.now
    ledger.finished(ue, ue_end - t_request, (es_start - t_latent) + (ue_start - tx_end))
    recorder.ue_done(plan.first_row + ue, t_request, t_latent, es_start, es_end, tx_end,
                     ue_start, ue_end)
