"""The env as MARL and RL libraries use it: global state, bounds, the action codec, the reward
option, the single-agent Gymnasium env, seeded Stable-Baselines3, MaskablePPO, TorchRL."""

from __future__ import annotations

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import parallel_api_test

import hybridnet
from hybridnet.errors import HybridnetError
from hybridnet.model.actions import feasible_splits

SMALL = "scenarios/small.toml"
DENSE_SMALL = {"network__num_ues": 12, "network__num_groups": 3, "sim__slots": 4}


def _play(env, seed: int = 0, choose=None):
    """Play one episode with ``choose(agent, obs) -> action`` (default: the first feasible)."""
    observations, _ = env.reset(seed=seed)
    steps = []
    while env.agents:
        actions = {a: (choose(a, observations[a]) if choose else
                       int(np.flatnonzero(observations[a]["action_mask"])[-1]))
                   for a in env.agents}
        observations, rewards, _, _, infos = env.step(actions)
        steps.append((rewards, infos))
    return steps


def test_the_global_state_is_every_observation_in_its_space() -> None:
    env = hybridnet.parallel_env(SMALL)
    with pytest.raises(HybridnetError, match="before reset"):
        env.state()
    observations, _ = env.reset(seed=0)
    state = env.state()
    assert env.state_space.contains(state)
    assert np.array_equal(state, np.concatenate([observations[a]["observation"]
                                                 for a in env.possible_agents]))
    _play(env)
    assert env.state_space.contains(env.state())  # the state the episode ended in


@pytest.mark.parametrize("scenario, overrides", [(SMALL, {}), ("scenarios/dense.toml",
                                                               DENSE_SMALL)])
def test_observations_have_finite_bounds_and_stay_in_them(scenario: str, overrides: dict) -> None:
    env = hybridnet.parallel_env(scenario, **overrides)
    space = env.observation_space("ue_0")["observation"]
    assert np.isfinite(space.low).all() and np.isfinite(space.high).all()
    rng = np.random.default_rng(0)
    observations, _ = env.reset(seed=0)
    while env.agents:
        assert all(space.contains(observations[a]["observation"]) for a in env.agents)
        observations, *_ = env.step({a: int(rng.integers(space.shape[0] + 200))
                                     for a in env.agents})


def test_the_action_codec_is_the_env_s_own_reading_of_an_action() -> None:
    env = hybridnet.parallel_env(SMALL)
    codec = env.codec
    actions = np.arange(codec.num_actions)
    x, y = codec.decode(actions)
    assert np.array_equal(codec.encode(x, y), actions)
    assert codec.decode(codec.encode(5, 3)) == (5, 3)
    with pytest.raises(HybridnetError, match="outside"):
        codec.encode(codec.x_max + 1, 0)
    env.reset(seed=0)
    _, _, _, _, infos = env.step({a: codec.encode(4, 2) for a in env.agents})
    assert (infos["ue_0"]["x"], infos["ue_0"]["y"]) == (4, 2)


@pytest.mark.parametrize("scenario, overrides", [(SMALL, {}), ("scenarios/dense.toml",
                                                               DENSE_SMALL)])
def test_the_own_reward_is_each_ue_s_term_of_17a(scenario: str, overrides: dict) -> None:
    team = _play(hybridnet.parallel_env(scenario, **overrides))
    own = _play(hybridnet.parallel_env(scenario, reward="own", **overrides))
    for (team_rewards, team_infos), (own_rewards, own_infos) in zip(team, own, strict=True):
        assert len(set(team_rewards.values())) == 1
        assert own_rewards == {a: i["own_reward"] for a, i in own_infos.items()}
        assert team_infos == own_infos  # the same slots played, only the reward differs
    per_ue = {a: sum(rewards[a] for rewards, _ in own) for a in own[0][0]}
    assert len({round(r, 12) for r in per_ue.values()}) > 1  # each UE its own
    with pytest.raises(HybridnetError, match="reward 'mine'"):
        hybridnet.parallel_env(SMALL, reward="mine")


def test_parallel_api_test_with_own_rewards() -> None:
    parallel_api_test(hybridnet.parallel_env(SMALL, reward="own"), num_cycles=10)


# --------------------------------------------------------------------------- single agent


@pytest.mark.parametrize("scenario, overrides", [(SMALL, {}), ("scenarios/dense.toml",
                                                               DENSE_SMALL)])
def test_the_gym_env_passes_gymnasium_s_checker(scenario: str, overrides: dict) -> None:
    env = hybridnet.gym_env(scenario, **overrides)
    check_env(env, skip_render_check=True)


def test_the_gym_env_plays_the_slots_of_the_parallel_env() -> None:
    parallel = _play(hybridnet.parallel_env(SMALL))
    env = hybridnet.gym_env(SMALL)
    obs, _ = env.reset(seed=0)
    total, truncated = 0.0, False
    while not truncated:
        masks = env.action_masks().reshape(len(env.agents), -1)
        action = np.array([np.flatnonzero(m)[-1] for m in masks])
        obs, reward, terminated, truncated, info = env.step(action)
        assert not terminated and env.observation_space.contains(obs)
        total += reward
    assert total == pytest.approx(sum(r["ue_0"] for r, _ in parallel))


def _parameters(model) -> np.ndarray:
    return np.concatenate([p.detach().cpu().numpy().ravel() for p in model.policy.parameters()])


def test_stable_baselines3_trains_seeded(one_torch_thread) -> None:
    sb3 = pytest.importorskip("stable_baselines3")
    models = [sb3.PPO("MlpPolicy", hybridnet.gym_env(SMALL), n_steps=32, batch_size=16,
                      n_epochs=2, seed=0).learn(64) for _ in range(2)]
    assert np.array_equal(_parameters(models[0]), _parameters(models[1]))


def test_maskable_ppo_only_ever_picks_feasible_splits(one_torch_thread) -> None:
    contrib = pytest.importorskip("sb3_contrib")
    tight = {"steps__z_min": 20}  # x + y <= 8: most of the (x, y) grid is infeasible
    model = contrib.MaskablePPO("MlpPolicy", hybridnet.gym_env(SMALL, **tight), n_steps=32,
                                batch_size=16, n_epochs=2, seed=0).learn(64)
    env = hybridnet.gym_env(SMALL, **tight)
    steps = env.env.scenario.steps
    assert env.reset(seed=0) and env.action_masks().mean() < 0.5
    for seed in range(3):
        obs, _ = env.reset(seed=seed)
        for _ in range(3):
            action, _ = model.predict(obs, action_masks=env.action_masks(), deterministic=False)
            x, y = env.codec.decode(action)
            assert feasible_splits(steps, x, y).all()
            obs, _, _, truncated, info = env.step(action)
            assert info["invalid_actions"] == 0


def test_torchrl_reads_the_global_state() -> None:
    pytest.importorskip("torchrl")
    from torchrl.envs.libs.pettingzoo import PettingZooWrapper

    with pytest.warns(UserWarning, match="PettingZoo in TorchRL is tested"):
        env = PettingZooWrapper(hybridnet.parallel_env(SMALL), return_state=True,
                                use_mask=True, categorical_actions=True)
    rollout = env.rollout(3)
    assert tuple(rollout["next", "state"].shape) == (3, 6 * 5)
