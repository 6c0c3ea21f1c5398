"""``hybridnet compare``: policies on shared seeds, their intervals and paired differences."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runs import exit_code as _cli

from hybridnet.api import simulate
from hybridnet.errors import HybridnetError
from hybridnet.metrics import run_metrics
from hybridnet.outputs import MARKER
from hybridnet.scenario import read_scenario
from hybridnet.sweep.compare import (
    COMPARED,
    FIGURE,
    RUNS,
    TABLE,
    compare_table,
    interval,
    plan_compare,
    run_compare,
)

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"
POLICIES = ("oracle", "random", "fixed:5,0")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def compared() -> pd.DataFrame:
    plan = plan_compare(read_scenario(SMALL), POLICIES, [0, 1, 2], engine="closed")
    return run_compare(plan)


def test_interval_is_the_student_t_one() -> None:
    # [1, 2, 3]: mean 2, sd 1, t(0.975, 2) = 4.302653, half-width 4.302653 / sqrt(3) = 2.48414
    mean, low, high = interval([1.0, 2.0, 3.0])
    assert mean == 2.0
    assert high - mean == pytest.approx(2.48414, abs=1e-5)
    assert mean - low == pytest.approx(2.48414, abs=1e-5)


def test_every_row_runs_the_policy_it_is_labelled_with(compared: pd.DataFrame) -> None:
    assert list(compared["policy"]) == [p for p in POLICIES for _ in range(3)]
    assert list(compared["seed"]) == [0, 1, 2] * 3
    scenario = read_scenario(SMALL)
    for row in compared.itertuples():
        direct = run_metrics(simulate(scenario, row.policy, seed=row.seed, engine="closed"))
        assert row.reward == direct["reward"] and row.qos_per_ue == direct["qos_per_ue"]
    by_policy = compared.groupby("policy")["reward"].apply(tuple)
    assert len(set(by_policy)) == len(POLICIES)  # different policies, different numbers


def test_policies_share_the_slots_of_a_seed() -> None:
    """Pairing is honest only if a seed's world does not depend on the policy."""
    scenario = read_scenario(SMALL)
    world = ["slot", "ue", "group", "phi", "f_ue_hz", "distance_m", "gain", "t_request_s"]
    a = simulate(scenario, "oracle", seed=1, engine="des").ues
    b = simulate(scenario, "random", seed=1, engine="des").ues
    pd.testing.assert_frame_equal(a[world], b[world])
    assert not np.array_equal(a["x"], b["x"])


def test_table_holds_intervals_and_paired_differences(compared: pd.DataFrame) -> None:
    table = compare_table(compared, "oracle")
    assert len(table) == len(POLICIES) * len(COMPARED)
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    base = table[table["policy"] == "oracle"]
    assert (base["diff_mean"] == 0).all() and base["diff_ci_low"].isna().all()
    random_reward = table[(table["policy"] == "random") & (table["metric"] == "reward")].iloc[0]
    runs = compared.set_index(["policy", "seed"])["reward"]
    diffs = runs["random"] - runs["oracle"]
    assert random_reward["diff_mean"] == pytest.approx(diffs.mean())
    assert random_reward["diff_ci_high"] < 0  # the oracle is optimal on every seed


@pytest.mark.parametrize("policies, kwargs, message", [
    (["oracle"], {}, "at least two policies"),
    (["oracle", "oracle"], {}, "oracle: given twice"),
    (["oracle", "randon"], {}, "unknown policy 'randon'"),
    (["oracle", "random"], {"baseline": "local"}, "--baseline local: not among"),
    (["oracle", "random"], {"seeds": [0]}, "at least 2 seeds"),
])
def test_a_bad_comparison_is_refused_before_it_runs(policies: list[str], kwargs: dict,
                                                    message: str) -> None:
    seeds = kwargs.pop("seeds", [0, 1])
    with pytest.raises(HybridnetError, match=message):
        plan_compare(read_scenario(SMALL), policies, seeds, **kwargs)


def test_cli_writes_table_figure_and_csv_atomically(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    args = ["compare", SMALL, "--policy", "oracle", "--policy", "fixed:5,0", "--seeds", "2",
            "--engine", "closed", "--out", out]
    assert _cli(args) == 0
    printed = capsys.readouterr().out
    assert "fixed:5,0" in printed and "paired by seed" in printed
    assert json.loads((out / MARKER).read_text())["kind"] == "compare"
    runs = pd.read_csv(out / RUNS)
    assert set(runs["policy"]) == {"oracle", "fixed:5,0"} and len(runs) == 4
    assert all(pd.api.types.is_numeric_dtype(runs[m]) for m in COMPARED)
    direct = run_metrics(simulate(read_scenario(SMALL), "oracle", seed=1, engine="closed"))
    assert runs.set_index(["policy", "seed"]).loc[("oracle", 1), "reward"] == direct["reward"]
    table = pd.read_csv(out / TABLE)
    assert set(table["metric"]) == set(COMPARED)
    assert (out / FIGURE).read_bytes().startswith(PNG_MAGIC)
    assert _cli(args) == 2  # never overwritten without --force
    assert "already exists" in capsys.readouterr().err
    assert _cli([*args, "--force"]) == 0
    again = pd.read_csv(out / RUNS)
    pd.testing.assert_frame_equal(runs.drop(columns="elapsed_s"),
                                  again.drop(columns="elapsed_s"))


def test_cli_bad_policy_is_one_line_and_writes_nothing(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cmp"
    code = _cli(["compare", SMALL, "--policy", "oracle", "--policy", "orcale", "--out", out])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "orcale" in err
    assert not out.exists()


def test_dask_gives_the_same_rows(compared: pd.DataFrame) -> None:
    plan = plan_compare(read_scenario(SMALL), POLICIES, [0, 1, 2], engine="closed")
    on_dask = run_compare(plan, workers=1)
    pd.testing.assert_frame_equal(compared.drop(columns="elapsed_s"),
                                  on_dask.drop(columns="elapsed_s"))
    assert not math.isnan(on_dask["reward"].sum())
