"""The closed-form engine: run a policy over a scenario's slots without a DES.

Same conditions, same policy calls (refused the same way when infeasible) and
the same trace frames as the SimPy engine, events included (each UE's phases
laid back to back from the slot start), but every slot is evaluated with
eq. (1)-(17) directly: no queues (every backlog reported is 0), no overlap
between slots. It is what
training uses, and what the DES must reproduce in the paper's configuration.
"""

from __future__ import annotations

from collections.abc import Callable

from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.policies.base import Policy, checked_decision
from hybridnet.scenario import Scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.trace import (
    EVENT_COLUMNS,
    GROUP_COLUMNS,
    QUEUE_COLUMNS,
    UE_COLUMNS,
    RunResult,
    closed_form_events,
    closed_form_records,
    frame,
    queue_rows,
    summarise_slots,
)


def simulate_closed_form(scenario: Scenario, policy: Policy, seed: int, *,
                         slots: int | None = None,
                         progress: Callable[[int], None] | None = None) -> RunResult:
    """Evaluate ``policy`` on ``slots`` slots (default ``scenario.sim.slots``) in closed form."""
    params = ModelParams.from_scenario(scenario)
    conditions = Conditions(scenario, seed)
    num_slots = scenario.sim.slots if slots is None else slots
    ue_chunks, group_chunks, event_chunks, queue_chunks = [], [], [], []
    for k in range(num_slots):
        state = conditions.slot(k)
        x, y = checked_decision(policy, state, scenario.steps, k)
        outcome = evaluate(params, state, x, y)
        t_request_s = k * scenario.sim.slot_s
        ue_cols, group_cols = closed_form_records(
            k, state, outcome, params.physics, conditions.distance_m, t_request_s)
        ue_chunks.append(ue_cols)
        group_chunks.append(group_cols)
        event_chunks.append(closed_form_events(k, state, outcome, group_cols["t_common_s"],
                                               t_request_s))
        queue_chunks.append(queue_rows(k, t_request_s, state.observed_queues))
        if progress is not None:
            progress(k)
    ues = frame(UE_COLUMNS, ue_chunks)
    groups = frame(GROUP_COLUMNS, group_chunks)
    return RunResult(
        ues=ues, groups=groups, events=frame(EVENT_COLUMNS, event_chunks),
        queues=frame(QUEUE_COLUMNS, queue_chunks),
        slots=summarise_slots(ues, groups, params.reward, scenario.network.num_ues),
        prompts=conditions.prompt_frame(),
    )
