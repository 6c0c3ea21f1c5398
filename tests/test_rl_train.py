"""Training the HID controller: learning, seeding, checkpoints, resume, the cache and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from hybridnet.errors import HybridnetError
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.policies import make_policy
from hybridnet.rl.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from hybridnet.rl.controller import stack_slots
from hybridnet.rl.policy import HidPolicy, load_hid_policy, scenario_key
from hybridnet.rl.train import HISTORY_COLUMNS, Trainer
from hybridnet.scenario import Scenario, from_dict
from hybridnet.sim.conditions import Conditions

SMALL = {
    "network": {"num_ues": 6, "num_groups": 2},
    "sim": {"slots": 5},
    "train": {"hidden": [32, 32], "episodes": 6, "episodes_per_update": 2, "batch_size": 16,
              "checkpoint_every": 2},
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def small(**train: object) -> Scenario:
    raw = {k: dict(v) for k, v in SMALL.items()}
    raw["train"].update(train)
    return from_dict(raw, "<small>")


def greedy_reward(controller: torch.nn.Module, scenario: Scenario, seed: int) -> float:
    params = ModelParams.from_scenario(scenario)
    states = stack_slots(list(Conditions(scenario, seed).slots()))
    d = controller.act(states, greedy=True)
    return float(evaluate(params, states, d.x, d.y).reward.mean())


@pytest.mark.parametrize("mode", ["default", "paper"])
def test_short_training_improves_on_the_initial_policy(mode: str) -> None:
    scenario = small(mode=mode, episodes=60, episodes_per_update=4).with_values(
        {"sim.slots": 10, "train.learning_rate": 2e-3, "train.group_learning_rate": 2e-3})
    trainer = Trainer(scenario)
    fresh = scenario.with_values({"sim.slots": 40})
    before = greedy_reward(trainer.controller, fresh, seed=999)
    history = trainer.train()
    after = greedy_reward(trainer.controller, fresh, seed=999)
    assert after > before + 0.01
    assert list(history.columns) == list(HISTORY_COLUMNS)
    assert (history["oracle_reward"] >= history["reward"] - 1e-12).all()
    first, last = history["reward"].iloc[:10].mean(), history["reward"].iloc[-10:].mean()
    assert last > first


def test_same_seed_same_curve_other_seed_other_curve() -> None:
    a = Trainer(small()).train(4)
    b = Trainer(small()).train(4)
    c = Trainer(small(seed=1)).train(4)
    assert a.equals(b)
    assert not np.allclose(a["reward"], c["reward"])


def test_resume_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    whole = Trainer(small())
    whole.train(6)
    part = Trainer(small())
    part.train(3)                         # stops mid-rollout (2 episodes per update)
    assert part.buffered_episodes == 1
    save_checkpoint(tmp_path / "c.pt", Checkpoint.from_trainer(part))
    resumed = load_checkpoint(tmp_path / "c.pt").resume(small(), "test")
    resumed.train(6)
    assert resumed.history_frame().equals(whole.history_frame())
    for (name, p), q in zip(whole.controller.state_dict().items(),
                            resumed.controller.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    trainer = Trainer(small(episodes=2))
    trainer.train()
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, Checkpoint.from_trainer(trainer))
    loaded = load_checkpoint(path)
    assert loaded.scenario == trainer.scenario
    assert loaded.version
    for p, q in zip(trainer.controller.state_dict().values(),
                    loaded.controller().state_dict().values(), strict=True):
        assert torch.equal(p, q)
    state = next(Conditions(trainer.scenario, 5).slots())
    ours = HidPolicy(trainer.controller).decide(state)
    theirs = load_hid_policy(trainer.scenario, path, np.random.default_rng(0)).decide(state)
    assert all(np.array_equal(a, b) for a, b in zip(ours, theirs, strict=True))


def test_bad_checkpoint_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(HybridnetError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint")
    with pytest.raises(HybridnetError, match="not a readable hybridnet checkpoint"):
        load_checkpoint(garbage)
    other = tmp_path / "other.pt"
    torch.save({"weights": {}}, other)
    with pytest.raises(HybridnetError, match="not a HID checkpoint"):
        load_checkpoint(other)
    with pytest.raises(HybridnetError, match="not a readable hybridnet checkpoint|not a HID"):
        make_policy(str(garbage), small(), np.random.default_rng(0))


def test_checkpoint_for_other_ues_is_refused(tmp_path: Path) -> None:
    trainer = Trainer(small(episodes=1))
    trainer.train()
    save_checkpoint(tmp_path / "c.pt", Checkpoint.from_trainer(trainer))
    other = small().with_values({"network.num_ues": 7})
    with pytest.raises(HybridnetError, match="trained for 6 UEs"):
        load_hid_policy(other, tmp_path / "c.pt", np.random.default_rng(0))


def test_resume_refuses_a_changed_scenario(tmp_path: Path) -> None:
    trainer = Trainer(small(episodes=1))
    trainer.train()
    checkpoint = Checkpoint.from_trainer(trainer)
    with pytest.raises(HybridnetError, match="train.learning_rate"):
        checkpoint.resume(small(learning_rate=1e-3), "test")


def test_des_engine_trains_on_the_same_slots() -> None:
    des = Trainer(small(engine="des", mode="paper", episodes=2)).train()
    closed = Trainer(small(mode="paper", episodes=2)).train()
    # Same worlds whichever engine plays them: the oracle sees the same slots.
    np.testing.assert_allclose(des["oracle_reward"], closed["oracle_reward"])
    assert np.isfinite(des.to_numpy(dtype=float)).all()


def test_hid_policy_from_cache_trains_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path))
    scenario = small(episodes=2)
    first = load_hid_policy(scenario, None, np.random.default_rng(0), progress=False)
    cached = list(tmp_path.rglob("checkpoint.pt"))
    assert len(cached) == 1 and scenario_key(scenario) in str(cached[0])
    stamp = cached[0].stat().st_mtime_ns
    # Another evaluation seed is the same training problem: reuse, do not retrain.
    again = load_hid_policy(scenario.with_values({"sim.seed": 7}), None,
                            np.random.default_rng(1), progress=False)
    assert cached[0].stat().st_mtime_ns == stamp
    assert first.name == again.name == "hid"
    state = next(Conditions(scenario, 3).slots())
    assert all(np.array_equal(a, b) for a, b in zip(first.decide(state), again.decide(state),
                                                    strict=True))


def test_hid_policy_drives_the_des(tmp_path: Path) -> None:
    from hybridnet.sim import simulate_des

    trainer = Trainer(small(episodes=2))
    trainer.train()
    path = tmp_path / "c.pt"
    save_checkpoint(path, Checkpoint.from_trainer(trainer))
    for sample in (False, True):
        policy = load_hid_policy(trainer.scenario, path, np.random.default_rng(0), sample=sample)
        result = simulate_des(trainer.scenario, policy, seed=11)
        assert len(result.slots) == trainer.scenario.sim.slots
        assert policy.sample is sample


def _cli(args: list[str]) -> object:
    from hybridnet.cli.train import train

    return CliRunner().invoke(train, args, catch_exceptions=False, standalone_mode=False)


def test_cli_train_writes_its_directory_and_resumes(tmp_path: Path) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text('[network]\nnum_ues = 4\n[sim]\nslots = 3\n'
                        '[train]\nhidden = [16]\nepisodes_per_update = 2\n', encoding="utf-8")
    out = tmp_path / "run"
    _cli([str(scenario), "--out", str(out), "--episodes", "3", "--seed", "4"])
    assert sorted(p.name for p in out.iterdir()) == [".hybridnet", "checkpoint.pt", "config.toml",
                                                      "reward.png", "training.csv"]
    assert not any(p.name.endswith(".partial") for p in tmp_path.iterdir())
    checkpoint = load_checkpoint(out / "checkpoint.pt")
    assert checkpoint.scenario.train.seed == 4
    assert len(checkpoint.training["history"]) == 3
    with pytest.raises(HybridnetError, match="already exists"):
        _cli([str(scenario), "--out", str(out)])
    _cli(["--out", str(out), "--resume", "--episodes", "5"])
    assert len(load_checkpoint(out / "checkpoint.pt").training["history"]) == 5
    assert (out / "training.csv").read_text().count("\n") == 6
    with pytest.raises(HybridnetError, match="nothing to resume"):
        _cli(["--out", str(tmp_path / "nowhere"), "--resume"])
