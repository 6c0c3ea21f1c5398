"""Training the HID controller: learning, seeding, checkpoints, resume, the cache and the CLI."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from click.testing import CliRunner

from hybridnet.api import make_policy, simulate
from hybridnet.cli import main
from hybridnet.cli.train import train
from hybridnet.errors import HybridnetError
from hybridnet.model.actions import action_mask
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.reference import resolve_references
from hybridnet.model.slot import Queues, SlotState
from hybridnet.policies.fluid import PRICE_START, FluidPolicy
from hybridnet.policies.oracle import OraclePolicy
from hybridnet.rl.checkpoint import FORMAT, Checkpoint, load_checkpoint, save_checkpoint
from hybridnet.rl.controller import KEEP_UP_TOLERANCE, Features, stack_slots
from hybridnet.rl.policy import HidPolicy, load_hid_policy, scenario_key
from hybridnet.rl.rollout import play_des
from hybridnet.rl.train import HISTORY_COLUMNS, TRAINING_KEYS, Trainer
from hybridnet.scenario import Scenario, from_dict, read_scenario
from hybridnet.sim import simulate_des
from hybridnet.sim.conditions import Conditions
from hybridnet.threads import torch_threads

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


def test_state_dict_puts_a_fresh_trainer_where_the_old_one_was() -> None:
    old = Trainer(small())
    old.train(3)                          # mid-rollout: a buffered episode to carry over
    new = Trainer(small())
    new.load_state_dict(old.state_dict())
    assert (new.episodes_done, new.updates_done, new.buffered_episodes) == (3, 1, 1)
    assert set(old.state_dict()["training"]) == set(TRAINING_KEYS)
    old.train(6)
    new.train(6)
    assert new.history_frame().equals(old.history_frame())


def test_the_trainer_knows_nothing_of_checkpoint_files() -> None:
    """The checkpoint module builds on the trainer's state, never the other way round."""
    code = "import sys, hybridnet.rl.train; print('hybridnet.rl.checkpoint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_torch_threads_sets_the_count_for_the_block_only() -> None:
    before = torch.get_num_threads()
    with torch_threads(2):
        assert torch.get_num_threads() == 2
        with torch_threads(0):            # 0: leave the setting as it is
            assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    trainer = Trainer(small(episodes=2))
    trainer.train()
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, Checkpoint.from_trainer(trainer))
    payload = torch.load(path, map_location="cpu", weights_only=True)
    assert set(payload) == {"format", "version", "config", "source", "weights", "training"}
    assert payload["format"] == FORMAT == "hybridnet.hid_checkpoint/2"
    loaded = load_checkpoint(path)
    assert loaded.scenario == trainer.scenario
    try:
        installed = metadata.version("hybridnet")
    except metadata.PackageNotFoundError:
        installed = "unknown"             # the documented value when run from a source tree
    assert loaded.version == installed
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


def test_the_teacher_solved_while_deciding_is_the_batched_solution() -> None:
    """On the DES the actors observe the fluid policy's price slot by slot; training takes
    the teacher's targets from those solutions instead of solving the stacked slots again,
    which must give the same arrays."""
    scenario = resolve_references(from_dict(CONTENDED, "<busy>"))
    trainer = Trainer(scenario)
    decision, out = play_des(trainer.controller, trainer.episode_scenario, 3,
                             torch.Generator().manual_seed(0), None)
    assert decision.fluid is not None
    batched = FluidPolicy.from_scenario(scenario).solve(out.states)
    for name in ("group_bound", "x_upto", "y_of_x"):
        np.testing.assert_array_equal(getattr(decision.fluid, name), getattr(batched, name))


def test_plans_solved_on_a_second_thread_train_the_same_controller() -> None:
    """On the DES the next episode's fluid plans are solved while an episode plays; a
    trainer that solves each episode's plans when it starts learns the very same."""
    scenario = resolve_references(from_dict(CONTENDED, "<busy>")).with_values(
        {"train.episode_slots": 4})
    ahead = Trainer(scenario)
    inline = Trainer(scenario)
    inline._prefetch = None
    assert ahead.train(3).equals(inline.train(3))
    for (name, p), q in zip(ahead.controller.state_dict().items(),
                            inline.controller.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_a_checkpoint_observing_other_entries_says_so(tmp_path: Path) -> None:
    """A controller trained when the actors observed one entry fewer."""
    scenario = resolve_references(from_dict(CONTENDED, "<busy>"))
    payload = Checkpoint.from_trainer(Trainer(scenario)).to_payload()
    weights = payload["weights"]
    weights["group.actor.weights.0"] = weights["group.actor.weights.0"][:, :-1]
    path = tmp_path / "older.pt"
    torch.save(payload, path)
    entries = Features.GROUP_DIM + Features.GROUP_QUEUE_DIM
    with pytest.raises(HybridnetError, match=f"group actor observes {entries - 1} entries, this "
                                             f"version of hybridnet gives it {entries}"
                                             ".*train it again"):
        load_checkpoint(path)


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
    scenario = small(episodes=2, controller="specialist")
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


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Trainer, Path]:
    """A barely trained controller: its policies are still spread over many actions."""
    trainer = Trainer(small(episodes=2))
    trainer.train()
    path = tmp_path_factory.mktemp("hid") / "checkpoint.pt"
    save_checkpoint(path, Checkpoint.from_trainer(trainer))
    return trainer, path


def test_sampled_actions_follow_the_seed_greedy_ones_do_not(trained: tuple[Trainer, Path]
                                                           ) -> None:
    trainer, path = trained
    states = list(Conditions(trainer.scenario, 5).slots())

    def actions(sample: bool, seed: int) -> np.ndarray:
        policy = load_hid_policy(trainer.scenario, path, np.random.default_rng(seed),
                                 sample=sample)
        return np.array([policy.decide(state) for state in states])

    greedy = [actions(False, seed) for seed in range(3)]
    assert all(np.array_equal(greedy[0], other) for other in greedy[1:])
    sampled = [actions(True, seed) for seed in range(3)]
    assert not all(np.array_equal(sampled[0], other) for other in sampled[1:])
    assert np.array_equal(actions(True, 0), sampled[0])


def test_a_des_run_executes_exactly_the_controllers_greedy_decisions(
        trained: tuple[Trainer, Path], tmp_path: Path) -> None:
    """ues.csv holds, slot by slot, what ``controller.act`` answers on the run's own slots."""
    trainer, path = trained
    out = tmp_path / "run"
    scenario = tmp_path / "small.toml"
    scenario.write_text("[network]\nnum_ues = 6\n[sim]\nslots = 5\n", encoding="utf-8")
    # Queues at the ES and on the band must delay the decisions, never change them.
    main(["run", str(scenario), "--policy", str(path), "--engine", "des", "--seed", "11",
          "--set", "edge.scheduler=fcfs", "--set", "edge.compute_units=1",
          "--set", "channel.downlink=shared", "--no-plot", "--out", str(out)])
    ues = pd.read_csv(out / "ues.csv").sort_values(["slot", "ue"])
    run = read_scenario(out / "config.toml")
    states = list(Conditions(run, 11).slots())
    assert len(states) == ues["slot"].nunique() == 5
    controller = trainer.controller.eval()
    for k, state in enumerate(states):
        decision = controller.act(state, greedy=True)
        row = ues[ues["slot"] == k]
        np.testing.assert_array_equal(row["phi"], state.phi)
        np.testing.assert_array_equal(row["x"], decision.x[0])
        np.testing.assert_array_equal(row["y"], decision.y[0])


def _cli(args: list[str]) -> object:
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


def test_default_controller_adapts_beyond_the_best_constant_split() -> None:
    """UE CPUs over 0.5-2.5 GHz: the best split differs per UE, so a constant cannot be optimal.

    The default controller (shared UE actor, oracle as teacher) must close most of
    the distance from the best fixed:X,Y to the oracle on slots it never trained on.
    """
    scenario = resolve_references(from_dict({
        "network": {"num_ues": 12, "num_groups": 2}, "sim": {"slots": 10},
        "ue": {"freq_min_hz": 0.5e9, "freq_max_hz": 2.5e9}, "reward": {"weights": [0.4, 0.3, 0.3]},
        "train": {"hidden": [64, 64], "episodes": 100}}, "<heterogeneous>"))
    params = ModelParams.from_scenario(scenario)
    states = stack_slots(list(Conditions(scenario.with_values({"sim.slots": 40}), 999).slots()))

    def score(x: np.ndarray, y: np.ndarray) -> float:
        return float(evaluate(params, states, x, y).reward.mean())

    oracle = score(*OraclePolicy(scenario.steps, params).solve(states).optimum(states.group))
    fixed = max(score(np.full(states.phi.shape, a), np.full(states.phi.shape, b))
                for a, b in zip(*np.nonzero(action_mask(scenario.steps)), strict=True))
    trainer = Trainer(scenario)
    trainer.train()
    decision = trainer.controller.act(states, greedy=True)
    assert trainer.controller.ue.num_agents == 1             # one network for every UE
    assert (score(decision.x, decision.y) - fixed) / (oracle - fixed) > 0.6


@pytest.mark.parametrize("mode", ["default", "paper"])
def test_des_samples_are_ordered_as_their_rewards_and_targets(mode: str) -> None:
    """On the DES the actors act slot by slot; joined, each sample must still be the UE
    and slot its reward, value and teacher target are (UE-major for the shared actor)."""
    scenario = small(engine="des", mode=mode, episodes=1)
    trainer = Trainer(scenario)
    generator = torch.Generator().manual_seed(0)
    decision, out = play_des(trainer.controller, trainer.episode_scenario, 3, generator, None)
    s_count, n = decision.x.shape
    num_y = trainer.controller.num_y
    action = decision.ue.actions.cpu().numpy()
    if mode == "paper":                                   # (N, S): agent n, slot s
        np.testing.assert_array_equal(action // num_y, decision.x.T)
        np.testing.assert_array_equal(action % num_y, decision.y.T)
        return
    assert decision.bound is not None
    flat = action.reshape(-1)                             # sample n * S + s
    np.testing.assert_array_equal(decision.bound.T.reshape(-1) - flat // num_y,
                                  decision.x.T.reshape(-1))
    np.testing.assert_array_equal(flat % num_y, decision.y.T.reshape(-1))
    # the observation of sample n * S + s is UE n's in slot s
    obs = decision.ue.obs[0].cpu().numpy().reshape(n, s_count, -1)
    f = 2 * (out.states.f_ue_hz - scenario.ue.freq_min_hz) / (
        scenario.ue.freq_max_hz - scenario.ue.freq_min_hz) - 1
    np.testing.assert_allclose(obs[..., 0], f.T, rtol=1e-6, atol=1e-6)


CONTENDED = {
    "network": {"num_ues": 40, "num_groups": 4},
    "ue": {"freq_min_hz": 0.8e9, "freq_max_hz": 2.0e9, "freq_redraw": "episode"},
    "edge": {"scheduler": "fcfs", "compute_units": 1},
    "channel": {"downlink": "shared", "shared_bandwidth_hz": 100e6},
    "sim": {"slots": 10, "slot_s": 0.3, "arrivals": "poisson", "early_handoff": True},
    "train": {"hidden": [64, 64], "episodes": 40},
}
"""A small busy cell: slow UEs that cannot run most steps in a slot, one FCFS ES unit."""


def test_training_settings_follow_whether_queues_form() -> None:
    busy = resolve_references(from_dict(CONTENDED, "<busy>")).train
    assert (busy.engine, busy.gamma, busy.bound_exploration, busy.shared_samples) == (
        "des", 0.9, 0.0, 2048)
    plain = resolve_references(Scenario()).train
    assert (plain.engine, plain.gamma, plain.bound_exploration, plain.shared_samples) == (
        "closed", 0.0, 0.5, 512)
    chosen = resolve_references(from_dict(CONTENDED, "<busy>").with_values(
        {"train.engine": "closed"})).train
    assert (chosen.engine, chosen.gamma) == ("closed", 0.0)


def test_actors_trained_on_the_des_observe_the_queues() -> None:
    scenario = resolve_references(from_dict(CONTENDED, "<busy>"))
    controller = Trainer(scenario).controller
    state = next(iter(Conditions(scenario, 1).slots()))
    backlog = np.linspace(0.0, 3.0, 40)
    queues = Queues(ue_backlog_s=backlog, es_backlog_s=np.asarray(0.6),
                    downlink_in_flight=np.asarray(10.0), downlink_bits=np.asarray(5e6),
                    last_delay_s=np.full(40, 0.5), last_wait_s=np.full(40, 0.15))
    batch = stack_slots([dataclasses.replace(state, queues=queues)])
    plan = controller.features.fluid_plan(batch)
    rows, group_obs = controller.features.groups(batch, plan)
    obs = controller.features.ue(batch, rows, group_obs, None)[:, 0]
    assert obs.shape == (40, Features.UE_DIM + Features.UE_QUEUE_DIM)
    np.testing.assert_allclose(obs[:, 5], np.log1p(backlog / 0.3))
    np.testing.assert_allclose(obs[:, 6], np.log1p(0.5))
    np.testing.assert_allclose(obs[:, 7], np.log1p(2.0))
    np.testing.assert_allclose(obs[:, 8], 10 / 40)
    _, price = FluidPolicy(scenario.steps, ModelParams.from_scenario(scenario), 0.3,
                           scenario.edge.compute_units).solve_priced(batch)
    np.testing.assert_allclose(obs[:, 9], np.log1p(price[0] / PRICE_START) / 10)
    assert group_obs.shape[1] == Features.GROUP_DIM + Features.GROUP_QUEUE_DIM
    np.testing.assert_allclose(group_obs[:, -1], obs[0, 9])
    blind = Trainer(resolve_references(from_dict(CONTENDED, "<busy>").with_values(
        {"train.engine": "closed"}))).controller
    assert blind.features.ue_dim == Features.UE_DIM


def test_a_ue_behind_by_more_than_a_slot_keeps_up() -> None:
    """With ``train.behind_slots`` = 2, a UE whose CPU backlog exceeds two slots may only
    choose splits whose phase II work (eq. 8) fits the slot, or overflows it no more than
    the fluid policy's answer to its group's X does; a UE not behind, one whose answer
    overflows by more than a tenth of the slot, or any UE with the key at its default 0,
    chooses among every feasible split."""
    scenario = resolve_references(from_dict(CONTENDED, "<busy>"))
    state = next(iter(Conditions(scenario, 1).slots()))
    backlog = np.where(np.arange(40) % 2 == 0, 0.61, 0.59)   # even UEs: over 2 slots behind
    queues = dataclasses.replace(Queues.idle((), 40), ue_backlog_s=backlog)
    batch = stack_slots([dataclasses.replace(state, queues=queues)])
    free = Trainer(scenario).controller.act(batch, greedy=True)
    controller = Trainer(scenario.with_values({"train.behind_slots": 2.0})).controller
    decision = controller.act(batch, greedy=True)
    assert decision.bound is not None
    steps, p = scenario.steps, ModelParams.from_scenario(scenario).physics
    fluid = controller.features.fluid
    x_t, y_t = fluid.solve(batch).respond(decision.bound)
    plain = torch.from_numpy(action_mask(steps))
    masks = decision.ue.masks[0].reshape(40, controller.num_x, controller.num_y)
    offsets, ys = np.meshgrid(np.arange(controller.num_x), np.arange(controller.num_y),
                              indexing="ij")
    narrowed = 0
    for ue in range(40):
        x = decision.bound[0, ue] - offsets
        feasible = (x >= 0) & plain.numpy()[np.clip(x, 0, None), ys]
        work_s = (steps.total - x - ys) * p.ue_cycles_per_step / state.f_ue_hz[ue]   # eq. (8)
        taught_s = ((steps.total - x_t[0, ue] - y_t[0, ue]) * p.ue_cycles_per_step
                    / state.f_ue_hz[ue])
        allowed = masks[ue].numpy()
        np.testing.assert_array_equal(
            free.ue.masks[0].reshape(40, controller.num_x, controller.num_y)[ue].numpy(),
            (np.clip(free.bound[0, ue] - offsets, 0, None) == free.bound[0, ue] - offsets)
            & plain.numpy()[np.clip(free.bound[0, ue] - offsets, 0, None), ys])
        slot_s = scenario.sim.slot_s
        if ue % 2 or taught_s > (1 + KEEP_UP_TOLERANCE) * slot_s:   # not behind, or by design
            np.testing.assert_array_equal(allowed, feasible)
            continue
        limit_s = max(slot_s, taught_s)
        np.testing.assert_array_equal(allowed, feasible & (work_s <= limit_s * (1 + 1e-12)))
        assert allowed.any()
        narrowed += int((feasible & ~allowed).any())
    assert narrowed > 0                        # the rule bound some UE of this slot


def test_des_training_beats_the_queue_blind_oracle_in_the_des() -> None:
    """40 episodes on the DES: HID's greedy decisions lose less to the queues than the
    closed-form oracle's, and its waiting grows less."""
    scenario = resolve_references(from_dict(CONTENDED, "<busy>"))
    trainer = Trainer(scenario)
    trainer.train()
    evaluation = scenario.with_values({"sim.slots": 60})

    def run(policy: object) -> tuple[float, float]:
        result = simulate(evaluation, policy, seed=99, engine="des")
        waiting = result.ues.groupby("slot")["t_wait_s"].mean().to_numpy()
        return float(result.slots["reward"].mean()), float(waiting[45:].mean())

    hid_reward, hid_wait = run(HidPolicy(trainer.controller))
    oracle_reward, oracle_wait = run("oracle")
    assert hid_reward > oracle_reward + 0.1
    assert hid_wait < 0.5 * oracle_wait


@pytest.mark.parametrize(("scheduler", "units"), [("dedicated", 1), ("fcfs", 3)])
def test_every_fluid_policy_plans_the_es_in_the_units_its_backlog_is_reported_in(
        scheduler: str, units: int) -> None:
    """The fluid policy a run asks for, the one the actors observe and the teacher's
    second-thread planner are one: under ``dedicated`` the HID features once planned
    8 units where the backlog (and ``--policy fluid``) counted 1."""
    scenario = resolve_references(small(engine="des").with_values(
        {"edge.scheduler": scheduler, "edge.compute_units": 3}))
    trainer = Trainer(scenario)
    assert trainer._prefetch is not None
    fluids = [make_policy("fluid", scenario, np.random.default_rng(0)),
              trainer.controller.features.fluid, trainer._prefetch.planner]
    assert [f.backlog_units for f in fluids] == [units] * 3
    assert make_policy("dpp", scenario, np.random.default_rng(0)).backlog_units == units


def test_the_state_after_an_episode_is_what_its_next_slot_would_observe() -> None:
    """Training bootstraps from the state at t_S, after the last slot: the very state a
    run one slot longer decides its last slot on, queues included."""
    scenario = resolve_references(from_dict(CONTENDED, "<busy>"))
    seen: list[SlotState] = []

    class Recording:
        name = "recording"

        def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
            seen.append(state)
            return np.full(state.num_ues, 3), np.full(state.num_ues, 2)

    end: list[SlotState] = []
    simulate_des(scenario, Recording(), 4, slots=3, observe_end=end.append)
    seen.clear()
    simulate_des(scenario, Recording(), 4, slots=4)
    (after,) = end
    assert after.queues is not None and after.queues.es_backlog_s > 0
    for name in ("f_ue_hz", "phi", "group", "gain"):
        np.testing.assert_array_equal(getattr(after, name), getattr(seen[3], name))
    for field in dataclasses.fields(after.queues):
        np.testing.assert_array_equal(getattr(after.queues, field.name),
                                      getattr(seen[3].observed_queues, field.name))
