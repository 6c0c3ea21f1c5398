"""In the paper's configuration the DES is the closed-form model, eq. (1)-(17), exactly.

Dedicated ES, dedicated downlink, synchronous arrivals: nothing ever waits,
so every delay, energy, QoS and reward the SimPy engine records must equal
:func:`hybridnet.model.objective.evaluate` on the same decisions, for random
decisions over many seeds, with and without early hand-off.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.reference import resolve_references
from hybridnet.model.slot import SlotState
from hybridnet.policies import RandomPolicy
from hybridnet.scenario import Scenario, from_dict
from hybridnet.sim import simulate_des
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.trace import (
    GROUP_COLUMNS,
    UE_COLUMNS,
    closed_form_records,
    frame,
    summarise_slots,
)

SEEDS = range(20)
SLOTS = 3
RTOL = 1e-9
"""Relative tolerance: the DES adds durations onto the clock and subtracts instants."""


class Recording:
    """A policy wrapper that remembers every decision it passed on."""

    def __init__(self, policy: RandomPolicy) -> None:
        self.policy = policy
        self.name = policy.name
        self.decisions: list[tuple[np.ndarray, np.ndarray]] = []

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.policy.decide(state)
        self.decisions.append((x.copy(), y.copy()))
        return x, y


def paper(num_ues: int = 12, **sections: dict) -> Scenario:
    """The paper's configuration (the defaults) with a few UEs and the given overrides."""
    raw = {"network": {"num_ues": num_ues, "num_groups": 3}, **sections}
    return resolve_references(from_dict(raw, "<test>"))


def closed_form(scenario: Scenario, seed: int, decisions: list[tuple[np.ndarray, np.ndarray]]
                ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list]:
    """The closed-form frames of the same world (seed) and the same decisions."""
    params = ModelParams.from_scenario(scenario)
    conditions = Conditions(scenario, seed)
    ue_chunks, group_chunks, outcomes = [], [], []
    for k, (x, y) in enumerate(decisions):
        state = conditions.slot(k)
        outcome = evaluate(params, state, x, y)
        ue_cols, group_cols = closed_form_records(k, state, outcome, params.physics,
                                                  conditions.distance_m, k * scenario.sim.slot_s)
        ue_chunks.append(ue_cols)
        group_chunks.append(group_cols)
        outcomes.append(outcome)
    ues, groups = frame(UE_COLUMNS, ue_chunks), frame(GROUP_COLUMNS, group_chunks)
    return (ues, groups, summarise_slots(ues, groups, params.reward, scenario.network.num_ues),
            outcomes)


def assert_frames_close(des: pd.DataFrame, ref: pd.DataFrame, columns: tuple[str, ...]) -> None:
    assert len(des) == len(ref)
    for column in columns:
        np.testing.assert_allclose(des[column].to_numpy(dtype=float),
                                   ref[column].to_numpy(dtype=float), rtol=RTOL, atol=0.0,
                                   err_msg=column)


def run_both(scenario: Scenario, seed: int):
    policy = Recording(RandomPolicy(scenario.steps, np.random.default_rng(1000 + seed)))
    des = simulate_des(scenario, policy, seed, slots=SLOTS)
    return des, closed_form(scenario, seed, policy.decisions)


SCENARIOS = {
    "paper": {},
    "paper-hiqm-fading-slot-redraw": {
        "qos": {"model": "paper"},
        "channel": {"fading": "rayleigh", "position_redraw": "slot"},
        "sim": {"slot_s": 1000.0},   # a deep fade can stretch a download past 1 s
    },
}


@pytest.mark.parametrize("early_handoff", [False, True], ids=["eq13", "early-handoff"])
@pytest.mark.parametrize("variant", SCENARIOS)
def test_des_equals_closed_form(variant: str, early_handoff: bool) -> None:
    sections = {k: dict(v) for k, v in SCENARIOS[variant].items()}
    sections.setdefault("sim", {})["early_handoff"] = early_handoff
    scenario = paper(**sections)
    for seed in SEEDS:
        des, (ues, groups, slots, outcomes) = run_both(scenario, seed)
        assert_frames_close(des.ues, ues, UE_COLUMNS)
        assert_frames_close(des.groups, groups, GROUP_COLUMNS)
        assert_frames_close(des.slots, slots, tuple(slots.columns))
        # and against evaluate's own totals, not only the shared bookkeeping
        for k, outcome in enumerate(outcomes):
            row = des.slots.iloc[k]
            np.testing.assert_allclose(
                [row.qos, row.delay_s, row.energy_j, row.e_common_j, row.reward],
                [outcome.total_qos, outcome.total_delay_s, outcome.total_energy_j,
                 outcome.e_common_j.sum(), outcome.reward], rtol=RTOL)


@pytest.mark.parametrize("early_handoff", [False, True], ids=["eq13", "early-handoff"])
def test_nothing_waits_and_phases_follow_each_other(early_handoff: bool) -> None:
    scenario = paper(num_ues=20, sim={"early_handoff": early_handoff})
    for seed in range(5):
        policy = RandomPolicy(scenario.steps, np.random.default_rng(seed))
        result = simulate_des(scenario, policy, seed, slots=SLOTS)
        assert (result.ues.t_wait_s == 0.0).all()
        # every queue the controller is told about is empty, as the closed form reports
        assert (result.ues.backlog_s == 0.0).all()
        assert (result.queues.drop(columns=["slot", "t_s"]) == 0.0).all().all()
        ev = result.events
        assert (ev.t_ready_s == ev.t_start_s).all()
        assert (ev.t_start_s <= ev.t_end_s).all()
        common = ev[ev.phase == "common"].set_index(["slot", "group"])
        per_ue = ev[ev.ue >= 0]
        for (slot, ue), rows in per_ue.groupby(["slot", "ue"]):
            rows = rows.set_index("phase")
            order = [p for p in ("es", "tx", "ue") if p in rows.index]
            ends = rows.loc[order, "t_end_s"].to_numpy()
            starts = rows.loc[order, "t_start_s"].to_numpy()
            assert (starts[1:] >= ends[:-1]).all(), (slot, ue)
            group = rows.group.iloc[0]
            if not early_handoff and (slot, group) in common.index:
                assert starts[0] >= common.loc[(slot, group), "t_end_s"], (slot, ue)
