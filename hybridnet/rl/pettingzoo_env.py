"""The scenario as a PettingZoo ``ParallelEnv``, for other MARL libraries.

One agent per UE (``ue_0`` .. ``ue_{N-1}``); one step is one slot, an episode
is ``[sim] slots`` slots of one world, played on the engine ``hybridnet
train`` learns on (``train.engine``; ``engine=`` overrides it):

- ``closed``: each slot is evaluated by the closed-form model (eq. 1-17) the
  moment it is decided, and the step's reward is that slot's.
- ``des``: the slots are launched into the SimPy cell, whose queues carry
  work from slot to slot (:mod:`hybridnet.sim.stepped`). A step decides one
  slot and runs the cell to the next slot's start; its reward is that of the
  slots whose every request finished meanwhile (often slots decided earlier:
  a slot's delay is known once its last image is done), and the last step
  lets the cell finish every request and reports the rest. An episode's
  rewards sum to the rewards of its slots, as ``hybridnet run`` measures
  them; each info's ``completed_slots`` says which slots a step reported.

- Observation: a dict with ``observation`` (the UE's normalised f^UE, phi,
  channel gain, its group's share of the UEs and mean phi: what a paper-mode
  HID actor sees; where training runs on the DES also its own CPU backlog,
  its last request's waiting, the ES backlog and the downlink's transmissions
  in flight, all 0 on the closed form, and the ES's shadow price:
  ``hybridnet.rl.controller.Features``)
  and ``action_mask`` (1 for each feasible (x, y)).
- Action: ``Discrete((x_max + 1) * (y_max + 1))``, action ``a`` meaning
  ``x = a // (y_max + 1)``, ``y = a % (y_max + 1)``.
- Reward: the slot's reward (17a), the same for every agent (the paper's team
  reward, eq. 20); each agent's info carries its own terms as ``own_reward``
  (on the DES: of its requests that finished in the step).
- An infeasible or missing action is not an error: that UE runs the local
  split (no common steps) and its info says ``invalid_action = True``. What
  is feasible is decided by the same check both engines refuse policies with
  (:func:`hybridnet.model.actions.feasible_splits`).
- ``reset(seed=s)`` draws the world of seed s; later ``reset()`` calls without
  a seed move on to that seed's next episode.
- ``render_mode``: None (the default) or ``"ansi"``, whose ``render()`` returns
  the last slot's decisions and reward as text. PettingZoo's API defines the
  attribute, and wrappers such as SuperSuit's vector envs read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo import ParallelEnv

from hybridnet.errors import HybridnetError
from hybridnet.model.actions import action_mask, feasible_splits, local_split
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.reference import resolve_references, training_engine
from hybridnet.model.slot import SlotState
from hybridnet.rl.controller import Features, as_batch
from hybridnet.scenario import Scenario, read_scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.stepped import SteppedDes

ENGINES = ("closed", "des")


class HybridnetParallelEnv(ParallelEnv):
    """N UEs choosing their step splits slot after slot (see the module docstring)."""

    metadata = {"name": "hybridnet_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, scenario: Scenario, render_mode: str | None = None,
                 engine: str | None = None) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise HybridnetError(f"render_mode {render_mode!r}: allowed are None and "
                                 f"{', '.join(map(repr, self.metadata['render_modes']))}")
        if engine is not None and engine not in ENGINES:
            raise HybridnetError(f"engine {engine!r}: allowed are {', '.join(ENGINES)}")
        self.render_mode = render_mode
        self.scenario = resolve_references(scenario)
        self.engine = engine or training_engine(self.scenario)
        self.params = ModelParams.from_scenario(self.scenario)
        self.features = Features(self.scenario)
        steps = self.scenario.steps
        self.num_y = steps.y_max + 1
        self.local = local_split(steps)
        self.possible_agents = [f"ue_{n}" for n in range(self.scenario.network.num_ues)]
        self.agents: list[str] = []
        num_actions = (steps.x_max + 1) * self.num_y
        self._observation_spaces = {
            agent: spaces.Dict({
                "observation": spaces.Box(-np.inf, np.inf, (self.features.ue_dim,), np.float32),
                "action_mask": spaces.MultiBinary(num_actions),
            }) for agent in self.possible_agents
        }
        self._action_spaces = {agent: spaces.Discrete(num_actions)
                               for agent in self.possible_agents}
        self._seed = self.scenario.sim.seed
        self._episode = -1
        self._slot = 0
        self._conditions: Conditions | None = None
        self._des: SteppedDes | None = None
        self._state: SlotState | None = None
        self._last: str = "no slot played yet"

    def observation_space(self, agent: str) -> spaces.Space:
        return self._observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self._action_spaces[agent]

    def _observe(self) -> dict[str, dict[str, np.ndarray]]:
        assert self._state is not None
        state = as_batch(self._state)
        rows, group_obs = self.features.groups(state, self.features.fluid_plan(state))
        obs = self.features.ue(state, rows, group_obs, None)[:, 0].astype(np.float32)
        mask = action_mask(self.scenario.steps, self._state.allows_common_phase)
        flat = mask.ravel().astype(np.int8)
        return {agent: {"observation": obs[n], "action_mask": flat.copy()}
                for n, agent in enumerate(self.agents)}

    def reset(self, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        if seed is not None:
            self._seed, self._episode = int(seed), 0
        else:
            self._episode += 1
        self._slot = 0
        self.close()
        if self.engine == "des":
            self._des = SteppedDes(self.scenario, self._seed, self._episode)
            self._state = self._des.state
        else:
            self._conditions = Conditions(self.scenario, self._seed, self._episode)
            self._state = self._conditions.slot(0)
        self.agents = list(self.possible_agents)
        return self._observe(), {agent: {} for agent in self.agents}

    def _decode(self, actions: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y) of every UE and whether its action was replaced by the local split."""
        assert self._state is not None
        n = len(self.possible_agents)
        x = np.full(n, -1)                          # missing or malformed: infeasible
        y = np.full(n, -1)
        for i, agent in enumerate(self.possible_agents):
            try:
                x[i], y[i] = divmod(int(actions[agent]), self.num_y)
            except (KeyError, TypeError, ValueError, OverflowError):
                continue
        invalid = ~feasible_splits(self.scenario.steps, x, y, self._state.allows_common_phase)
        x[invalid], y[invalid] = self.local
        return x, y, invalid

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents or self._state is None:
            raise HybridnetError("step() called on a finished episode; call reset() first")
        x, y, invalid = self._decode(actions)
        if self._des is not None:
            completed = self._des.step(x, y)
            reward, own, reported = completed.reward, completed.own_reward, completed.slots
            next_state = self._des.state
        else:
            assert self._conditions is not None
            out = evaluate(self.params, self._state, x, y)
            own = self.params.reward.own(out.qos, out.delay_s, out.own_energy_j)
            reward, reported = float(out.reward), np.array([self._slot])
            last = self._slot + 1 >= self.scenario.sim.slots
            next_state = None if last else self._conditions.slot(self._slot + 1)
        agents = self.agents
        rewards = dict.fromkeys(agents, reward)
        completed_slots = [int(k) for k in reported]
        infos = {agent: {"x": int(x[n]), "y": int(y[n]), "invalid_action": bool(invalid[n]),
                         "own_reward": float(own[n]), "completed_slots": completed_slots}
                 for n, agent in enumerate(agents)}
        self._last = (f"slot {self._slot}: reward {reward:+.4f}; (x, y) per UE "
                      + " ".join(f"({x[n]},{y[n]})" for n in range(len(x)))
                      + (f"; {int(invalid.sum())} invalid" if invalid.any() else ""))
        self._slot += 1
        done = next_state is None
        terminations = dict.fromkeys(agents, False)
        truncations = dict.fromkeys(agents, done)
        if not done:
            self._state = next_state
        observations = self._observe()
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def render(self) -> str | None:
        """The last slot as text under ``render_mode="ansi"``; nothing otherwise."""
        return self._last if self.render_mode == "ansi" else None

    def close(self) -> None:
        """Stop a DES episode still under way; nothing to release otherwise."""
        if self._des is not None:
            self._des.close()
            self._des = None


def parallel_env(scenario: str | Path | Scenario, overrides: dict[str, Any] | None = None,
                 render_mode: str | None = None, engine: str | None = None,
                 **kwargs: Any) -> HybridnetParallelEnv:
    """A :class:`HybridnetParallelEnv` of ``scenario`` (a Scenario or a TOML path).

    Overrides are ``section.key`` (or ``section__key``) keys of a dict given as
    ``overrides``, or keyword arguments ``section__key=value``:
    ``parallel_env("scenarios/paper.toml", network__num_ues=10, sim__slots=5)``.
    """
    values = {key.replace("__", ".", 1): value
              for key, value in {**(overrides or {}), **kwargs}.items()}
    if isinstance(scenario, Scenario):
        resolved = scenario.with_values(values) if values else scenario
    else:
        resolved = read_scenario(scenario, values or None)
    return HybridnetParallelEnv(resolved, render_mode=render_mode, engine=engine)
