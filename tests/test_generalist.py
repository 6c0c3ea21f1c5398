"""The generalist HID controller: its observation, its invariances, its checkpoint, the
shipped controller's quality on cells it never saw, and ``--policy hid`` without training."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_runs import run_cli

from hybridnet.api import load_scenario, make_policy, policy_rng, simulate
from hybridnet.errors import HybridnetError
from hybridnet.model.actions import feasible_splits
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.policies.oracle import OraclePolicy
from hybridnet.rl.generalist.cells import cell_slots
from hybridnet.rl.generalist.checkpoint import (
    GeneralistCheckpoint,
    is_generalist_file,
    load_generalist,
    save_generalist,
)
from hybridnet.rl.generalist.distribution import DISTRIBUTION, outside, sample_scenario
from hybridnet.rl.generalist.features import StepCosts, log_scale, observe
from hybridnet.rl.generalist.network import GeneralistNet
from hybridnet.rl.generalist.policy import GeneralistPolicy, shipped_checkpoint
from hybridnet.rl.generalist.train import GeneralistSettings, GeneralistTrainer
from hybridnet.rl.policy import controller_kind

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "scenarios" / "paper.toml"


def test_step_costs_by_hand() -> None:
    """paper.toml at weights (0.6, 0.2, 0.2): each step's cost over w1 / q_ref, eq. (1)-(4),
    (8)-(9) and (17a) worked by hand from Table I's constants."""
    scenario = load_scenario(PAPER)
    r = scenario.reward
    costs = StepCosts.of(ModelParams.from_scenario(scenario), scenario.steps.x_max)
    unit = 0.6 / r.qos_ref
    es_delay, es_energy = 15e6 / 2e9, 1e-27 * 15e6 * 2e9**2          # eq. (3), (4)
    assert costs.es_step == pytest.approx(
        (0.2 * es_delay / r.delay_ref_s + 0.2 * es_energy / r.energy_ref_j) / unit, rel=1e-12)
    assert costs.wait_step == pytest.approx(0.2 * es_delay / r.delay_ref_s / unit, rel=1e-12)
    assert costs.group_step == pytest.approx(0.2 * es_energy / r.energy_ref_j / unit,
                                                     rel=1e-12)
    f = 1.5e9                                                         # eq. (8), (9)
    assert costs.ue_step(np.array(f)) == pytest.approx(
        (0.2 * 14e6 / f / r.delay_ref_s + 0.2 * 1e-27 * 14e6 * f**2 / r.energy_ref_j) / unit,
        rel=1e-12)


def test_observation_is_invariant_to_the_weights_scale() -> None:
    """(17a)'s argmax does not move when every weight is doubled; neither does what the
    generalist observes."""
    scenario = load_scenario(PAPER)
    doubled = load_scenario(PAPER, {"reward.weights": [1.2, 0.4, 0.4]})
    state = cell_slots(scenario, 0, 1)
    a = observe(StepCosts.of(ModelParams.from_scenario(scenario), scenario.steps.x_max), state)
    b = observe(StepCosts.of(ModelParams.from_scenario(doubled), 13), state)
    np.testing.assert_allclose(a.ue, b.ue, rtol=1e-6)
    np.testing.assert_allclose(a.group, b.group, rtol=1e-6)


def test_log_scale_is_fixed_and_clipped() -> None:
    assert log_scale(1e-6) == pytest.approx(-1.0)
    assert log_scale(1e2) == pytest.approx(1.0)
    assert log_scale(1e30) == pytest.approx(1.5)
    assert log_scale(0.0) == pytest.approx(-1.5)


@pytest.fixture(scope="module")
def net() -> GeneralistNet:
    torch.manual_seed(0)
    return GeneralistNet(DISTRIBUTION.steps).eval()


def _decide(net: GeneralistNet, scenario, state) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    return GeneralistPolicy(net, scenario).decide(state)


def test_decisions_follow_the_ues_when_permuted(net: GeneralistNet) -> None:
    """Permuting the UEs (and so the members of each group) permutes the decisions: the
    group actor's pooling does not see the order."""
    scenario = load_scenario(PAPER, {"network.num_ues": 60, "network.num_groups": 4})
    state = cell_slots(scenario, 3, 1).take(0)
    order = np.random.default_rng(1).permutation(60)
    permuted = dataclasses.replace(state, f_ue_hz=state.f_ue_hz[order], phi=state.phi[order],
                                   group=state.group[order], gain=state.gain[order])
    x, y = _decide(net, scenario, state)
    xp, yp = _decide(net, scenario, permuted)
    np.testing.assert_array_equal(x[order], xp)
    np.testing.assert_array_equal(y[order], yp)


@pytest.mark.parametrize("num_ues", [1, 7, 3000])
def test_any_number_of_ues_gets_feasible_splits(net: GeneralistNet, num_ues: int) -> None:
    scenario = load_scenario(PAPER, {"network.num_ues": num_ues,
                                     "network.num_groups": min(num_ues, 5)})
    state = cell_slots(scenario, 0, 1).take(0)
    x, y = _decide(net, scenario, state)
    assert x.shape == (num_ues,) and feasible_splits(scenario.steps, x, y).all()


def test_iis_gets_no_common_steps(net: GeneralistNet) -> None:
    scenario = load_scenario(PAPER, {"prompts.scheme": "iis"})
    x, _ = _decide(net, scenario, cell_slots(scenario, 0, 1).take(0))
    assert (x == 0).all()


def test_training_is_repeatable_and_learns() -> None:
    """Same seed, same weights; and a short run of the teacher's loss already matches the
    oracle's choices more often than the untrained network."""
    settings = GeneralistSettings(imitation_steps=30, ppo_steps=2, cells_per_step=4)
    first, second = GeneralistTrainer(settings), GeneralistTrainer(settings)
    first.train()
    second.train()
    for key, value in first.net.state_dict().items():
        torch.testing.assert_close(value, second.net.state_dict()[key], rtol=0, atol=0)
    start = first.history[0]["x_match"]
    late = np.mean([row["x_match"] for row in first.history[20:30]])
    assert late > start + 0.2


def test_checkpoint_round_trip_and_refusals(tmp_path, net: GeneralistNet) -> None:  # noqa: ANN001
    path = tmp_path / "g.pt"
    save_generalist(path, GeneralistCheckpoint(weights=net.state_dict(), hidden=net.hidden,
                                               distribution=DISTRIBUTION.to_record(),
                                               settings={}, training_s=1.0))
    assert is_generalist_file(path)
    loaded = load_generalist(path)
    assert loaded.cells == DISTRIBUTION
    bad = dict(net.state_dict())
    bad["x_head.bias"] = torch.full_like(bad["x_head.bias"], float("nan"))
    with pytest.raises(HybridnetError, match="non-finite"):
        save_generalist(tmp_path / "nan.pt", GeneralistCheckpoint(
            weights=bad, hidden=net.hidden, distribution=DISTRIBUTION.to_record(),
            settings={}, training_s=1.0))
    assert not (tmp_path / "nan.pt").exists()
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert not is_generalist_file(tmp_path / "junk.pt")
    with pytest.raises(HybridnetError, match="junk.pt"):
        load_generalist(tmp_path / "junk.pt")


def test_out_of_distribution_keys_are_named() -> None:
    inside = load_scenario(PAPER)
    assert outside(inside) == []
    far = load_scenario(PAPER, {"edge.freq_hz": 20e9, "network.num_ues": 5000})
    lines = outside(far)
    assert any(line.startswith("edge.freq_hz = 2e+10") and "0.5e9" not in line
               for line in lines)
    assert any(line.startswith("network.num_ues = 5000") for line in lines)
    assert outside(load_scenario(ROOT / "scenarios" / "dense.toml")) == []


def test_which_controller_hid_runs() -> None:
    assert controller_kind(load_scenario(PAPER)) == "generalist"
    assert controller_kind(load_scenario(PAPER, {"train.mode": "paper"})) == "specialist"
    assert controller_kind(load_scenario(PAPER, {"steps.x_max": 10})) == "specialist"
    assert controller_kind(load_scenario(ROOT / "scenarios" / "dense.toml")) == "generalist"
    assert controller_kind(load_scenario(
        PAPER, {"train.controller": "specialist"})) == "specialist"


def test_shipped_generalist_on_cells_it_never_saw() -> None:
    """Zero-shot on random cells of its distribution drawn from a seed training never
    used: the shipped controller recovers most of the random-to-oracle distance on each."""
    net = shipped_checkpoint().network()
    rng = np.random.default_rng(20261206)
    shares = []
    for _ in range(6):
        scenario = sample_scenario(rng)
        state = cell_slots(scenario, 7, 2)
        params = ModelParams.from_scenario(scenario)
        x, y = GeneralistPolicy(net, scenario).decide(state)
        hid = evaluate(params, state, x, y).reward.mean()
        xo, yo = OraclePolicy(scenario.steps, params).decide(state)
        best = evaluate(params, state, xo, yo).reward.mean()
        random = simulate(scenario, policy="random", seed=7, slots=2, engine="closed")
        worst = float(random.slots["reward"].mean())
        if best - worst > 1e-9:
            shares.append((hid - worst) / (best - worst))
    assert min(shares) > 0.9, shares


def test_hid_runs_the_generalist_without_training(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    """``--policy hid`` on paper.toml from an empty cache: no training, nothing cached,
    and 99 % of the random-to-oracle distance on slots training never drew."""
    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path / "cache"))
    scenario = load_scenario(PAPER)
    rewards = {policy: float(simulate(scenario, policy, seed=11, slots=5,
                                      engine="closed").slots["reward"].mean())
               for policy in ("hid", "oracle", "random")}
    share = (rewards["hid"] - rewards["random"]) / (rewards["oracle"] - rewards["random"])
    assert share > 0.99, rewards
    assert isinstance(make_policy("hid", scenario, policy_rng(0)), GeneralistPolicy)
    assert not (tmp_path / "cache").exists()


def _notes_of_paper_run(capsys: pytest.CaptureFixture[str], out: Path, setting: str
                        ) -> list[str]:
    """``hybridnet run paper.toml --set SETTING`` (closed form, 2 slots), which must succeed:
    the ``hybridnet: note:`` lines it printed."""
    code, _, err = run_cli(capsys, "run", str(PAPER), "--set", setting, "--slots", "2",
                           "--no-plot", "--engine", "closed", "--out", str(out))
    assert code == 0, err
    return [line for line in err.splitlines() if line.startswith("hybridnet: note:")]


def test_out_of_distribution_cell_runs_with_one_line_per_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cell beyond the training ranges: the run names the key and its range, and runs."""
    notes = _notes_of_paper_run(capsys, tmp_path / "run", "edge.freq_hz=12e9")
    assert len(notes) == 1 and "edge.freq_hz = 1.2e+10" in notes[0] and "5e+08 to 8e+09" in notes[0]
    assert (tmp_path / "run" / "summary.json").is_file()


def test_fine_tuning_from_the_generalist(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``hybridnet train --from-generalist``: a generalist checkpoint trained further on the
    scenario, which ``--policy PATH`` runs; a scenario with queues is refused in one line."""
    small = ROOT / "scenarios" / "small.toml"
    out = tmp_path / "tuned"
    code, _, err = run_cli(capsys, "train", str(small), "--from-generalist", "3",
                           "--out", str(out))
    assert code == 0, err
    tuned = load_generalist(out / "checkpoint.pt")
    assert tuned.settings["fine_tuned_on"].endswith("small.toml")
    assert {p.name for p in out.iterdir()} >= {"checkpoint.pt", "tuning.csv", "config.toml"}
    assert any(not torch.equal(value, shipped_checkpoint().weights[key])
               for key, value in tuned.weights.items())
    code, _, err = run_cli(capsys, "run", str(small), "--policy", str(out / "checkpoint.pt"),
                           "--slots", "2", "--no-plot", "--out", str(tmp_path / "run"))
    assert code == 0, err
    code, _, err = run_cli(capsys, "train", str(ROOT / "scenarios" / "dense.toml"),
                           "--from-generalist", "3", "--out", str(tmp_path / "dense"))
    assert code == 2 and "queues form here" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "dense").exists()


def test_train_keys_that_only_a_specialist_uses_are_named(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """[train] keys set for a specialist do nothing to the generalist: the run says so."""
    notes = _notes_of_paper_run(capsys, tmp_path / "run", "train.episodes=20")
    assert any(line.startswith("hybridnet: note: train.episodes train a specialist")
               for line in notes)


def test_a_hid_sweep_of_an_earlier_version_reads_as_specialists(tmp_path: Path) -> None:
    """A hid sweep written before train.controller existed trained a controller per cell:
    it extends with train.controller = "specialist" and is refused under the generalist."""
    from hybridnet.outputs import write_marker
    from hybridnet.scenario import read_scenario
    from hybridnet.sweep import plan_sweep, settings_toml

    small = ROOT / "scenarios" / "small.toml"
    specialist = read_scenario(small, {"train.controller": "specialist"})
    out = tmp_path / "old"
    plan = plan_sweep(specialist, {"network.num_ues": [4]}, out, policy="hid", engine="closed")
    out.mkdir()
    write_marker(out, "sweep")
    text = settings_toml(plan)
    assert 'controller = "specialist"\n' in text
    (out / "sweep.toml").write_text(text.replace('controller = "specialist"\n', ""))
    assert plan_sweep(specialist, {"network.num_ues": [4]}, out, policy="hid",
                      engine="closed").pending
    with pytest.raises(HybridnetError, match="scenario key train.controller"):
        plan_sweep(read_scenario(small), {"network.num_ues": [4]}, out, policy="hid",
                   engine="closed")
