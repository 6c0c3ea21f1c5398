"""Playing one training episode: the actors decide every slot, an engine scores it.

On the closed form the whole episode is decided in one batched call, which is
exact because an action never changes the next slot's conditions; on the DES
the run is stepped slot by slot (:class:`~hybridnet.sim.stepped.SteppedDes`),
the actors asked between two slots, and what the network measured (queueing
included) is what they learn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.policies.fluid import PlannedSlots
from hybridnet.policies.oracle import SlotSolution
from hybridnet.rl.controller import Decision, GroupRows, HidController, LevelStep, stack_slots
from hybridnet.scenario import Scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.engine import collector_paused
from hybridnet.sim.stepped import SteppedDes
from hybridnet.sim.trace import own_energy_j


@dataclass
class EpisodeOutcome:
    """Per-slot results of one episode, whichever engine produced them."""

    states: SlotState
    """The episode's slots, stacked (S, N)."""
    qos: np.ndarray
    delay_s: np.ndarray
    own_energy_j: np.ndarray
    """Per UE (S, N): the UE's own phase I, downlink and phase II energy."""
    common_energy_j: np.ndarray
    """Per group (S, M)."""
    reward: np.ndarray
    """Per slot (S,), eq. (17a)."""
    next_state: SlotState | None = None
    """The state the slot after the episode's last would be decided on (its queues
    included), where it was asked for: the episode ends at a time limit, and training
    bootstraps the return past it from the critics' value of this state."""


def _concat_steps(steps: list[LevelStep], shared_ues: int | None = None) -> LevelStep:
    """Join single-slot steps along the sample axis, in the order a batched call has them.

    The shared UE actor of the default mode orders a batch's samples UE-major
    (UE n's slots together, as its rewards and teacher targets are): with
    ``shared_ues`` = N the slot-major concatenation is reordered to match.
    """
    def cat(name: str) -> torch.Tensor:
        joined = torch.cat([getattr(s, name) for s in steps], dim=1)
        if shared_ues is None:
            return joined
        rest = joined.shape[2:]
        return (joined.reshape(1, len(steps), shared_ues, *rest).transpose(1, 2)
                .reshape(1, len(steps) * shared_ues, *rest))

    return LevelStep(cat("obs"), cat("masks"), cat("actions"), cat("log_probs"), cat("values"))


def _concat_decisions(decisions: list[Decision]) -> Decision:
    """Join single-slot decisions (the DES asks one slot at a time) into one batch."""
    first = decisions[0]
    rows = None
    if first.rows is not None:
        offset, parts = 0, []
        for k, d in enumerate(decisions):
            assert d.rows is not None
            parts.append((np.full(len(d.rows.slot), k), d.rows.group, d.rows.members,
                          d.rows.of_ue + offset))
            offset += len(d.rows.slot)
        rows = GroupRows(*(np.concatenate(p) for p in zip(*parts, strict=True)))
    return Decision(
        x=np.concatenate([d.x for d in decisions]), y=np.concatenate([d.y for d in decisions]),
        ue=_concat_steps([d.ue for d in decisions],
                         None if first.bound is None else first.x.shape[-1]),
        group=None if first.group is None else _concat_steps([d.group for d in decisions]),
        rows=rows,
        bound=None if first.bound is None else np.concatenate([d.bound for d in decisions]),
        fluid=_concat_solutions([d.fluid for d in decisions]),
    )


def play_closed(controller: HidController, params: ModelParams, scenario: Scenario, seed: int,
                generator: torch.Generator, explore: np.random.Generator | None,
                next_state: bool = False) -> tuple[Decision, EpisodeOutcome]:
    """One episode of ``scenario`` decided in one batched call and scored in closed form
    (with ``next_state``, the slot after it drawn too)."""
    conditions = Conditions(scenario, seed)
    states = stack_slots(list(conditions.slots()))
    decision = controller.act(states, greedy=False, generator=generator, random_bound=explore,
                              values=True)
    out = evaluate(params, states, decision.x, decision.y)
    return decision, EpisodeOutcome(
        states=states, qos=out.qos, delay_s=out.delay_s,
        own_energy_j=out.own_energy_j,
        common_energy_j=out.e_common_j, reward=out.reward,
        next_state=conditions.slot(scenario.sim.slots) if next_state else None,
    )


def episode_slots(scenario: Scenario, seed: int) -> SlotState:
    """The slots an episode of ``scenario`` on the DES plays (``seed``), stacked: they do
    not depend on the decisions, so they are known before it is played."""
    return stack_slots(list(Conditions(scenario, seed).slots()))


def play_des(controller: HidController, scenario: Scenario, seed: int,
             generator: torch.Generator, explore: np.random.Generator | None,
             planned: PlannedSlots | None = None, next_state: bool = False
             ) -> tuple[Decision, EpisodeOutcome]:
    """One episode of ``scenario`` on the DES, the actors asked slot by slot.

    ``planned``: the fluid policy's plans of the episode's slots
    (:meth:`~hybridnet.policies.fluid.FluidPolicy.plan_ahead`), solved here if not given.
    ``next_state``: also observe the state the slot after the last is decided on.
    """
    if planned is None and controller.features.sees_queues:
        planned = controller.features.fluid.plan_ahead(episode_slots(scenario, seed))
    end: list[SlotState] = []
    des = SteppedDes(scenario, seed, 0, observe_end=end.append if next_state else None)
    seen: list[SlotState] = []
    decisions: list[Decision] = []
    with collector_paused():
        while des.state is not None:
            decision = controller.act(des.state, greedy=False, generator=generator,
                                      random_bound=explore, values=True, planned=planned)
            seen.append(des.state)
            decisions.append(decision)
            des.decide(decision.x[0], decision.y[0])
    result = des.result()
    states = stack_slots(seen)
    s_count, n = states.phi.shape
    ues = result.ues.sort_values(["slot", "ue"])

    def per_ue(column: str) -> np.ndarray:
        return ues[column].to_numpy().reshape(s_count, n)

    common = np.zeros((s_count, states.num_groups))
    g = result.groups
    common[g["slot"].to_numpy(), g["group"].to_numpy()] = g["e_common_j"].to_numpy()
    return _concat_decisions(decisions), EpisodeOutcome(
        states=states, qos=per_ue("qos"), delay_s=per_ue("delay_s"),
        own_energy_j=own_energy_j(ues).to_numpy().reshape(s_count, n), common_energy_j=common,
        reward=result.slots.sort_values("slot")["reward"].to_numpy(),
        next_state=end[0] if end else None,
    )


def _concat_solutions(parts: list[SlotSolution | None]) -> SlotSolution | None:
    """Per-slot solutions (each of a batch of one) as one batch; None where there are none
    (actors that see no queues observe no fluid solution)."""
    if not parts or any(p is None for p in parts):
        return None
    done = [p for p in parts if p is not None]
    return SlotSolution(group_bound=np.concatenate([p.group_bound for p in done]),
                        x_upto=np.concatenate([p.x_upto for p in done]),
                        y_of_x=np.concatenate([p.y_of_x for p in done]))
