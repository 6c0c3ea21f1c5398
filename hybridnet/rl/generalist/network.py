"""The generalist's actors and critics: one small network shared by every UE, and a group
actor over a permutation-invariant pooling of its members.

Per UE the trunk maps its observation to an embedding h_n. The group actor reads
the mean and the maximum of its members' embeddings and the mean of their
preferred x (the UE actor's probabilities with no bound) (DeepSets: any N, any
group size, any order) with the group's own costs, and draws X_m. The UE actor's head is
factored: one logit per x and one per y, instead of one per (x, y) pair. Under its
group's bound a UE takes x among x <= X_m, then y among the y feasible with that x.
Its bound logits add to the pooled network's a value: each member's predicted
gain from a bound X (a head of the UE trunk, regressed on the oracle's best
responses) summed over the group less X common steps' cost, the oracle's own
group sum (oracle.py). The factoring is exact on the closed form: y enters a UE's value linearly (y
(c_UE - c_ES), features.py), so its best y is the largest or the smallest feasible
one whatever x is; and since the x logits do not depend on X_m, one pass of the
trunk answers every bound, which is also what lets the group actor's pooling and
the UE actor share it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from hybridnet.model.actions import action_mask
from hybridnet.rl.distributions import MASKED_LOGIT, MaskedCategorical
from hybridnet.rl.generalist.features import GROUP_DIM, Observation, ue_dim
from hybridnet.scenario import StepsConfig


@dataclass
class Choice:
    """A decided batch: every group row's bound and every UE's (x, y), with the log
    probabilities and the critics' values PPO keeps (None when not asked)."""

    bound: torch.Tensor
    x: torch.Tensor
    y: torch.Tensor
    group_log_prob: torch.Tensor | None
    ue_log_prob: torch.Tensor | None
    """None for greedy choices, which no update learns from."""


@dataclass
class Heads:
    """The networks' outputs for one observation."""

    bound_logits: torch.Tensor
    """(R, X+1)."""
    gain: torch.Tensor
    """Each UE's predicted gain from a bound X over none, over its stake (B, X+1)."""
    x_logits: torch.Tensor
    """(B, X+1)."""
    y_logits: torch.Tensor
    """(B, Y+1)."""
    ue_value: torch.Tensor
    group_value: torch.Tensor


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.Tanh()]
    return nn.Sequential(*layers)


def _masked_argmax(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The most likely choice among ``mask``: MaskedCategorical's mode, unnormalised."""
    return torch.where(mask, logits, MASKED_LOGIT).argmax(-1)


class GeneralistNet(nn.Module):
    """The generalist HID controller's networks for one action space (``steps``)."""

    def __init__(self, steps: StepsConfig, hidden: int = 64) -> None:
        super().__init__()
        self.steps = steps
        self.hidden = hidden
        num_x, num_y = steps.x_max + 1, steps.y_max + 1
        self.ue_trunk = _mlp([ue_dim(steps.x_max), hidden, hidden])
        self.x_head = nn.Linear(hidden, num_x)
        self.y_head = nn.Linear(hidden, num_y)
        self.ue_critic = nn.Linear(hidden, 1)
        self.group_trunk = _mlp([2 * hidden + num_x + GROUP_DIM, hidden, hidden])
        self.bound_head = nn.Linear(hidden, num_x)
        self.gain_head = nn.Linear(hidden, num_x)
        self.log_temperature = nn.Parameter(torch.tensor(math.log(100.0)))
        self.group_critic = nn.Linear(hidden, 1)
        for allow in (True, False):
            mask = torch.from_numpy(action_mask(steps, allow))
            self.register_buffer(f"pairs_{int(allow)}", mask, persistent=False)
            self.register_buffer(f"x_ok_{int(allow)}", mask.any(-1), persistent=False)
        self.register_buffer("x_index", torch.arange(num_x), persistent=False)

    def pairs(self, allows_common: bool) -> torch.Tensor:
        """The feasible (x, y) grid (X+1, Y+1)."""
        return getattr(self, f"pairs_{int(allows_common)}")

    def heads(self, obs: Observation) -> Heads:
        """Every logit and value of ``obs``."""
        h = self.ue_trunk(torch.from_numpy(obs.ue))
        x_logits = self.x_head(h)
        row = torch.from_numpy(obs.row)
        rows = len(obs.group)
        count = torch.bincount(row, minlength=rows).to(h.dtype).unsqueeze(1)

        def mean(values: torch.Tensor) -> torch.Tensor:
            return torch.zeros(rows, values.shape[1]).index_add_(0, row, values) / count

        high = torch.full((rows, self.hidden), -1.0).scatter_reduce_(
            0, row.unsqueeze(1).expand_as(h), h, "amax")
        # the members' own preferred x, unbounded: what a bound X_m would cut off
        wanted = mean(torch.softmax(x_logits, dim=1))
        g = self.group_trunk(torch.cat([mean(h), high, wanted, torch.from_numpy(obs.group)],
                                       dim=1))
        gain = self.gain_head(h)
        gain = gain - gain[:, :1]
        return Heads(bound_logits=self.bound_head(g) + self._group_value(obs, gain),
                     gain=gain, x_logits=x_logits,
                     y_logits=self.y_head(h), ue_value=self.ue_critic(h).squeeze(1),
                     group_value=self.group_critic(g).squeeze(1))

    def _group_value(self, obs: Observation, gain: torch.Tensor) -> torch.Tensor:
        """Each group row's value of each bound (R, X+1), over its members' stakes: the sum
        of their predicted gains less X common steps' cost, as the oracle sums its members'
        best responses (oracle.py), times a learnt temperature."""
        row = torch.from_numpy(obs.row)
        stake = torch.from_numpy(obs.ue_scale).float()
        rows = len(obs.group)
        total = torch.zeros(rows, gain.shape[1]).index_add_(0, row, gain * stake[:, None])
        stakes = torch.zeros(rows).index_add_(0, row, stake)
        cost = torch.from_numpy(obs.group_cost).float()[:, None] * self.x_index
        return self.log_temperature.exp() * (total - cost) / stakes[:, None]

    def answers(self, x_logits: torch.Tensor, y_logits: torch.Tensor,
                x_feasible: torch.Tensor, pairs: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Each UE's most likely answer to every bound X: the best feasible x <= X, then
        the best y feasible with it; (x, y), each (B, X+1). ``pairs``: the feasible grid,
        shared (X+1, Y+1) or per UE (B, X+1, Y+1)."""
        x_answer = self.x_answers(x_logits, x_feasible)
        y_of_x = torch.where(pairs, y_logits[:, None, :], MASKED_LOGIT).argmax(-1)
        return x_answer, y_of_x.gather(1, x_answer)

    @staticmethod
    def x_answers(x_logits: torch.Tensor, x_feasible: torch.Tensor) -> torch.Tensor:
        """Each UE's most likely x under every bound X: the best feasible x <= X (B, X+1)."""
        return torch.cummax(torch.where(x_feasible, x_logits, MASKED_LOGIT), dim=1).indices

    def bound_values(self, obs: Observation, x_answer: torch.Tensor, y_answer: torch.Tensor
                     ) -> torch.Tensor:
        """Each group row's value of every bound X (R, X+1), computed with the model from
        its members' answers (:meth:`answers`): a UE's own value of (x, y) is
        Q(x, phi) - y c_ES - z c_UE(f) [- x c_wait with early hand-off] (features.py,
        eq. 12-17a over the QoS weight), summed over the members, less X common steps'
        cost. This is the oracle's group sum (oracle.py) over the actor's answers
        instead of the best ones: where a group's value is flat in X, a learnt value is
        too coarse to find its top, and the model, which the costs observed already
        come from, is exact."""
        x, y = x_answer.double(), y_answer.double()
        col = torch.from_numpy
        z = col(obs.total_steps)[:, None] - x - y
        own = (col(obs.quality).gather(1, x_answer) - y * col(obs.es_step)[:, None]
               - z * col(obs.ue_step)[:, None] - x * col(obs.own_wait_step)[:, None])
        total = torch.zeros(len(obs.group), own.shape[1], dtype=own.dtype).index_add_(
            0, col(obs.row), own)
        return total - col(obs.group_cost)[:, None] * self.x_index

    def masks(self, obs: Observation) -> tuple[torch.Tensor, torch.Tensor]:
        """The feasible x of every group row (R, X+1) and the (x, y) grid of every UE
        (B, X+1, Y+1)."""
        allows = torch.from_numpy(obs.allows_common)
        grid = torch.where(allows[:, None, None], self.pairs(True), self.pairs(False))
        return grid.any(-1), grid[torch.from_numpy(obs.row)]

    def grids(self, obs: Observation) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The feasible bounds of every group row (R, X+1), the feasible x and the (x, y)
        grid: shared, (X+1,) and (X+1, Y+1), where every row has the same (any single
        slot: looked up, not built per UE, a third of a decision's time less at N = 300),
        else per UE, (B, X+1) and (B, X+1, Y+1)."""
        if obs.allows_common.all() or not obs.allows_common.any():
            allows = bool(obs.allows_common[0])
            x_feasible = getattr(self, f"x_ok_{int(allows)}")
            return x_feasible.expand(len(obs.group), -1), x_feasible, self.pairs(allows)
        x_ok, grid = self.masks(obs)
        return x_ok, grid.any(-1), grid

    def logits(self, obs: Observation) -> tuple[torch.Tensor, torch.Tensor]:
        """The UE actor's x and y logits alone: all a greedy decision needs."""
        h = self.ue_trunk(torch.from_numpy(obs.ue))
        return self.x_head(h), self.y_head(h)

    def decide(self, obs: Observation) -> Choice:
        """The greedy decision: every UE's most likely answer to every bound, and per group
        row the bound the model values most given those answers (:meth:`bound_values`)."""
        x_ok, x_feasible, pairs = self.grids(obs)
        x_answer, y_answer = self.answers(*self.logits(obs), x_feasible, pairs)
        return self.settle(obs, x_ok, x_answer, y_answer)

    def settle(self, obs: Observation, x_ok: torch.Tensor, x_answer: torch.Tensor,
               y_answer: torch.Tensor) -> Choice:
        """Each group row's best bound by :meth:`bound_values` of the answers (B, X+1), and
        each UE's answer to its group's."""
        bound = _masked_argmax(self.bound_values(obs, x_answer, y_answer), x_ok)
        ue_bound = bound[torch.from_numpy(obs.row)].unsqueeze(1)
        return Choice(bound=bound, x=x_answer.gather(1, ue_bound).squeeze(1),
                      y=y_answer.gather(1, ue_bound).squeeze(1), group_log_prob=None,
                      ue_log_prob=None)

    def choose(self, obs: Observation, heads: Heads,
               generator: torch.Generator | None = None) -> Choice:
        """Draw X_m per group row from the group actor, then x <= X_m and y per UE: the
        choices PPO learns from."""
        x_ok, x_feasible, pairs = self.grids(obs)
        bound_dist = MaskedCategorical(heads.bound_logits, x_ok)
        bound = bound_dist.sample(generator)
        ue_bound = bound[torch.from_numpy(obs.row)]
        x_mask = x_feasible & (self.x_index <= ue_bound.unsqueeze(1))
        x_dist = MaskedCategorical(heads.x_logits, x_mask)
        x = x_dist.sample(generator)
        y_mask = pairs[x] if pairs.dim() == 2 else pairs[torch.arange(len(x)), x]
        y_dist = MaskedCategorical(heads.y_logits, y_mask)
        y = y_dist.sample(generator)
        return Choice(bound=bound, x=x, y=y, group_log_prob=bound_dist.log_prob(bound),
                      ue_log_prob=x_dist.log_prob(x) + y_dist.log_prob(y))
