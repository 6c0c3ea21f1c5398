"""The generalist's two losses: the teacher's and PPO's clipped surrogate.

Imitation: the cross-entropy of each group row's X_m against the oracle's, of
every UE's x under every bound X against its best response x_upto[X], and of
its y under every x against y_of_x[x], and the squared error of every UE's
predicted gain from each bound; all from one pass of the networks, since the x
and y logits do not depend on the bound (network.py).

PPO: slots are independent on the closed form (an action never changes the next
slot), so a return is the reward itself and the advantage the reward less the
critic's value. A UE is rewarded with its own terms of (17a) for what it chose
(the oracle's value grid holds them for every (x, y)); a group with its members'
rewards less the wait and energy of its realised common steps: what its X_m
bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hybridnet.rl.distributions import MaskedCategorical
from hybridnet.rl.generalist.cells import LabelledCell
from hybridnet.rl.generalist.features import concat
from hybridnet.rl.generalist.network import Choice, GeneralistNet, Heads


@dataclass
class Batch:
    """Several labelled cells as one batch of tensors."""

    cells: list[LabelledCell]
    bound: torch.Tensor
    x_upto: torch.Tensor
    y_of_x: torch.Tensor
    gain: torch.Tensor
    """The oracle's gains over each UE's stake (B, X+1)."""
    ue_weight: torch.Tensor
    row_weight: torch.Tensor
    """Each UE's and each group row's weight in the teacher's loss: every cell weighs the
    same, however many UEs and groups it has (else a cell of 2,000 UEs in 64 groups
    would drown one whose single group holds them all)."""

    @classmethod
    def of(cls, cells: list[LabelledCell]) -> Batch:
        def weights(sizes: list[int]) -> torch.Tensor:
            return torch.from_numpy(np.concatenate(
                [np.full(n, 1.0 / (n * len(sizes)), dtype=np.float32) for n in sizes]))

        return cls(cells=cells,
                   bound=torch.from_numpy(np.concatenate([c.bound for c in cells])),
                   x_upto=torch.from_numpy(np.concatenate([c.x_upto for c in cells])),
                   y_of_x=torch.from_numpy(np.concatenate([c.y_of_x for c in cells])),
                   gain=torch.from_numpy(np.concatenate(
                       [c.gain / c.obs.ue_scale[:, None] for c in cells])).float(),
                   ue_weight=weights([len(c.x_upto) for c in cells]),
                   row_weight=weights([len(c.bound) for c in cells]))

    @property
    def obs(self):  # noqa: ANN201 - an Observation, built once per access
        return concat([c.obs for c in self.cells])


def _weighted(values: torch.Tensor, valid: torch.Tensor, weight: torch.Tensor
              ) -> torch.Tensor:
    """Per sample the mean of ``values`` over its ``valid`` entries (B, K), then the sum
    over samples by ``weight`` (B,)."""
    per_sample = (values * valid).sum(-1) / valid.sum(-1).clamp(min=1)
    return (per_sample * weight).sum()


def imitation_loss(net: GeneralistNet, obs, heads: Heads, batch: Batch,  # noqa: ANN001
                   gain_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy against the oracle, and how often the greedy choices match it."""
    x_ok, grid = net.masks(obs)
    bound_dist = MaskedCategorical(heads.bound_logits, x_ok)
    group_ce = -(bound_dist.log_prob(batch.bound) * batch.row_weight).sum()
    xs = net.x_index
    under = grid.any(-1)[:, None, :] & (xs[None, None, :] <= xs[None, :, None])  # (B, X', x)
    x_dist = MaskedCategorical(heads.x_logits[:, None, :].expand_as(under), under)
    x_valid = under.any(-1)
    x_ce = -_weighted(x_dist.log_prob(batch.x_upto), x_valid, batch.ue_weight)
    y_dist = MaskedCategorical(heads.y_logits[:, None, :].expand_as(grid), grid)
    y_valid = grid.any(-1)
    y_ce = -_weighted(y_dist.log_prob(batch.y_of_x), y_valid, batch.ue_weight)
    with torch.no_grad():
        stats = {"group_match": float(((bound_dist.mode() == batch.bound).float()
                                       * batch.row_weight).sum()),
                 "x_match": float(_weighted((x_dist.mode() == batch.x_upto).float(),
                                            x_valid, batch.ue_weight)),
                 "y_match": float(_weighted((y_dist.mode() == batch.y_of_x).float(),
                                            y_valid, batch.ue_weight))}
    gain_se = (((heads.gain - batch.gain) ** 2).mean(-1) * batch.ue_weight).sum()
    stats["gain_error"] = float(gain_se.detach().sqrt())
    return group_ce + x_ce + y_ce + gain_weight * gain_se, stats


def rewards(batch: Batch, choice: Choice) -> tuple[torch.Tensor, torch.Tensor]:
    """Each UE's own reward and each group row's per member, over the cell's
    :attr:`~LabelledCell.scale`."""
    ue_parts, group_parts = [], []
    x, y = choice.x.numpy(), choice.y.numpy()
    start = 0
    for cell in batch.cells:
        n_rows = cell.x_upto.shape[0]
        xs, ys = x[start:start + n_rows], y[start:start + n_rows]
        start += n_rows
        grid = cell.values.ue.reshape(n_rows, *cell.values.ue.shape[-2:])
        own = grid[np.arange(n_rows), xs, ys]
        row = cell.obs.row
        realised = np.zeros(len(cell.obs.key), dtype=np.int64)
        np.maximum.at(realised, row, xs)
        common = cell.values.group_energy[realised]
        if cell.values.group_wait is not None:
            wait = cell.values.group_wait.reshape(-1, cell.values.group_wait.shape[-1])
            common = common + wait[cell.obs.key, realised]
        group = np.bincount(row, own, minlength=len(realised)) - common
        ue_parts.append(own / cell.scale)
        group_parts.append(group / cell.scale / np.bincount(row, minlength=len(realised)))
    return (torch.from_numpy(np.concatenate(ue_parts)).float(),
            torch.from_numpy(np.concatenate(group_parts)).float())


def ppo_loss(net: GeneralistNet, obs, heads: Heads, old: Choice,  # noqa: ANN001
             ue_adv: torch.Tensor, group_adv: torch.Tensor, ue_ret: torch.Tensor,
             group_ret: torch.Tensor, clip: float = 0.2) -> torch.Tensor:
    """PPO's clipped surrogate for both actors and the critics' squared error."""
    assert old.ue_log_prob is not None and old.group_log_prob is not None, "sampled choices"
    x_ok, grid = net.masks(obs)
    bound_lp = MaskedCategorical(heads.bound_logits, x_ok).log_prob(old.bound)
    ue_bound = old.bound[torch.from_numpy(obs.row)]
    x_mask = grid.any(-1) & (net.x_index <= ue_bound.unsqueeze(1))
    y_mask = grid[torch.arange(len(old.x)), old.x]
    ue_lp = (MaskedCategorical(heads.x_logits, x_mask).log_prob(old.x)
             + MaskedCategorical(heads.y_logits, y_mask).log_prob(old.y))

    def surrogate(log_prob: torch.Tensor, old_lp: torch.Tensor, adv: torch.Tensor
                  ) -> torch.Tensor:
        ratio = (log_prob - old_lp).exp()
        return -torch.min(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv).mean()

    value = ((heads.ue_value - ue_ret) ** 2).mean() + ((heads.group_value - group_ret) ** 2).mean()
    return (surrogate(ue_lp, old.ue_log_prob, ue_adv)
            + surrogate(bound_lp, old.group_log_prob, group_adv) + 0.5 * value)
