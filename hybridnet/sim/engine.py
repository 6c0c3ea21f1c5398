"""The discrete-event engine: a SimPy model of the cell, run slot by slot.

One SimPy process per actor that acts: the controller (one, deciding every
slot), each group's common phase on the ES and each UE's request walking its
pipeline; the resources they contend for are the ES (``hybridnet.sim.edge``),
the downlink (``hybridnet.sim.downlink``) and the UEs' CPUs
(``hybridnet.sim.ue``). In the paper's configuration (dedicated ES and
downlink, synchronous arrivals, no early hand-off) nothing ever waits and the
traces equal the closed-form model's, eq. (1)-(17).

Slots are launched every ``slot_s`` whether or not earlier slots have
finished (see ``hybridnet.sim.es_controller``); the run ends when the last
launched request has its final content.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import simpy

from hybridnet.errors import HybridnetError
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.base import Policy
from hybridnet.scenario import Scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.downlink import make_downlink
from hybridnet.sim.edge import make_edge
from hybridnet.sim.es_controller import CellResources, Controller, ExternalPolicy
from hybridnet.sim.ledger import QueueLedger
from hybridnet.sim.recorder import Recorder
from hybridnet.sim.trace import RunResult
from hybridnet.sim.ue import ue_cpus


@dataclasses.dataclass(frozen=True)
class DesRun:
    """A cell built and its controller process started, the event loop not yet run."""

    env: simpy.Environment
    recorder: Recorder
    conditions: Conditions

    def result(self) -> RunResult:
        """The run's records, once ``env.run()`` has returned."""
        return dataclasses.replace(self.recorder.result(), prompts=self.conditions.prompt_frame())


def build_des(scenario: Scenario, policy: Policy | ExternalPolicy, seed: int, *, episode: int = 0,
              slots: int | None = None, progress: Callable[[int], None] | None = None,
              observe_end: Callable[[SlotState], None] | None = None) -> DesRun:
    """The cell of ``scenario`` in the world of (``seed``, ``episode``), ready to run.

    ``observe_end`` is handed the state the slot after the last would be decided on
    (training bootstraps its critics' value from it).
    """
    num_slots = scenario.sim.slots if slots is None else slots
    if num_slots < 1:
        raise HybridnetError(f"slots = {num_slots} must be >= 1")
    params = ModelParams.from_scenario(scenario)
    num_ues = scenario.network.num_ues
    env = simpy.Environment()
    recorder = Recorder(params, num_ues, num_slots)
    cell = CellResources(env=env, edge=make_edge(env, scenario.edge),
                         downlink=make_downlink(env, scenario.channel, params.physics),
                         cpus=ue_cpus(env, num_ues), recorder=recorder,
                         ledger=QueueLedger(env, num_ues, scenario.edge.backlog_units))
    conditions = Conditions(scenario, seed, episode)
    controller = Controller(scenario, params.physics, policy, conditions, cell)
    env.process(controller.run(num_slots, progress, observe_end))
    return DesRun(env=env, recorder=recorder, conditions=conditions)


def simulate_des(scenario: Scenario, policy: Policy, seed: int, *, episode: int = 0,
                 slots: int | None = None, progress: Callable[[int], None] | None = None,
                 observe_end: Callable[[SlotState], None] | None = None) -> RunResult:
    """Simulate ``slots`` slots (default ``scenario.sim.slots``) of ``policy`` in ``scenario``.

    ``seed`` and ``episode`` pick the world
    (:class:`~hybridnet.sim.conditions.Conditions`): the same pair gives the same
    UEs, channels, prompts and arrivals, so two policies or two engines can be
    compared on it. ``progress(k)`` is called once slot k has been launched;
    ``observe_end`` as in :func:`build_des`.
    """
    run = build_des(scenario, policy, seed, episode=episode, slots=slots, progress=progress,
                    observe_end=observe_end)
    with collector_paused():
        run.env.run()
    return run.result()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while the event loop runs.

    A slot of many UEs keeps tens of thousands of generators and events alive
    at once, and every allocation-triggered collection walks all of them: a
    third of the run time at N = 10,000. The loop creates no cycles that
    outlive it (fired events drop their callbacks), so reference counting
    frees everything; the collector is switched back on afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
