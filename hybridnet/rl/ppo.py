"""The IPPO update: GAE, reward scaling and the clipped surrogate (21), in one place.

Every agent of an :class:`~hybridnet.rl.networks.ActorCritic` population learns
only from its own samples: the loss is the sum over agents of each agent's
own mean loss, gradients are clipped per agent, and advantages are normalised
per agent within each minibatch. Summing independent losses gives each
agent's slice exactly the gradient its own loss would, so this is N PPO
learners run in lock step, not one learner with a shared objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hybridnet.rl.distributions import MaskedCategorical
from hybridnet.rl.networks import ActorCritic, clip_grad_norm_per_agent_

CHUNK_SAMPLES = 4096
"""Samples (agents x minibatch) whose loss is differentiated together (see ppo_update)."""


@dataclass(frozen=True)
class PpoSettings:
    """The knobs of one PPO update (documented in the scenario's [train] table)."""

    clip: float
    epochs: int
    batch_size: int
    entropy_coef: float
    value_coef: float
    max_grad_norm: float
    advantage_norm: bool
    imitation_coef: float = 0.0


@dataclass
class Samples:
    """One population's experience, every tensor (A agents, B samples, ...)."""

    obs: torch.Tensor
    masks: torch.Tensor
    """Feasible choices (A, B, num_actions), as used when acting."""
    actions: torch.Tensor
    """The choice made (A, B)."""
    log_probs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    targets: torch.Tensor
    """The teacher's choice (A, B), or -1 where there is none."""

    @staticmethod
    def concat(parts: list[Samples]) -> Samples:
        """Join along the sample dimension."""
        return Samples(*(torch.cat([getattr(p, f) for p in parts], dim=1)
                         for f in Samples.__dataclass_fields__))

    def subset(self, size: int, generator: torch.Generator) -> Samples:
        """At most ``size`` samples drawn without replacement (all of them if fewer)."""
        num = self.obs.shape[1]
        if num <= size:
            return self
        keep = torch.randperm(num, generator=generator)[:size]
        return Samples(*(getattr(self, f)[:, keep] for f in Samples.__dataclass_fields__))

    def take(self, agents: slice, idx: torch.Tensor) -> Samples:
        """The samples ``idx`` of the agents ``agents``."""
        return Samples(*(getattr(self, f)[agents][:, idx] for f in Samples.__dataclass_fields__))

    def to(self, device: torch.device) -> Samples:
        return Samples(*(getattr(self, f).to(device) for f in Samples.__dataclass_fields__))


def gae(rewards: np.ndarray, values: np.ndarray, gamma: float, lam: float,
        last_values: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and returns of episodes (..., T), GAE(gamma, lambda).

    ``last_values`` (...) is the critic's value of the state after the last step. An
    episode ends at a time limit (a number of slots), not in a terminal state: the
    queues and the next slot go on, so the return past the end is bootstrapped from
    it, as CleanRL's ppo.py bootstraps a rollout's end. None: the end is terminal.
    """
    advantages = np.zeros_like(rewards)
    last = np.zeros(rewards.shape[:-1])
    end_value = 0.0 if last_values is None else last_values
    for t in reversed(range(rewards.shape[-1])):
        next_value = values[..., t + 1] if t + 1 < rewards.shape[-1] else end_value
        delta = rewards[..., t] + gamma * next_value - values[..., t]
        last = delta + gamma * lam * last
        advantages[..., t] = last
    return advantages, advantages + values


class RewardScaler:
    """Divide rewards by the running std of the discounted return (no mean subtraction).

    Gymnasium's ``NormalizeReward`` (Engstrom et al., 2020), one running
    statistic per learner: ``learners`` independent agents, each seeing
    ``R`` parallel reward streams (1 per UE; the groups for the group actor).
    """

    def __init__(self, learners: int, gamma: float, epsilon: float = 1e-8) -> None:
        self.gamma = gamma
        self.epsilon = epsilon
        self.mean = np.zeros(learners)
        self.var = np.ones(learners)
        self.count = np.full(learners, 1e-4)

    def scale_episode(self, rewards: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Scale one episode's rewards (learners, R, T), updating the statistics slot by slot.

        Entries where ``valid`` is False (a group with no members in that slot)
        are left out of the statistics.
        """
        out = np.zeros_like(rewards)
        returns = np.zeros(rewards.shape[:2])
        for t in range(rewards.shape[-1]):
            returns = returns * self.gamma + rewards[..., t]
            self._update(returns, valid[..., t])
            out[..., t] = rewards[..., t] / np.sqrt(self.var + self.epsilon)[:, None]
        return out

    def _update(self, batch: np.ndarray, valid: np.ndarray) -> None:
        # Parallel-variance merge (Chan et al.), as gymnasium's RunningMeanStd.
        n = valid.sum(1)
        if not n.any():
            return
        safe = np.maximum(n, 1)
        batch_mean = np.where(valid, batch, 0.0).sum(1) / safe
        batch_var = np.where(valid, (batch - batch_mean[:, None]) ** 2, 0.0).sum(1) / safe
        delta = batch_mean - self.mean
        total = self.count + n
        m2 = self.var * self.count + batch_var * n + delta**2 * self.count * n / total
        self.mean = self.mean + delta * n / total
        self.var = m2 / total
        self.count = total

    def state_dict(self) -> dict[str, object]:
        return {"mean": self.mean.copy(), "var": self.var.copy(), "count": self.count.copy()}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.mean = np.asarray(state["mean"], dtype=float).copy()
        self.var = np.asarray(state["var"], dtype=float).copy()
        self.count = np.asarray(state["count"], dtype=float).copy()


def _imitation_loss(dist: MaskedCategorical, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the teacher's choices, per agent (A,): the imitation term.

    Samples without a teacher's choice (target -1) count for nothing.
    """
    has = targets >= 0
    log_prob = dist.log_prob(targets.clamp(min=0))
    return -(log_prob * has).sum(1) / has.sum(1).clamp(min=1)


def minibatch_loss(logits: torch.Tensor, newvalue: torch.Tensor, mb: Samples,
                   settings: PpoSettings) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Each agent's PPO loss on one minibatch (A,), as CleanRL's ppo.py builds it, and its
    diagnostics (A, ...); ``logits`` and ``newvalue`` are the networks' outputs on ``mb.obs``."""
    dist = MaskedCategorical(logits, mb.masks)
    newlogprob, entropy = dist.log_prob(mb.actions), dist.entropy()
    logratio = newlogprob - mb.log_probs
    ratio = logratio.exp()
    mb_advantages = mb.advantages
    if settings.advantage_norm:
        # Per agent: each learner normalises its own minibatch.
        mb_advantages = (mb_advantages - mb_advantages.mean(1, keepdim=True)) / (
            mb_advantages.std(1, keepdim=True, correction=0) + 1e-8)
    # eq. (21): L = E[min(r A, clip(r, 1 - eps, 1 + eps) A)], maximised.
    surrogate = torch.min(ratio * mb_advantages,
                          ratio.clamp(1 - settings.clip, 1 + settings.clip) * mb_advantages)
    pg_loss = -surrogate.mean(1)
    v_loss = 0.5 * (newvalue - mb.returns).pow(2).mean(1)
    entropy_loss = entropy.mean(1)
    loss = pg_loss - settings.entropy_coef * entropy_loss + settings.value_coef * v_loss
    if settings.imitation_coef > 0:
        loss = loss + settings.imitation_coef * _imitation_loss(dist, mb.targets)
    with torch.no_grad():
        stats = {"policy_loss": pg_loss, "value_loss": v_loss, "entropy": entropy_loss,
                 "approx_kl": (ratio - 1) - logratio,
                 "clip_fraction": ((ratio - 1).abs() > settings.clip).float()}
    return loss, stats


def ppo_update(model: ActorCritic, optimizer: torch.optim.Optimizer, samples: Samples,
               settings: PpoSettings, generator: torch.Generator) -> dict[str, float]:
    """Run ``epochs`` passes of minibatch PPO over ``samples``; return mean diagnostics.

    The loss of each minibatch is built and differentiated for a chunk of agents
    at a time (about ``CHUNK_SAMPLES`` samples), on detached slices of the stacked
    weights whose gradients are then written into the matching slices of the full
    gradient. Agents do not interact, so this is exact; it keeps each step's
    tensors small, which at N = 1,000 is several times faster than one graph
    over all agents.
    """
    named = dict(model.named_parameters())
    for p in named.values():
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    num_agents, num = samples.obs.shape[:2]
    minibatches = max(1, -(-num // settings.batch_size))
    per_chunk = max(1, CHUNK_SAMPLES // -(-num // minibatches))
    chunks = [slice(a, min(a + per_chunk, num_agents)) for a in range(0, num_agents, per_chunk)]
    stats: dict[str, list[float]] = {}
    for _ in range(settings.epochs):
        order = torch.randperm(num, generator=generator).to(samples.obs.device)
        for idx in order.tensor_split(minibatches):
            for agents in chunks:
                mb = samples.take(agents, idx)
                leaves = {k: p[agents].detach().requires_grad_() for k, p in named.items()}
                logits, newvalue = torch.func.functional_call(model, leaves, (mb.obs,))
                loss, mb_stats = minibatch_loss(logits, newvalue, mb, settings)
                # Each agent's own loss; their sum gives every agent its own gradient.
                grads = torch.autograd.grad(loss.sum(), list(leaves.values()))
                for p, g in zip(named.values(), grads, strict=True):
                    p.grad[agents] = g
                for name, value in mb_stats.items():
                    stats.setdefault(name, []).append(value.mean().item() * len(value))
            clip_grad_norm_per_agent_(list(named.values()), settings.max_grad_norm)
            optimizer.step()
    steps = settings.epochs * minibatches
    return {k: float(np.sum(v)) / (steps * num_agents) for k, v in stats.items()}
