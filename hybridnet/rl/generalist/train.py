"""Training the generalist: the oracle's cross-entropy first, then PPO with the teacher's
term kept, on fresh random cells every step.

    python -m hybridnet.rl.generalist.train hybridnet/data/hid_generalist.pt

reproduces the shipped controller (same seed, same settings: the same weights on
the same torch build and thread count). Every random draw derives from the seed
and the step index, so the run is repeatable.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import queues_form
from hybridnet.rl.generalist.cells import cell_slots, draw_cell, label
from hybridnet.rl.generalist.checkpoint import GeneralistCheckpoint, save_generalist
from hybridnet.rl.generalist.distribution import DISTRIBUTION, CellDistribution
from hybridnet.rl.generalist.losses import (
    Batch,
    imitation_loss,
    ppo_loss,
    rewards,
)
from hybridnet.rl.generalist.network import GeneralistNet
from hybridnet.rl.runtime import derive_seed
from hybridnet.scenario import Scenario
from hybridnet.threads import torch_threads


@dataclass(frozen=True)
class GeneralistSettings:
    """How the generalist is trained (recorded in its checkpoint)."""

    seed: int = 0
    imitation_steps: int = 4000
    """Steps of the teacher's cross-entropy alone."""
    ppo_steps: int = 300
    """Steps of PPO after them (the teacher's term kept at ``ppo_imitation``)."""
    cells_per_step: int = 8
    slots_per_cell: int = 2
    learning_rate: float = 2e-3
    ppo_learning_rate: float = 2e-4
    ppo_epochs: int = 4
    ppo_imitation: float = 0.5
    hidden: int = 64
    gain_weight: float = 1.0
    """Weight of the gains' squared error beside the cross-entropies (a larger one was tried
    and did no better on experiments/generalist.py's cells)."""
    threads: int = 1


class GeneralistTrainer:
    """The generalist's networks, optimiser and step counter."""

    def __init__(self, settings: GeneralistSettings, dist: CellDistribution = DISTRIBUTION,
                 start: GeneralistCheckpoint | None = None, cell: Scenario | None = None
                 ) -> None:
        """``start``: continue from these weights; ``cell``: train on this one scenario's
        slots (fine-tuning a specialist from the generalist) instead of random cells."""
        self.settings = settings
        self.dist = dist
        self.cell = cell
        torch.manual_seed(derive_seed(settings.seed, "init"))
        self.net = GeneralistNet(dist.steps, settings.hidden)
        if start is not None:
            self.net.load_state_dict(start.weights)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=settings.learning_rate)
        self.steps_done = 0
        self.history: list[dict[str, float]] = []

    def _batch(self) -> Batch:
        """Fresh cells: random ones of the distribution, or slots of the one cell being
        fine-tuned on."""
        rng = np.random.default_rng(derive_seed(self.settings.seed, "cells", self.steps_done))
        slots = self.settings.slots_per_cell
        if self.cell is not None:
            return Batch.of([label(self.cell, cell_slots(self.cell, int(rng.integers(2**31)),
                                                         slots))
                             for _ in range(self.settings.cells_per_step)])
        return Batch.of([draw_cell(rng, slots, self.dist)
                         for _ in range(self.settings.cells_per_step)])

    def _lr(self, base: float, done: int, total: int) -> float:
        """Cosine decay to a tenth of ``base``."""
        return base * (0.55 + 0.45 * np.cos(np.pi * min(done / max(total, 1), 1.0)))

    def imitation_step(self) -> dict[str, float]:
        s = self.settings
        batch = self._batch()
        obs = batch.obs
        for group in self.optimizer.param_groups:
            group["lr"] = self._lr(s.learning_rate, self.steps_done, s.imitation_steps)
        loss, stats = imitation_loss(self.net, obs, self.net.heads(obs), batch,
                                     s.gain_weight)
        self.optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.optimizer.step()
        return {"loss": float(loss.detach()), **stats}

    def ppo_step(self) -> dict[str, float]:
        """One PPO update on a fresh batch: sampled actions, rewards from the value grid."""
        s = self.settings
        batch = self._batch()
        obs = batch.obs
        generator = torch.Generator().manual_seed(
            derive_seed(s.seed, "actions", self.steps_done))
        with torch.no_grad():
            heads = self.net.heads(obs)
            old = self.net.choose(obs, heads, generator=generator)
        ue_ret, group_ret = rewards(batch, old)
        ue_adv = _normalise(ue_ret - heads.ue_value)
        group_adv = _normalise(group_ret - heads.group_value)
        for group in self.optimizer.param_groups:
            group["lr"] = s.ppo_learning_rate
        for _ in range(s.ppo_epochs):
            heads = self.net.heads(obs)
            teacher, _ = imitation_loss(self.net, obs, heads, batch, s.gain_weight)
            loss = (ppo_loss(self.net, obs, heads, old, ue_adv, group_adv, ue_ret, group_ret)
                    + s.ppo_imitation * teacher)
            self.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            self.optimizer.step()
        return {"loss": float(loss.detach()), "reward": float(ue_ret.mean())}

    def train(self, on_step: Callable[[dict[str, float]], None] | None = None) -> None:
        s = self.settings
        total = s.imitation_steps + s.ppo_steps
        with torch_threads(s.threads):
            while self.steps_done < total:
                phase = "imitation" if self.steps_done < s.imitation_steps else "ppo"
                stats = self.imitation_step() if phase == "imitation" else self.ppo_step()
                row = {"step": self.steps_done, "phase": phase, **stats}
                self.history.append(row)
                self.steps_done += 1
                if on_step is not None:
                    on_step(row)


def check_tunable(scenario: Scenario) -> None:
    """Refuse a scenario the generalist cannot be fine-tuned on, in one line."""
    if queues_form(scenario):
        raise HybridnetError(f"{scenario.source}: queues form here (edge.scheduler, "
                             "channel.downlink); the generalist is taught by the closed-form "
                             "oracle, which cannot see them: train a specialist instead")


def fine_tune(scenario: Scenario, start: GeneralistCheckpoint, steps: int = 300,
              seed: int = 0) -> GeneralistCheckpoint:
    """The generalist ``start`` trained further on ``scenario``'s own slots: ``steps`` of the
    teacher's loss then a tenth as many of PPO, at a tenth of the learning rate."""
    base = GeneralistSettings(**{k: v for k, v in start.settings.items()
                                 if k in GeneralistSettings.__dataclass_fields__})
    check_tunable(scenario)
    settings = replace(base, seed=seed, imitation_steps=steps, ppo_steps=steps // 10,
                       learning_rate=base.learning_rate / 10)
    trainer = GeneralistTrainer(settings, start.cells, start=start, cell=scenario)
    began = time.perf_counter()
    trainer.train()
    return GeneralistCheckpoint(
        weights=trainer.net.state_dict(), hidden=start.hidden, distribution=start.distribution,
        settings={**asdict(settings), "fine_tuned_on": scenario.source},
        training_s=start.training_s + time.perf_counter() - began, history=trainer.history)


def _normalise(adv: torch.Tensor) -> torch.Tensor:
    return (adv - adv.mean()) / (adv.std() + 1e-8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="where to write the checkpoint (.pt)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--imitation-steps", type=int, default=GeneralistSettings.imitation_steps)
    parser.add_argument("--ppo-steps", type=int, default=GeneralistSettings.ppo_steps)
    args = parser.parse_args(argv)
    settings = GeneralistSettings(seed=args.seed, imitation_steps=args.imitation_steps,
                                  ppo_steps=args.ppo_steps)
    trainer = GeneralistTrainer(settings)
    started = time.perf_counter()

    def report(row: dict[str, float]) -> None:
        if row["step"] % 100 == 0:
            shown = " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in row.items())
            print(f"[{time.perf_counter() - started:7.1f} s] {shown}", file=sys.stderr,
                  flush=True)

    trainer.train(report)
    elapsed = time.perf_counter() - started
    save_generalist(args.output, GeneralistCheckpoint(
        weights=trainer.net.state_dict(), hidden=settings.hidden,
        distribution=trainer.dist.to_record(), settings=asdict(settings),
        training_s=elapsed, history=trainer.history))
    print(f"wrote {args.output} after {elapsed:.0f} s of training", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
