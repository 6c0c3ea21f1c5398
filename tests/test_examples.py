"""examples/ runs as its README says, and ``hybridnet.load_runs`` reads run directories."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runs import exit_code as _cli

import hybridnet
from hybridnet.errors import HybridnetError
from hybridnet.metrics import METRICS

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _script(args: list[str | Path], cwd: Path) -> str:
    done = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_scenario_and_the_policy_of_the_examples_run(tmp_path: Path) -> None:
    out = tmp_path / "run"
    policy = f"{EXAMPLES / 'similarity_policy.py'}:SimilarityPolicy"
    assert _cli(["run", EXAMPLES / "my_scenario.toml", "--policy", policy, "--slots", "3",
                 "--out", out, "--no-plot"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_ues"] == 20 and summary["slots"] == 3


def test_the_comparison_script_runs_from_another_directory(tmp_path: Path) -> None:
    printed = _script([EXAMPLES / "compare_policies.py", "--seeds", "2", "--slots", "3"],
                      cwd=tmp_path)
    assert "similarity_policy.py:SimilarityPolicy" in printed
    assert "paired by seed" in printed and "highest mean reward" in printed


def test_the_load_runs_script_makes_and_loads_its_runs(tmp_path: Path) -> None:
    printed = _script([EXAMPLES / "load_runs.py"], cwd=tmp_path)
    assert "12 slots from 4 runs" in printed


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("runs")
    small = ROOT / "scenarios" / "small.toml"
    for policy, seed in (("oracle", 0), ("random", 0), ("random", 1)):
        assert _cli(["run", small, "--policy", policy, "--seed", seed, "--engine", "closed",
                     "--out", root / "study" / f"{policy}-{seed}", "--no-plot"]) == 0
    (root / "study" / "notes").mkdir()
    return root


def test_load_runs_gives_one_row_per_run_with_its_metrics(runs: Path) -> None:
    frame = hybridnet.load_runs(runs)
    assert sorted(zip(frame["policy"], frame["seed"], strict=True)) == [
        ("oracle", 0), ("random", 0), ("random", 1)]
    assert set(METRICS) <= set(frame.columns)
    one = json.loads((runs / "study" / "random-1" / "summary.json").read_text())
    row = frame[(frame["policy"] == "random") & (frame["seed"] == 1)].iloc[0]
    assert row["reward"] == one["metrics"]["reward"]
    again = hybridnet.load_runs([runs / "study" / "random-1", runs])
    assert len(again) == 3  # each run once


def test_load_runs_stacks_a_csv_with_its_run(runs: Path) -> None:
    slots = hybridnet.load_runs(runs, table="slots")
    assert len(slots) == 3 * 4 and list(slots.columns[:3]) == ["run", "scenario", "policy"]
    assert slots.groupby("policy")["reward"].mean()["oracle"] > \
        slots.groupby("policy")["reward"].mean()["random"]


def test_load_runs_refuses_in_one_line(runs: Path, tmp_path: Path) -> None:
    with pytest.raises(HybridnetError, match="holds no run directory"):
        hybridnet.load_runs(tmp_path)
    with pytest.raises(HybridnetError, match="table 'ue': unknown"):
        hybridnet.load_runs(runs, table="ue")
    with pytest.raises(HybridnetError, match="no such file or directory"):
        hybridnet.load_runs(tmp_path / "nowhere")
