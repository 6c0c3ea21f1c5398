"""The env works with the tools users wire it to: SuperSuit's vector env and Stable-Baselines3.

One PPO policy shared by every UE (SuperSuit turns the N agents into N
vectorised copies of one environment), the observation dict as SB3's
``MultiInputPolicy`` reads it. A few thousand steps must lift the reward well
above a random policy's on fresh episodes. Plain PPO ignores the action mask:
an infeasible action runs the local split, which the env reports in its info.
"""

from __future__ import annotations

import numpy as np
import pytest

import hybridnet

supersuit = pytest.importorskip("supersuit")
sb3 = pytest.importorskip("stable_baselines3")

SCENARIO = "scenarios/small.toml"


def mean_team_reward(choose, episodes: int = 3, seed: int = 100) -> float:
    """The mean slot reward of ``choose(observation) -> action`` on fresh episodes."""
    env = hybridnet.parallel_env(SCENARIO)
    rewards = []
    for episode in range(episodes):
        observations, _ = env.reset(seed=seed + episode)
        while env.agents:
            actions = {agent: choose(observations[agent]) for agent in env.agents}
            observations, reward, _, _, _ = env.step(actions)
            rewards.append(np.mean(list(reward.values())))
    return float(np.mean(rewards))


def test_the_env_declares_its_render_mode():
    env = hybridnet.parallel_env(SCENARIO, render_mode="ansi")
    assert env.render_mode == "ansi"
    env.reset(seed=0)
    env.step({agent: 0 for agent in env.agents})
    assert env.render().startswith("slot 0: reward")
    assert hybridnet.parallel_env(SCENARIO).render_mode is None
    with pytest.raises(hybridnet.errors.HybridnetError, match="render_mode 'human'"):
        hybridnet.parallel_env(SCENARIO, render_mode="human")


def test_stable_baselines3_ppo_learns_through_supersuit(one_torch_thread):
    from stable_baselines3.common.utils import set_random_seed

    env = hybridnet.parallel_env(SCENARIO)
    vec = supersuit.pettingzoo_env_to_vec_env_v1(env)
    vec = supersuit.concat_vec_envs_v1(vec, 1, num_cpus=0, base_class="stable_baselines3")
    assert vec.num_envs == len(env.possible_agents)
    set_random_seed(0)
    model = sb3.PPO("MultiInputPolicy", vec, n_steps=256, batch_size=64, learning_rate=1e-3,
                    ent_coef=0.01, verbose=0)
    model.learn(6000)
    rng = np.random.default_rng(0)
    random = mean_team_reward(lambda obs: int(rng.integers(env.action_space("ue_0").n)))
    trained = mean_team_reward(lambda obs: int(model.predict(obs, deterministic=True)[0]))
    # about 0.14 against 0.09 (seeds 0-3 gave 0.11-0.18: plain PPO ignores the mask)
    assert trained > random + 0.02, (trained, random)
