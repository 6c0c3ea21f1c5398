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
  ``x = a // (y_max + 1)``, ``y = a % (y_max + 1)``: ``env.codec``
  (:class:`ActionCodec`) converts both ways.
- Observation bounds: finite, those of the normalisation (:func:`observation_bounds`);
  what falls outside (a deep fade, a backlog of thousands of slots) is clipped
  to them, so every observation lies in its space.
- Global state (``env.state()``, ``env.state_space``), for centralised critics
  (MAPPO, TorchRL's ``return_state=True``): every UE's observation, UE by UE,
  concatenated into one vector.
- Reward, ``reward=`` (:data:`REWARDS`): ``"team"`` (the default) gives every
  agent the slot's reward (17a), the paper's team reward (eq. 20); ``"own"``
  gives each agent its own term of (17a), its QoS, delay and energy weighed as
  the team's are for one UE (on the DES: of its requests that finished in the
  step). Either way each agent's info carries its own term as ``own_reward``.
- An infeasible or missing action is not an error: that UE runs the local
  split (no common steps) and its info says ``invalid_action = True``. What
  is feasible is decided by the same check both engines refuse policies with
  (:func:`hybridnet.model.actions.feasible_splits`); so is ``None``, no
  action. An action outside the action space (not an integer, 1.5, "3", a
  negative or too large index) or an action for an agent that is not playing
  is a bug in the caller, and ``step`` raises
  :class:`~hybridnet.errors.InvalidArgument` (a ValueError) naming it, as
  gymnasium's and PettingZoo's spaces reject what they do not ``contain``.
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

from hybridnet.arguments import MAX_SEED, mapping, optional_integer
from hybridnet.errors import HybridnetError, InvalidArgument
from hybridnet.model.actions import action_mask, feasible_splits, local_split
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.reference import resolve_references, training_engine
from hybridnet.model.slot import SlotState
from hybridnet.rl.controller import PHI_CENTRE, PHI_SPREAD, Features, as_batch
from hybridnet.scenario import Scenario, read_scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.sim.stepped import SteppedDes

ENGINES = ("closed", "des")
REWARDS = ("team", "own")
"""What each agent is rewarded with: the slot's team reward (eq. 20) or its own term of (17a)."""

NORMALISED_PHI = ((-1.0 - PHI_CENTRE) / PHI_SPREAD, (1.0 - PHI_CENTRE) / PHI_SPREAD)
"""phi (eq. 10, a cosine similarity in [-1, 1]) as :class:`Features` normalises it."""
GAIN_BOUND = 5.0
"""The normalised gain spans [-1, 1] between the nearest and the farthest UE without fading;
a fade of more than twice that span in dB (a Rayleigh draw below about 1e-3) is clipped."""
LOG_SLOTS_BOUND = 10.0
"""Backlogs are observed as log1p(slots of work): 10 is a queue of 22,000 slots."""
QUEUE_BOUNDS = ((0.0, LOG_SLOTS_BOUND),) * 5
"""The queue features (:data:`Features.UE_QUEUE_DIM`): own CPU backlog, last waiting and ES
backlog (log1p of slots of work), transmissions in flight per UE (about 1 in a busy cell)
and the ES's price (log1p(price / PRICE_START) / 10, below 1 in every scenario shipped),
each held to the same generous range."""


def observation_bounds(features: Features) -> tuple[np.ndarray, np.ndarray]:
    """Each observation entry's range, as :class:`Features` normalises it (low, high).

    f^UE, its group's share of the UEs: [-1, 1] by construction; phi and its
    group's mean phi: :data:`NORMALISED_PHI`; the gain: +-:data:`GAIN_BOUND`;
    the queues, where observed: :data:`QUEUE_BOUNDS`.
    """
    bounds = [(-1.0, 1.0), NORMALISED_PHI, (-GAIN_BOUND, GAIN_BOUND), (-1.0, 1.0),
              NORMALISED_PHI]
    if features.sees_queues:
        bounds += list(QUEUE_BOUNDS)
    low, high = np.array(bounds, dtype=np.float32).T
    assert low.shape == (features.ue_dim,)
    return low, high


class ActionCodec:
    """An action index and the (x, y) it stands for, both ways, vectorised.

    ``a = x * (y_max + 1) + y``: the flat index of the (x, y) grid, the order of
    :func:`~hybridnet.model.actions.action_mask`'s ``ravel()``.
    """

    def __init__(self, x_max: int, y_max: int) -> None:
        self.x_max, self.y_max = x_max, y_max
        self.num_actions = (x_max + 1) * (y_max + 1)

    def decode(self, action: Any) -> tuple[Any, Any]:
        """(x, y) of an action index (or an array of them)."""
        a = np.asarray(action)
        if np.any((a < 0) | (a >= self.num_actions)):
            raise HybridnetError(f"action {action}: outside 0..{self.num_actions - 1}")
        x, y = np.divmod(a, self.y_max + 1)
        return (int(x), int(y)) if a.ndim == 0 else (x, y)

    def encode(self, x: Any, y: Any) -> Any:
        """The action index of (x, y) (or of arrays of them)."""
        xa, ya = np.asarray(x), np.asarray(y)
        if np.any((xa < 0) | (xa > self.x_max) | (ya < 0) | (ya > self.y_max)):
            raise HybridnetError(f"(x, y) = ({x}, {y}): outside 0..{self.x_max} x "
                                 f"0..{self.y_max}")
        a = xa * (self.y_max + 1) + ya
        return int(a) if a.ndim == 0 else a


class HybridnetParallelEnv(ParallelEnv):
    """N UEs choosing their step splits slot after slot (see the module docstring)."""

    metadata = {"name": "hybridnet_v0", "render_modes": ["ansi"], "is_parallelizable": True}

    def __init__(self, scenario: Scenario, render_mode: str | None = None,
                 engine: str | None = None, reward: str = "team") -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise HybridnetError(f"render_mode {render_mode!r}: allowed are None and "
                                 f"{', '.join(map(repr, self.metadata['render_modes']))}")
        if engine is not None and engine not in ENGINES:
            raise HybridnetError(f"engine {engine!r}: allowed are {', '.join(ENGINES)}")
        if reward not in REWARDS:
            raise HybridnetError(f"reward {reward!r}: allowed are {', '.join(map(repr, REWARDS))}")
        self.reward = reward
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
        self.codec = ActionCodec(steps.x_max, steps.y_max)
        num_actions = self.codec.num_actions
        self._low, self._high = observation_bounds(self.features)
        n_ues = len(self.possible_agents)
        self.state_space = spaces.Box(np.tile(self._low, n_ues), np.tile(self._high, n_ues),
                                      dtype=np.float32)
        self._observation_spaces = {
            agent: spaces.Dict({
                "observation": spaces.Box(self._low, self._high, dtype=np.float32),
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

    def _ue_observations(self) -> np.ndarray:
        """Every UE's observation (N, ue_dim), clipped to :func:`observation_bounds`."""
        assert self._state is not None
        state = as_batch(self._state)
        rows, group_obs = self.features.groups(state, self.features.fluid_plan(state))
        obs = self.features.ue(state, rows, group_obs, None)[:, 0]
        return np.clip(obs, self._low, self._high).astype(np.float32)

    def state(self) -> np.ndarray:
        """The global state: every UE's observation, UE by UE, in one vector (``state_space``).

        After the last step it is the state the episode ended in.
        """
        if self._state is None:
            raise HybridnetError("state() called before reset(); call reset() first")
        return self._ue_observations().ravel()

    def _rewards(self, agents: list[str], team: float, own: np.ndarray) -> dict[str, float]:
        """Each agent's reward under ``self.reward``: the team's, or its own term of (17a)."""
        if self.reward == "own":
            return {agent: float(own[n]) for n, agent in enumerate(agents)}
        return dict.fromkeys(agents, team)

    def _observe(self) -> dict[str, dict[str, np.ndarray]]:
        assert self._state is not None
        obs = self._ue_observations()
        mask = action_mask(self.scenario.steps, self._state.allows_common_phase)
        flat = mask.ravel().astype(np.int8)
        return {agent: {"observation": obs[n], "action_mask": flat.copy()}
                for n, agent in enumerate(self.agents)}

    def reset(self, seed: int | None = None, options: dict | None = None
              ) -> tuple[dict[str, Any], dict[str, Any]]:
        seed = optional_integer("seed", seed, 0, MAX_SEED)
        if options is not None and not isinstance(options, dict):
            raise InvalidArgument(f"options = {options!r}: expected a dict or None")
        if seed is not None:
            self._seed, self._episode = seed, 0
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

    def _check_actions(self, actions: Any) -> None:
        """Refuse what no action space contains: a caller's bug, not a UE's choice."""
        if not isinstance(actions, dict):
            raise InvalidArgument(f"actions must be a dict of agent -> action, not "
                                  f"{type(actions).__name__}")
        unknown = [agent for agent in actions if agent not in self.agents]
        if unknown:
            raise InvalidArgument(f"action for {unknown[0]!r}, which is not an agent of this "
                                  f"episode (agents: ue_0 .. ue_{len(self.agents) - 1})")
        for agent, action in actions.items():
            if action is None:  # no action: like a missing one, the local split
                continue
            space = self._action_spaces[agent]
            if isinstance(action, bool | np.bool_) or not isinstance(action, int | np.integer) \
                    and not (isinstance(action, np.ndarray) and action.shape == ()
                             and action.dtype.kind in "iu"):
                raise InvalidArgument(f"action of {agent} is {action!r} "
                                      f"({type(action).__name__}); expected an integer in "
                                      f"[0, {space.n - 1}]")
            if not 0 <= int(action) < space.n:
                raise InvalidArgument(f"action of {agent} is {int(action)}; expected an integer "
                                      f"in [0, {space.n - 1}]")

    def _decode(self, actions: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y) of every UE and whether its action was replaced by the local split."""
        assert self._state is not None
        self._check_actions(actions)
        n = len(self.possible_agents)
        x = np.full(n, -1)                          # missing: infeasible
        y = np.full(n, -1)
        for i, agent in enumerate(self.possible_agents):
            if actions.get(agent) is not None:
                x[i], y[i] = divmod(int(actions[agent]), self.num_y)
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
        rewards = self._rewards(agents, reward, own)
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
                 reward: str = "team", **kwargs: Any) -> HybridnetParallelEnv:
    """A :class:`HybridnetParallelEnv` of ``scenario`` (a Scenario or a TOML path).

    Overrides are ``section.key`` (or ``section__key``) keys of a dict given as
    ``overrides``, or keyword arguments ``section__key=value``:
    ``parallel_env("scenarios/paper.toml", network__num_ues=10, sim__slots=5)``.
    """
    values = {key.replace("__", ".", 1): value
              for key, value in {**mapping("overrides", overrides), **kwargs}.items()}
    if isinstance(scenario, Scenario):
        resolved = scenario.with_values(values) if values else scenario
    else:
        resolved = read_scenario(scenario, values or None)
    return HybridnetParallelEnv(resolved, render_mode=render_mode, engine=engine, reward=reward)
