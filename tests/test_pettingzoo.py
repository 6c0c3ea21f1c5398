"""hybridnet.parallel_env passes PettingZoo's own conformance tests and handles bad actions."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
from pettingzoo.test import parallel_api_test, parallel_seed_test

import hybridnet
from hybridnet.errors import InvalidArgument
from hybridnet.model.actions import action_mask, local_split
from hybridnet.model.slot import SlotState
from hybridnet.policies import make_policy
from hybridnet.rl.pettingzoo_env import parallel_env
from hybridnet.scenario import Scenario
from hybridnet.sim import simulate_des

PAPER = Path(__file__).resolve().parent.parent / "scenarios" / "paper.toml"


def test_parallel_api_test_on_the_paper_scenario() -> None:
    parallel_api_test(hybridnet.parallel_env(str(PAPER)), num_cycles=1000)


def test_parallel_seed_test_on_the_paper_scenario() -> None:
    parallel_seed_test(lambda: hybridnet.parallel_env(PAPER))


def test_agents_spaces_and_overrides() -> None:
    env = parallel_env(PAPER, network__num_ues=3, overrides={"sim.slots": 2})
    steps = env.scenario.steps
    assert env.possible_agents == ["ue_0", "ue_1", "ue_2"]
    obs, infos = env.reset(seed=1)
    assert set(obs) == set(infos) == set(env.agents)
    assert np.array_equal(obs["ue_0"]["action_mask"], action_mask(steps).ravel().astype(np.int8))
    assert env.action_space("ue_0").n == (steps.x_max + 1) * (steps.y_max + 1)
    assert env.observation_space("ue_0").contains(obs["ue_0"])


def test_invalid_actions_run_the_local_split() -> None:
    env = parallel_env(Scenario(), network__num_ues=3, sim__slots=1)
    env.reset(seed=0)
    steps = env.scenario.steps
    infeasible = int(np.flatnonzero(~action_mask(steps).ravel())[0])
    feasible = 5 * (steps.y_max + 1) + 2                      # x = 5, y = 2
    _, rewards, _, truncations, infos = env.step({"ue_0": feasible, "ue_1": infeasible})
    assert (infos["ue_0"]["x"], infos["ue_0"]["y"], infos["ue_0"]["invalid_action"]) == (5, 2,
                                                                                        False)
    for agent in ("ue_1", "ue_2"):                          # infeasible, missing
        assert infos[agent]["invalid_action"]
        assert (infos[agent]["x"], infos[agent]["y"]) == local_split(steps)
    assert len(set(rewards.values())) == 1                  # the team reward (20)
    assert all(truncations.values()) and env.agents == []


def test_reset_without_seed_moves_to_the_next_episode() -> None:
    env = parallel_env(Scenario(), network__num_ues=4, sim__slots=1)
    first, _ = env.reset(seed=3)
    second, _ = env.reset()
    again, _ = env.reset(seed=3)
    assert not np.array_equal(first["ue_0"]["observation"], second["ue_0"]["observation"])
    assert np.array_equal(first["ue_0"]["observation"], again["ue_0"]["observation"])


def test_step_after_the_end_is_an_error() -> None:
    env = parallel_env(Scenario(), network__num_ues=2, sim__slots=1)
    env.reset(seed=0)
    env.step({})
    with pytest.raises(hybridnet.errors.HybridnetError, match="reset"):
        env.step({})


def test_infeasible_and_missing_actions_run_the_local_split() -> None:
    env = parallel_env(Scenario(), network__num_ues=5, sim__slots=1)
    observations, _ = env.reset(seed=0)
    infeasible = int(np.flatnonzero(observations["ue_0"]["action_mask"] == 0)[0])
    actions = {"ue_0": infeasible, "ue_1": np.int64(infeasible), "ue_2": None}  # 3, 4 missing
    _, rewards, _, _, infos = env.step(actions)
    for agent in env.possible_agents:
        assert infos[agent]["invalid_action"], agent
        assert (infos[agent]["x"], infos[agent]["y"]) == local_split(env.scenario.steps)
    # no common phase, so the UEs' own terms of (17a) add up to N times the team reward
    own = sum(info["own_reward"] for info in infos.values())
    assert own == pytest.approx(5 * rewards["ue_0"], rel=1e-12)


@pytest.mark.parametrize("actions, needle", [
    ({"ue_0": 1.5}, "action of ue_0 is 1.5 (float)"),
    ({"ue_0": 1.0}, "action of ue_0 is 1.0 (float)"),
    ({"ue_0": "3"}, "action of ue_0 is '3' (str)"),
    ({"ue_0": True}, "action of ue_0 is True"),
    ({"ue_0": -1}, "action of ue_0 is -1; expected an integer in [0, "),
    ({"ue_0": 10**30}, "expected an integer in [0, "),
    ({"ue_999": 0}, "'ue_999', which is not an agent"),
    ([0, 1], "actions must be a dict"),
])
def test_an_action_outside_the_space_or_an_unknown_agent_is_refused(actions, needle) -> None:
    """B18: PettingZoo's spaces contain only integers in range; a caller's bug is raised."""
    env = parallel_env(Scenario(), network__num_ues=2, sim__slots=2)
    env.reset(seed=0)
    with pytest.raises(InvalidArgument, match=re.escape(needle)):
        env.step(actions)
    assert isinstance(InvalidArgument("x"), ValueError)
    env.step({"ue_0": 0, "ue_1": 0})  # the episode is untouched: it plays on


@pytest.mark.parametrize("seed", [-1, 1.5, "7", 2**63])
def test_reset_refuses_a_seed_the_cli_would(seed) -> None:
    env = parallel_env(Scenario(), network__num_ues=2, sim__slots=2)
    with pytest.raises(InvalidArgument, match="seed"):
        env.reset(seed=seed)


def _small_dense(**values: object) -> dict[str, object]:
    return {"network.num_ues": 12, "network.num_groups": 3, "sim.slots": 6,
            "edge.compute_units": 1, "sim.slot_s": 0.25, **values}


def test_a_scenario_with_queues_plays_the_des_and_observes_them() -> None:
    """dense.toml trains on the DES, so its env steps the DES: PettingZoo's conformance
    and seed tests pass, and the queues the agents observe are the ledger's."""
    dense = PAPER.with_name("dense.toml")
    env = parallel_env(dense, overrides=_small_dense())
    assert env.engine == "des"
    parallel_api_test(env, num_cycles=20)
    parallel_seed_test(lambda: parallel_env(dense, overrides=_small_dense()))
    obs, _ = env.reset(seed=2)
    assert env.observation_space("ue_0")["observation"].shape == (10,) == obs["ue_0"][
        "observation"].shape
    queue_entries = []
    while env.agents:
        actions = {a: int(np.flatnonzero(o["action_mask"])[0]) for a, o in obs.items()}
        obs, *_ = env.step(actions)
        queue_entries.append(obs["ue_0"]["observation"][5:9])
    assert np.abs(queue_entries).max() > 0          # the UEs' own work queues (z = 28)
    closed = parallel_env(dense, overrides=_small_dense(), engine="closed")
    obs, _ = closed.reset(seed=2)
    assert np.array_equal(obs["ue_0"]["observation"][5:9], np.zeros(4, dtype=np.float32))


@pytest.mark.parametrize("policy", ["fluid", "oracle"])
def test_the_stepped_des_is_the_run_hybridnet_makes(policy: str) -> None:
    """Deciding each slot from the env's observed state as ``policy`` would, the episode's
    rewards add up to the DES run of that policy in the same world, slot for slot, and the
    states the agents saw are the ones the run's policy saw (queues included)."""
    dense = PAPER.with_name("dense.toml")
    env = parallel_env(dense, overrides=_small_dense())
    scenario = env.scenario
    seen: list[SlotState] = []

    class Watching:
        name = policy

        def __init__(self) -> None:
            self.inner = make_policy(policy, scenario, np.random.default_rng(0))

        def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
            seen.append(state)
            return self.inner.decide(state)

    run = simulate_des(scenario, Watching(), seed=5, episode=1)
    decider = make_policy(policy, scenario, np.random.default_rng(0))
    env.reset(seed=5)
    env.reset()                                        # episode 1 of seed 5
    rewards, reported, k = [], [], 0
    num_y = scenario.steps.y_max + 1
    while env.agents:
        state = env._state
        assert state is not None
        np.testing.assert_array_equal(state.queues.ue_backlog_s, seen[k].queues.ue_backlog_s)
        np.testing.assert_array_equal(state.queues.es_backlog_s, seen[k].queues.es_backlog_s)
        x, y = decider.decide(state)
        _, step_rewards, _, _, infos = env.step(
            {a: int(x[n] * num_y + y[n]) for n, a in enumerate(env.agents)})
        done = infos["ue_0"]["completed_slots"]
        # each step reports the slots whose images all finished in it, and their rewards
        assert step_rewards["ue_0"] == pytest.approx(
            run.slots.set_index("slot")["reward"].reindex(done).sum(), rel=1e-12, abs=0)
        rewards.append(step_rewards["ue_0"])
        reported += done
        k += 1
    assert reported == list(range(scenario.sim.slots))
    assert sum(rewards) == pytest.approx(run.slots["reward"].sum(), rel=1e-12)


def test_reset_and_close_stop_a_des_episode_under_way() -> None:
    """No thread is left behind by an episode abandoned half-way."""
    dense = PAPER.with_name("dense.toml")
    before = threading.active_count()
    env = parallel_env(dense, overrides=_small_dense())
    obs, _ = env.reset(seed=1)
    env.step({a: int(np.flatnonzero(o["action_mask"])[0]) for a, o in obs.items()})
    env.reset(seed=2)
    env.step({a: int(np.flatnonzero(o["action_mask"])[0]) for a, o in obs.items()})
    env.close()
    assert threading.active_count() == before
