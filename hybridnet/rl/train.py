"""Training the HID controller: episodes of slots, rewards, PPO updates, one root seed.

An episode is ``[train] episode_slots`` slots of one world drawn by
:class:`~hybridnet.sim.conditions.Conditions`. With ``[train] engine = "closed"``
(the default where no queues form) the whole episode is decided in one batched call and scored by
the closed-form model: exact, because an action never changes the next
slot's conditions. With ``engine = "des"`` the same actors drive the SimPy
network slot by slot and learn from what the DES measured (queueing included).

Rewards are :mod:`hybridnet.rl.rewards`' streams, the teacher's targets
:mod:`hybridnet.rl.teacher`'s, and on the DES the next episode's slots are solved
ahead by :mod:`hybridnet.rl.prefetch`.

Why two modes: under the team reward, X_m is a max over the ~25 independent
actors of a group. Early exploration pushes it up, and pulling it down needs
every member to move at once, which a shared reward barely rewards. The
default mode takes that coordination away: it chooses X_m once per group,
where its cost is paid, encodes the UE's action as the offset X_m - x_n,
rewards each actor with its own terms, and lets the UE actors answer
uniformly drawn X_m early on (``bound_exploration``) so that the group actor
compares bounds under good responses. Its UE actor is one network shared by
every UE, updated on ``shared_samples`` decisions drawn from each rollout, and
with ``[train] imitation`` > 0 both actors also learn from a teacher on the
training slots: the loss adds the cross-entropy of each UE's exact best
response to the X_m its group drew and of the teacher's X_m
(docs/controller.md says why). The teacher is the closed-form oracle, or on
the DES the fluid policy (:mod:`hybridnet.policies.fluid`), the oracle held
to the capacities, since the oracle's decisions overload the queues there.
How far each mode gets is measured in experiments/README.md ("HID vs the
exact oracle", "HID on heterogeneous cells").

Every random draw derives from ``[train] seed`` and the episode (or update)
index, never from a stream that lives across episodes, so a run resumed from
a checkpoint replays exactly what the uninterrupted run would have done. A
:class:`Trainer`'s whole state is :meth:`Trainer.state_dict`, plain containers
and tensors that :mod:`hybridnet.rl.checkpoint` writes and reads back.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from hybridnet.errors import HybridnetError
from hybridnet.metrics import slot_means
from hybridnet.model.params import ModelParams
from hybridnet.model.reference import resolve_references
from hybridnet.model.slot import SlotState
from hybridnet.policies.fluid import FluidPolicy
from hybridnet.policies.oracle import OraclePolicy, SlotSolution
from hybridnet.rl.controller import Decision, HidController, LevelStep
from hybridnet.rl.ppo import PpoSettings, RewardScaler, Samples, gae, ppo_update
from hybridnet.rl.prefetch import Prefetcher, mean_reward
from hybridnet.rl.rewards import Streams, group_streams, ue_streams
from hybridnet.rl.rollout import EpisodeOutcome, episode_slots, play_closed, play_des
from hybridnet.rl.runtime import deferred_interrupt, derive_seed, resolve_device
from hybridnet.rl.teacher import teacher_solution, teacher_targets
from hybridnet.scenario import Scenario
from hybridnet.threads import torch_threads

__all__ = ["HISTORY_COLUMNS", "TRAINING_KEYS", "Trainer", "deferred_interrupt", "derive_seed",
           "history_row", "resolve_device"]

HISTORY_COLUMNS = ("episode", "reward", "qos", "delay_s", "energy_j", "oracle_reward",
                   "optimality_gap")
"""Columns of ``training.csv``: per-slot means over the episode (reward is eq. 17a as
normalised in [reward]; qos, delay_s, energy_j are the slot totals Q, T, E of eq. 15-16);
``oracle_reward`` is the exact optimum on the same slots and ``optimality_gap`` the
difference."""

TRAINING_KEYS: dict[str, type] = {"episodes_done": int, "updates_done": int,
                                  "buffered_episodes": int, "optimizers": dict, "scalers": dict,
                                  "buffer": dict, "history": list}
"""The entries of ``Trainer.state_dict()["training"]`` and the type each has."""


class Trainer:
    """The training state of one HID controller, advanced one episode at a time."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = resolve_references(scenario)
        tr = self.scenario.train
        self.params = ModelParams.from_scenario(self.scenario)
        self.oracle = OraclePolicy.from_scenario(self.scenario)
        # On the DES, the next episode's fluid plans and oracle reward, solved ahead.
        self._prefetch: Prefetcher | None = None
        if tr.engine == "des":
            self._prefetch = Prefetcher(FluidPolicy.from_scenario(self.scenario), self.params,
                                        self._episode_slots)
        self.device = resolve_device(tr.device)
        init = torch.Generator().manual_seed(derive_seed(tr.seed, "init"))
        # Orthogonal init runs a QR decomposition whose last bits depend on the
        # thread count: build under the same setting as training, so the same
        # seed gives the same weights whatever the caller's torch threads are.
        with torch_threads(tr.threads):
            self.controller = HidController(self.scenario, init).to(self.device)
        self.gamma = self.scenario.train.gamma
        self.settings = PpoSettings(
            clip=tr.clip, epochs=tr.epochs, batch_size=tr.batch_size,
            entropy_coef=tr.entropy_coef, value_coef=tr.value_coef,
            max_grad_norm=tr.max_grad_norm, advantage_norm=tr.advantage_norm,
            imitation_coef=tr.imitation if tr.mode == "default" else 0.0,
        )
        self.optimizers = {"ue": torch.optim.Adam(self.controller.ue.parameters(),
                                                  lr=tr.learning_rate, fused=True)}
        self.scalers = {"ue": RewardScaler(self.controller.ue.num_agents, self.gamma)}
        if self.controller.group is not None:
            self.optimizers["group"] = torch.optim.Adam(self.controller.group.parameters(),
                                                        lr=tr.group_learning_rate, fused=True)
            self.scalers["group"] = RewardScaler(1, self.gamma)
        self.buffer: dict[str, list[Samples]] = {level: [] for level in self.optimizers}
        self.buffered_episodes = 0
        self.episodes_done = 0
        self.updates_done = 0
        self.history: list[dict[str, float]] = []
        self.last_update: dict[str, dict[str, float]] = {}

    @property
    def episode_scenario(self) -> Scenario:
        """The scenario an episode plays: ``train.episode_slots`` slots long."""
        sim = dataclasses.replace(self.scenario.sim, slots=int(self.scenario.train.episode_slots))
        return self.scenario.replace(sim=sim)

    # ------------------------------------------------------------------ state

    def state_dict(self) -> dict[str, Any]:
        """What resuming needs besides the scenario: ``{"weights": ..., "training": ...}``.

        Plain containers and tensors (the weights copied to the CPU), so a file of
        them reads back with ``torch.load(weights_only=True)``. A checkpoint stores
        them as its two entries of those names (:mod:`hybridnet.rl.checkpoint`), in
        the layout every checkpoint so far has, so old ones still resume. It is a
        snapshot: training on (Adam updates its moments in place) leaves it as it was.
        """
        weights = {k: v.detach().cpu().clone() for k, v in self.controller.state_dict().items()}
        training = {
            "episodes_done": self.episodes_done,
            "updates_done": self.updates_done,
            "buffered_episodes": self.buffered_episodes,
            "optimizers": {k: copy.deepcopy(opt.state_dict())
                           for k, opt in self.optimizers.items()},
            "scalers": {k: {n: torch.as_tensor(v) for n, v in s.state_dict().items()}
                        for k, s in self.scalers.items()},
            "buffer": {level: [vars(part) for part in parts]
                       for level, parts in self.buffer.items()},
            "history": [dict(row) for row in self.history],
        }
        return {"weights": weights, "training": training}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state``, a :meth:`state_dict` of a trainer of the same scenario.

        The entries are trusted: :func:`hybridnet.rl.checkpoint.load_checkpoint`
        checks a file's against :data:`TRAINING_KEYS` and the controller first.
        The trainer keeps copies, so two trainers loaded from one state train apart.
        """
        self.controller.load_state_dict(state["weights"])
        t = state["training"]
        self.episodes_done = int(t["episodes_done"])
        self.updates_done = int(t["updates_done"])
        self.buffered_episodes = int(t["buffered_episodes"])
        for level, optimizer in t["optimizers"].items():
            self.optimizers[level].load_state_dict(copy.deepcopy(optimizer))
        for level, scaler in t["scalers"].items():
            self.scalers[level].load_state_dict({k: v.numpy() for k, v in scaler.items()})
        self.buffer = {level: [_samples_of(part) for part in parts]
                       for level, parts in t["buffer"].items()}
        self.history = [dict(row) for row in t["history"]]

    # ------------------------------------------------------------------ learning

    def _samples(self, level: str, step: LevelStep, streams: Streams,
                 targets: np.ndarray | None) -> Samples:
        """Scale the rewards, run GAE along the slots, keep the samples' entries.

        ``targets``: the teacher's choices in the order of ``step``'s samples (None: no
        teacher).
        """
        if targets is None:
            targets = np.full(step.log_probs.shape, -1)
        rewards, pick = streams.rewards, streams.pick
        if self.scenario.train.reward_scaling:
            rewards = self.scalers[level].scale_episode(rewards, streams.valid)
        adv, ret = gae(rewards, streams.values, self.gamma, self.scenario.train.gae_lambda,
                       streams.last_values)
        return Samples(obs=step.obs.cpu(), masks=step.masks.cpu(), actions=step.actions.cpu(),
                       log_probs=step.log_probs.cpu(),
                       advantages=torch.as_tensor(adv[:, pick[0], pick[1]], dtype=torch.float32),
                       returns=torch.as_tensor(ret[:, pick[0], pick[1]], dtype=torch.float32),
                       targets=torch.as_tensor(targets, dtype=torch.long).reshape(
                           step.log_probs.shape))

    def _collect(self, decision: Decision, out: EpisodeOutcome, teacher: SlotSolution) -> None:
        """Turn one episode into PPO samples for each population of actors.

        The episode ends at a time limit; with gamma > 0 the return past it is
        bootstrapped from the critics' values of the state after the last slot.
        """
        final = None
        if out.next_state is not None:
            final = self.controller.act(out.next_state, greedy=True, values=True)
        ue_targets, group_targets = None, None
        if self.settings.imitation_coef > 0:
            ue_targets, group_targets = teacher_targets(decision, teacher,
                                                        self.controller.num_y)
        reward = self.params.reward
        self.buffer["ue"].append(self._samples(
            "ue", decision.ue, ue_streams(self.controller.mode, reward, decision, out, final),
            ue_targets))
        if decision.group is not None:
            self.buffer["group"].append(self._samples(
                "group", decision.group, group_streams(reward, decision, out, final),
                group_targets))

    def _update(self) -> None:
        generator = torch.Generator().manual_seed(
            derive_seed(self.scenario.train.seed, "shuffle", self.updates_done))
        for level, parts in self.buffer.items():
            if not parts:
                continue
            model = self.controller.ue if level == "ue" else self.controller.group
            assert model is not None
            samples = Samples.concat(parts)
            settings = self.settings
            if level == "ue" and self.controller.mode == "default":
                # The shared actor sees N x S decisions per episode, far more than one
                # update needs: a fixed random share keeps its cost flat in N.
                budget = self.scenario.train.shared_samples
                samples = samples.subset(budget, generator)
                settings = dataclasses.replace(settings, batch_size=budget)
            samples = samples.to(self.device)
            self.last_update[level] = ppo_update(model, self.optimizers[level], samples,
                                                 settings, generator)
        self.buffer = {level: [] for level in self.optimizers}
        self.buffered_episodes = 0
        self.updates_done += 1

    # ------------------------------------------------------------------ the loop

    def run_episode(self) -> dict[str, float]:
        """Play, learn from and log one episode; update once ``episodes_per_update`` are in.

        Updates fall on fixed episode counts whatever the run's length, so extending a
        finished run continues exactly as the longer run would have.

        Playing changes no state; learning and logging run with Ctrl-C deferred,
        so an interrupted trainer is always between two episodes and can be saved.
        """
        tr = self.scenario.train
        e = self.episodes_done
        seed = derive_seed(tr.seed, "slots", e)
        generator = torch.Generator().manual_seed(derive_seed(tr.seed, "actions", e))
        draws = np.random.default_rng(derive_seed(tr.seed, "explore", e))
        explore = None
        share = tr.bound_exploration * max(0.0, 1.0 - e / tr.episodes)
        if self.controller.mode == "default" and draws.random() < share:
            explore = draws
        ahead = None if self._prefetch is None else self._prefetch.take(e, tr.episodes)
        if tr.engine == "des":
            decision, out = play_des(self.controller, self.episode_scenario, seed, generator,
                                     explore, None if ahead is None else ahead[0],
                                     next_state=self.gamma > 0)
        else:
            decision, out = play_closed(self.controller, self.params, self.episode_scenario,
                                        seed, generator, explore, next_state=self.gamma > 0)
        if ahead is None:
            optimum = self.oracle.solve(out.states)
            oracle = mean_reward(self.params, out.states, optimum)
        else:
            _, optimum, oracle = ahead
        row = history_row(e, out, oracle)
        with deferred_interrupt():
            self._collect(decision, out, teacher_solution(decision, optimum))
            self.buffered_episodes += 1
            if self.buffered_episodes >= tr.episodes_per_update:
                self._update()
            self.history.append(row)
            self.episodes_done += 1
        return row

    def _episode_slots(self, episode: int) -> SlotState:
        """The slots training episode ``episode`` plays on the DES."""
        return episode_slots(self.episode_scenario,
                             derive_seed(self.scenario.train.seed, "slots", episode))

    def train(self, episodes: int | None = None,
              on_episode: Callable[[dict[str, float]], None] | None = None,
              on_checkpoint: Callable[[Trainer], None] | None = None) -> pd.DataFrame:
        """Train until ``episodes`` (default ``[train] episodes``) are done; return the history.

        ``on_checkpoint`` is called every ``[train] checkpoint_every`` episodes and at
        the end, when the state is consistent (between episodes).
        """
        total = self.scenario.train.episodes if episodes is None else episodes
        if total < self.episodes_done:
            raise HybridnetError(
                f"the checkpoint has {self.episodes_done} episodes already; asked for {total}")
        every = self.scenario.train.checkpoint_every
        with torch_threads(self.scenario.train.threads):
            while self.episodes_done < total:
                row = self.run_episode()
                if on_episode is not None:
                    on_episode(row)
                if on_checkpoint is not None and (self.episodes_done % every == 0
                                                  or self.episodes_done == total):
                    on_checkpoint(self)
        return self.history_frame()

    def history_frame(self) -> pd.DataFrame:
        """The per-episode log as ``training.csv`` holds it."""
        return pd.DataFrame(self.history, columns=list(HISTORY_COLUMNS)).astype(
            {"episode": "int64"})


def history_row(episode: int, out: EpisodeOutcome, oracle: float) -> dict[str, float]:
    """The row of ``training.csv`` (:data:`HISTORY_COLUMNS`) an episode logs."""
    means = slot_means(out.qos.sum(1), out.delay_s.sum(1),
                       out.own_energy_j.sum(1) + out.common_energy_j.sum(1), out.reward)
    return {"episode": episode, **means, "oracle_reward": oracle,
            "optimality_gap": oracle - means["reward"]}


def _samples_of(part: Mapping[str, torch.Tensor]) -> Samples:
    """A buffered rollout as a checkpoint stores it; checkpoints written before the actors
    lost their multi-head layout hold the actions as (A, B, 1)."""
    actions = part["actions"]
    return Samples(**{**part, "actions": actions.reshape(actions.shape[:2])})
