"""Batched per-agent networks vs a Python loop over N modules, and the cost of training.

    .venv/bin/python benchmarks/bench_rl.py                 # N = 50, 200, 1,000 + training
    .venv/bin/python benchmarks/bench_rl.py --sizes 50 --no-train

Both contenders do the same math for N independent actor-critic pairs with
Table I's hidden layers [128, 128, 128] and the paper-mode action head (one
masked categorical over the 14 x 17 (x, y) pairs), in the same process:

- batched: :class:`hybridnet.rl.networks.ActorCritic` (stacked weights, one
  ``baddbmm`` per layer for all agents), one Adam over the stacked tensors,
  per-agent gradient clipping (:func:`hybridnet.rl.ppo.ppo_update`);
- loop: an ``nn.ModuleList`` of N actors and N critics (``nn.Sequential``),
  N Adams, ``clip_grad_norm_`` per agent, agents visited one by one.

Acting: agent-steps per second of deciding one slot (observation -> masked
categorical draw for every agent), as the controller does every slot.
Update: seconds per PPO minibatch step of all N agents (batch 128 samples per
agent: forward, clipped surrogate, value loss, entropy, backward, clipping,
Adam). Wall-clock, best of ``--repeats``; the machine's load average is
printed because other processes on a small machine distort every timing.

Training: wall time of the default ``hybridnet train scenarios/paper.toml``
(500 episodes of 20 slots, N = 50) with torch limited to ``--threads`` threads
(2 by default: "on 2 cores").
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from hybridnet.rl.distributions import MaskedCategorical
from hybridnet.rl.networks import ActorCritic
from hybridnet.rl.ppo import PpoSettings, Samples, ppo_update

ROOT = Path(__file__).resolve().parent.parent
OBS_DIM = 5
ACTIONS = 14 * 17
HIDDEN = (128, 128, 128)
BATCH = 128
SETTINGS = PpoSettings(clip=0.2, epochs=1, batch_size=BATCH, entropy_coef=0.01, value_coef=0.5,
                       max_grad_norm=0.5, advantage_norm=True)


def best_of(repeats: int, run: Callable[[], None]) -> float:
    """Shortest wall time of ``repeats`` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


class LoopAgents:
    """The same N actor-critics as separate modules and optimisers, visited in a loop."""

    def __init__(self, batched: ActorCritic) -> None:
        n = batched.num_agents
        self.actors = nn.ModuleList(batched.actor.agent_module(i) for i in range(n))
        self.critics = nn.ModuleList(batched.critic.agent_module(i) for i in range(n))
        self.optimizers = [torch.optim.Adam([*a.parameters(), *c.parameters()], lr=5e-4,
                                            fused=True)
                           for a, c in zip(self.actors, self.critics, strict=True)]

    @torch.no_grad()
    def act(self, obs: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        return [MaskedCategorical(actor(obs[i]), mask[i]).sample()
                for i, actor in enumerate(self.actors)]

    def update(self, s: Samples) -> None:
        for i, (actor, critic, opt) in enumerate(zip(self.actors, self.critics, self.optimizers,
                                                     strict=True)):
            dist = MaskedCategorical(actor(s.obs[i]), s.masks[i])
            ratio = (dist.log_prob(s.actions[i]) - s.log_probs[i]).exp()
            adv = s.advantages[i]
            adv = (adv - adv.mean()) / (adv.std(correction=0) + 1e-8)
            surrogate = torch.min(ratio * adv, ratio.clamp(0.8, 1.2) * adv)
            value_loss = 0.5 * (critic(s.obs[i]).squeeze(-1) - s.returns[i]).pow(2).mean()
            loss = -surrogate.mean() - 0.01 * dist.entropy().mean() + 0.5 * value_loss
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_([*actor.parameters(), *critic.parameters()], 0.5)
            opt.step()


def samples(n: int) -> Samples:
    g = torch.Generator().manual_seed(0)
    return Samples(obs=torch.randn(n, BATCH, OBS_DIM, generator=g),
                   masks=torch.ones(n, BATCH, ACTIONS, dtype=torch.bool),
                   actions=torch.randint(ACTIONS, (n, BATCH), generator=g),
                   log_probs=torch.full((n, BATCH), -5.47),
                   advantages=torch.randn(n, BATCH, generator=g),
                   returns=torch.randn(n, BATCH, generator=g),
                   targets=torch.full((n, BATCH), -1))


def bench_size(n: int, repeats: int) -> None:
    batched = ActorCritic(n, OBS_DIM, ACTIONS, HIDDEN, torch.Generator().manual_seed(0))
    loop = LoopAgents(batched)
    optimizer = torch.optim.Adam(batched.parameters(), lr=5e-4, fused=True)
    obs = torch.randn(n, 1, OBS_DIM)
    mask = torch.ones(n, 1, ACTIONS, dtype=torch.bool)
    steps = 20

    @torch.no_grad()
    def act_batched() -> None:
        for _ in range(steps):
            MaskedCategorical(batched.actor(obs), mask).sample()

    def act_loop() -> None:
        for _ in range(steps):
            loop.act(obs, mask)

    data = samples(n)
    shuffle = torch.Generator().manual_seed(0)
    act_b = n * steps / best_of(repeats, act_batched)
    act_l = n * steps / best_of(repeats, act_loop)
    upd_b = best_of(repeats, lambda: ppo_update(batched, optimizer, data, SETTINGS, shuffle))
    upd_l = best_of(repeats, lambda: loop.update(data))
    print(f"{n:>6} | {act_b:>12,.0f} {act_l:>12,.0f} {act_b / act_l:>6.1f}x | "
          f"{upd_b:>9.4f} {upd_l:>9.4f} {upd_l / upd_b:>6.1f}x", flush=True)


def bench_training(scenario: Path) -> None:
    from hybridnet.api import load_scenario
    from hybridnet.rl.train import Trainer

    resolved = load_scenario(scenario)
    start = time.perf_counter()
    trainer = Trainer(resolved)
    history = trainer.train()
    elapsed = time.perf_counter() - start
    tail = history.iloc[-50:]
    print(f"\ndefault training of {scenario.name} ({resolved.train.mode} mode, "
          f"{resolved.train.episodes} episodes x {resolved.sim.slots} slots, "
          f"N = {resolved.network.num_ues}): {elapsed:.1f} s wall; last 50 episodes reward "
          f"{tail['reward'].mean():+.4f} vs oracle {tail['oracle_reward'].mean():+.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--no-train", action="store_true", help="skip the training wall time")
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "paper.toml")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, load average "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'N':>6} | {'act batched':>12} {'act loop':>12} {'ratio':>7} | "
          f"{'upd batch':>9} {'upd loop':>9} {'ratio':>7}")
    print(f"{'':>6} | {'agent-steps/s':>12} {'agent-steps/s':>12} {'':>7} | "
          f"{'s/update':>9} {'s/update':>9}")
    for n in args.sizes:
        bench_size(n, args.repeats)
    if not args.no_train:
        bench_training(args.scenario)


if __name__ == "__main__":
    main()
