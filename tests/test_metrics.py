"""One set of metrics: per-UE energy shares the common phase, and every report agrees.

summary.json, a sweep's results.csv, the experiments and the training log all
take their numbers from :mod:`hybridnet.metrics`; these tests pin the
definitions that make them agree.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hybridnet.api import load_scenario, simulate
from hybridnet.metrics import METRICS, policy_scores, run_metrics, slot_means, ue_energies
from hybridnet.sim.trace import RunResult

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"


@pytest.fixture(scope="module", params=["des", "closed"])
def shared_run(request: pytest.FixtureRequest) -> RunResult:
    """Every UE takes common steps, so each group's common phase costs energy."""
    scenario = load_scenario(SMALL, {"network.num_ues": 7, "sim.arrivals": "poisson"})
    result = simulate(scenario, "fixed:5,0", seed=3, engine=request.param)
    assert (result.groups["e_common_j"] > 0).all()
    return result


def test_per_ue_energies_add_up_to_eq_16_slot_by_slot(shared_run: RunResult) -> None:
    energies = ue_energies(shared_run)
    per_slot = energies.groupby(shared_run.ues["slot"]).sum()
    np.testing.assert_allclose(per_slot.to_numpy(), shared_run.slots["energy_j"], rtol=1e-12)


def test_a_ue_pays_an_equal_share_of_its_groups_common_phase(shared_run: RunResult) -> None:
    ues, groups = shared_run.ues, shared_run.groups
    row = ues.iloc[0]
    group = groups[(groups["slot"] == row["slot"]) & (groups["group"] == row["group"])].iloc[0]
    own = row["e_es_j"] + row["e_tx_j"] + row["e_ue_j"]
    assert ue_energies(shared_run).iloc[0] == pytest.approx(
        own + group["e_common_j"] / group["members"], rel=1e-12)


def test_the_mean_per_ue_energy_is_e_over_n(shared_run: RunResult) -> None:
    metrics = run_metrics(shared_run)
    assert list(metrics) == list(METRICS)
    assert metrics["energy_per_ue_j"] == pytest.approx(ue_energies(shared_run).mean(), rel=1e-12)
    assert metrics["energy_per_ue_j"] == pytest.approx(metrics["energy_j"] / 7, rel=1e-12)


def test_arrays_and_frames_give_the_same_means(shared_run: RunResult) -> None:
    """The training log sums its (slot, UE) arrays per slot; a run's frames hold those sums."""
    ues, groups = shared_run.ues.sort_values(["slot", "ue"]), shared_run.groups
    slots = len(shared_run.slots)

    def per_slot(frame: pd.DataFrame, column: str) -> np.ndarray:
        return frame[column].to_numpy().reshape(slots, -1).sum(1)

    own = sum(per_slot(ues, c) for c in ("e_es_j", "e_tx_j", "e_ue_j"))
    from_arrays = slot_means(per_slot(ues, "qos"), per_slot(ues, "delay_s"),
                             own + per_slot(groups.sort_values(["slot", "group"]), "e_common_j"),
                             shared_run.slots["reward"])
    metrics = run_metrics(shared_run)
    assert from_arrays == pytest.approx({name: metrics[name] for name in from_arrays}, rel=1e-12)


def test_policy_scores_are_per_slot_reward_and_per_request_means(shared_run: RunResult) -> None:
    """Computed here from the frames by hand: the slots' mean reward, each request's mean
    QoS and delay, and E summed over the run per request (7 UEs a slot)."""
    slots, ues, groups = shared_run.slots, shared_run.ues, shared_run.groups
    energy_j = (ues["e_es_j"].sum() + ues["e_tx_j"].sum() + ues["e_ue_j"].sum()
                + groups["e_common_j"].sum())
    assert policy_scores(shared_run) == pytest.approx({
        "reward": slots["reward"].sum() / len(slots), "qos": ues["qos"].sum() / len(ues),
        "delay_s": ues["delay_s"].sum() / len(ues), "energy_j": energy_j / (7 * len(slots))},
        rel=1e-12)
