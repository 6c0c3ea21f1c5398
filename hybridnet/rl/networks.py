"""N independent MLPs stored as stacked weights and evaluated in one batched call.

IPPO gives every UE its own actor and critic. Looping over N ``nn.Module``s
costs N small matmuls and N Python round trips per layer; stacking agent i's
weights at index i of one ``(N, in, out)`` tensor turns each layer into one
``torch.baddbmm`` for all agents. Nothing is shared: agent i's outputs depend
on slice i of every tensor only, so gradients, Adam moments and the per-agent
gradient clipping below are exactly those of N separate networks and optimisers.
"""

from __future__ import annotations

import math

import torch
from torch import nn

HIDDEN_GAIN = math.sqrt(2.0)
"""Orthogonal-init gain of hidden layers (tanh MLPs, as in CleanRL's PPO)."""
ACTOR_GAIN = 0.01
"""Gain of an actor's output layer: near-uniform initial policies."""
CRITIC_GAIN = 1.0
"""Gain of a critic's output layer."""


class StackedMLP(nn.Module):
    """``num_agents`` tanh MLPs of identical shape; input (A, B, in) -> output (A, B, out)."""

    def __init__(self, num_agents: int, in_dim: int, hidden: tuple[int, ...], out_dim: int,
                 out_gain: float, generator: torch.Generator | None = None) -> None:
        super().__init__()
        sizes = [in_dim, *hidden, out_dim]
        self.num_agents = num_agents
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            gain = out_gain if layer == len(sizes) - 2 else HIDDEN_GAIN
            weight = torch.empty(num_agents, fan_in, fan_out)
            for agent in range(num_agents):
                # Orthogonal init of each agent's (out, in) matrix, as nn.Linear stores it.
                block = torch.empty(fan_out, fan_in)
                nn.init.orthogonal_(block, gain=gain, generator=generator)
                weight[agent] = block.T
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(torch.zeros(num_agents, 1, fan_out)))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        h = inputs
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(bias, h, weight)
            if layer < last:
                h = torch.tanh(h)
        return h

    def agent_module(self, agent: int) -> nn.Sequential:
        """Agent ``agent``'s network as an ordinary ``nn.Sequential`` (a copy), for checks."""
        layers: list[nn.Module] = []
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            linear = nn.Linear(weight.shape[1], weight.shape[2])
            with torch.no_grad():
                linear.weight.copy_(weight[agent].T)
                linear.bias.copy_(bias[agent, 0])
            layers.append(linear)
            if layer < last:
                layers.append(nn.Tanh())
        return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """A population of independent actor-critic pairs, one per agent.

    The actor emits the logits of one categorical over ``num_actions`` choices (all
    (x, y) pairs in paper mode; (offset, y) pairs for the default controller's UEs;
    X for its groups); the critic emits one value.
    """

    def __init__(self, num_agents: int, obs_dim: int, num_actions: int,
                 hidden: tuple[int, ...], generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.actor = StackedMLP(num_agents, obs_dim, hidden, num_actions, ACTOR_GAIN, generator)
        self.critic = StackedMLP(num_agents, obs_dim, hidden, 1, CRITIC_GAIN, generator)

    @property
    def num_agents(self) -> int:
        return self.actor.num_agents

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        """State values (A, B)."""
        return self.critic(obs).squeeze(-1)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits (A, B, num_actions) and values (A, B)."""
        return self.actor(obs), self.value(obs)


@torch.no_grad()
def clip_grad_norm_per_agent_(params: list[nn.Parameter], max_norm: float) -> torch.Tensor:
    """Clip each agent's gradient (its slice 0..A of every tensor) to ``max_norm``.

    The same arithmetic as ``torch.nn.utils.clip_grad_norm_`` applied to each
    agent's own parameters, so one Adam over the stacked tensors behaves as N
    separate optimisers each with its own clipping. Returns the norms (A,).
    """
    grads = [p.grad for p in params if p.grad is not None]
    norms = torch.stack([torch.linalg.vector_norm(g.flatten(1), dim=1) for g in grads])
    norms = torch.linalg.vector_norm(norms, dim=0)
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads:
        g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return norms
