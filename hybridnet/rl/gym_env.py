"""The scenario as a single-agent Gymnasium env: one controller deciding every UE's split.

For the single-agent libraries (Stable-Baselines3, sb3-contrib's
MaskablePPO, CleanRL...), which want a ``gymnasium.Env`` rather than
PettingZoo's agents. It plays the :class:`~hybridnet.rl.pettingzoo_env.HybridnetParallelEnv`
underneath, so slots, engines, rewards and seeds are the same:

- Observation: the parallel env's global state (``state()``): every UE's
  normalised observation, UE by UE, in one ``Box`` with finite bounds.
- Action: ``MultiDiscrete([A] * N)``, UE n's entry an action index of the
  parallel env (:class:`~hybridnet.rl.pettingzoo_env.ActionCodec`).
- Reward: the slot's team reward (17a); on the DES, that of the slots that
  completed during the step (the parallel env's, summed over an episode to
  the run's).
- ``action_masks()``: the feasible (x, y) of every UE, concatenated UE by UE,
  as sb3-contrib's ``MaskablePPO`` reads a ``MultiDiscrete`` mask. An
  infeasible action runs that UE's local split, as in the parallel env.
- An episode is ``[sim] slots`` slots; its end is a truncation (a time limit),
  not a termination: the cell would go on.
- ``reset(seed=s)`` draws the world of seed s; ``reset()`` moves on to that
  seed's next episode, so a vectorised env of copies seeded apart sees
  different worlds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from hybridnet.rl.pettingzoo_env import HybridnetParallelEnv, parallel_env
from hybridnet.scenario import Scenario


class HybridnetGymEnv(gym.Env):
    """Every UE's split chosen by one agent each slot (see the module docstring)."""

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, env: HybridnetParallelEnv) -> None:
        self.env = env
        self.render_mode = env.render_mode
        self.agents = list(env.possible_agents)
        self.codec = env.codec
        self.observation_space = env.state_space
        self.action_space = spaces.MultiDiscrete(
            np.full(len(self.agents), self.codec.num_actions, dtype=np.int64))
        self._masks = np.zeros(len(self.agents) * self.codec.num_actions, dtype=bool)

    def _remember_masks(self, observations: dict[str, dict[str, np.ndarray]]) -> None:
        if observations:
            self._masks = np.concatenate([observations[a]["action_mask"]
                                          for a in self.agents]).astype(bool)

    def reset(self, *, seed: int | None = None, options: dict | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        observations, _ = self.env.reset(seed=seed, options=options)
        self._remember_masks(observations)
        return self.env.state(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        chosen = np.asarray(action).reshape(-1)
        observations, rewards, _, truncations, infos = self.env.step(
            {agent: int(chosen[n]) for n, agent in enumerate(self.agents)})
        self._remember_masks(observations)
        first = infos[self.agents[0]]
        info = {"completed_slots": first["completed_slots"],
                "invalid_actions": int(sum(i["invalid_action"] for i in infos.values())),
                "x": np.array([infos[a]["x"] for a in self.agents]),
                "y": np.array([infos[a]["y"] for a in self.agents])}
        reward = float(np.mean(list(rewards.values())))
        return self.env.state(), reward, False, bool(truncations[self.agents[0]]), info

    def action_masks(self) -> np.ndarray:
        """The feasible actions of every UE, concatenated (length N * A), for MaskablePPO."""
        return self._masks.copy()

    def render(self) -> str | None:
        return self.env.render()

    def close(self) -> None:
        self.env.close()


def gym_env(scenario: str | Path | Scenario, overrides: dict[str, Any] | None = None,
            render_mode: str | None = None, engine: str | None = None,
            **kwargs: Any) -> HybridnetGymEnv:
    """A :class:`HybridnetGymEnv` of ``scenario``; arguments as :func:`parallel_env`'s.

    ``gym_env("scenarios/small.toml", sim__slots=5)``. Its reward is the team's
    (the one agent is the whole cell).
    """
    return HybridnetGymEnv(parallel_env(scenario, overrides, render_mode=render_mode,
                                        engine=engine, **kwargs))
