"""Your own policy by name: ``--policy module:Class`` and ``--policy file.py:Class``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
from cli_runs import exit_code as _cli

from hybridnet.api import make_policy, policy_rng, simulate
from hybridnet.errors import HybridnetError
from hybridnet.metrics import run_metrics
from hybridnet.policies.plugin import FILE_SPEC, MODULE_SPEC, plugin_kind
from hybridnet.scenario import read_scenario, to_toml
from hybridnet.sweep import run_cell, trains_hid
from hybridnet.sweep.files import result_columns

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"

POLICIES = textwrap.dedent("""
    import numpy as np

    class Half:
        name = "half"

        def __init__(self, scenario):
            self.x = scenario.steps.x_max // 2

        def decide(self, state):
            n = state.num_ues
            return np.full(n, self.x), np.zeros(n, dtype=int)

    class Drawn:
        def __init__(self, rng, scenario):
            self.rng, self.x_max = rng, scenario.steps.x_max

        def decide(self, state):
            n = state.num_ues
            return self.rng.integers(0, self.x_max + 1, n), np.zeros(n, dtype=int)

    class NoDecide:
        pass

    class OneArray:
        def decide(self, state):
            return np.zeros(state.num_ues, dtype=int)

    class Floats:
        def decide(self, state):
            return np.zeros(state.num_ues), np.zeros(state.num_ues)

    class Broken:
        def __init__(self):
            raise RuntimeError("no GPU here")

        def decide(self, state):
            return None
""")


@pytest.fixture
def mine(tmp_path: Path) -> Path:
    path = tmp_path / "mine_policies.py"
    path.write_text(POLICIES, encoding="utf-8")
    return path


def _build(spec: str):
    scenario = read_scenario(SMALL)
    return make_policy(spec, scenario, policy_rng(0))


@pytest.mark.parametrize("spec, kind", [
    ("mine:Half", MODULE_SPEC), ("pkg.sub.mod:Half", MODULE_SPEC),
    ("path/to/mine.py:Half", FILE_SPEC), ("mine.py:Half", FILE_SPEC),
    ("fixed:5,0", None), ("oracle", None), ("runs/hid/checkpoint.pt", None),
])
def test_a_spec_is_read_by_its_shape(spec: str, kind: str | None) -> None:
    assert plugin_kind(spec) == kind


def test_a_file_policy_runs_with_the_scenario_it_asks_for(mine: Path) -> None:
    result = simulate(read_scenario(SMALL), f"{mine}:Half", seed=0, engine="closed")
    assert (result.ues["x"] == 6).all() and (result.ues["y"] == 0).all()  # x_max 13 // 2


def test_a_module_policy_is_found_in_the_working_directory(
        mine: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(mine.parent)
    monkeypatch.setattr("sys.path", [p for p in __import__("sys").path if p not in ("", ".")])
    policy = _build("mine_policies:Half")
    assert policy.name == "mine_policies:Half"


def test_a_policy_given_rng_draws_the_same_under_the_same_seed(mine: Path) -> None:
    runs = [simulate(read_scenario(SMALL), f"{mine}:Drawn", seed=s, engine="closed").ues["x"]
            for s in (3, 3, 4)]
    assert runs[0].equals(runs[1]) and not runs[0].equals(runs[2])


@pytest.mark.parametrize("attr, message", [
    ("Hlaf", r"has no 'Hlaf'; did you mean 'Half'\?"),
    ("NoDecide", "NoDecide has no decide"),
    ("Broken", r"Broken\(no arguments\) failed: RuntimeError: no GPU here"),
])
def test_a_bad_class_is_one_line_when_built(mine: Path, attr: str, message: str) -> None:
    with pytest.raises(HybridnetError, match=message):
        _build(f"{mine}:{attr}")


@pytest.mark.parametrize("attr, message", [
    ("OneArray", r"decide\(\) returned a ndarray; it must return \(x, y\), two integer arrays "
                 r"of shape \(6,\)"),
    ("Floats", r"returned x as float64 \(6,\).*expected integer arrays of shape \(6,\)"),
])
def test_a_wrong_answer_is_one_line_at_the_first_decision(mine: Path, attr: str,
                                                          message: str) -> None:
    with pytest.raises(HybridnetError, match=message):
        simulate(read_scenario(SMALL), f"{mine}:{attr}", seed=0, engine="des")


def test_missing_module_file_and_broken_file_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(HybridnetError, match="no module named 'no_such_module_xyz'"):
        _build("no_such_module_xyz:Half")
    with pytest.raises(HybridnetError, match="nothere.py: no such file"):
        _build(f"{tmp_path / 'nothere.py'}:Half")
    bad = tmp_path / "bad_syntax.py"
    bad.write_text("def broken(:\n", encoding="utf-8")
    with pytest.raises(HybridnetError, match="loading .*bad_syntax.py failed: SyntaxError"):
        _build(f"{bad}:Half")
    inner = tmp_path / "needs_missing.py"
    inner.write_text("import no_such_dependency_xyz\n", encoding="utf-8")
    with pytest.raises(HybridnetError, match="No module named 'no_such_dependency_xyz'"):
        _build(f"{inner}:Half")


def test_a_misspelt_builtin_policy_gets_a_suggestion() -> None:
    with pytest.raises(HybridnetError, match="unknown policy 'orcale'; did you mean 'oracle'"):
        _build("orcale")


def test_cli_run_takes_a_file_policy_and_reports_errors_in_one_line(
        mine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert _cli(["run", SMALL, "--policy", f"{mine}:Half", "--out", out, "--no-plot"]) == 0
    assert "mine_policies.py:Half" in (out / "summary.json").read_text()
    capsys.readouterr()
    code = _cli(["run", SMALL, "--policy", f"{mine}:OneArray", "--out", tmp_path / "bad"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "OneArray" in err
    assert not (tmp_path / "bad").exists()


def test_a_sweep_cell_of_a_file_policy_runs_it_and_trains_nothing(mine: Path) -> None:
    spec = f"{mine}:Half"
    assert not trains_hid(spec)
    assert "converged_reward" not in result_columns(["network.num_ues"], spec)
    scenario = read_scenario(SMALL)
    row = run_cell(to_toml(scenario), scenario.source, {"network.num_ues": 4}, 1, spec,
                   "closed", None)
    direct = run_metrics(simulate(scenario.with_values({"network.num_ues": 4}), spec, seed=1,
                                  engine="closed"))
    assert row["reward"] == direct["reward"]
    assert np.isfinite(row["elapsed_s"])


def test_cli_compare_takes_a_file_policy(mine: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    assert _cli(["compare", SMALL, "--policy", "oracle", "--policy", f"{mine}:Half",
                 "--seeds", "2", "--engine", "closed", "--out", out, "--no-plot"]) == 0
    assert f"{mine}:Half" in (out / "runs.csv").read_text()
