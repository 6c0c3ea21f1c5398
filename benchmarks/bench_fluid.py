"""The fluid policy's plans for a training episode: slot by slot vs solved ahead in a batch.

    .venv/bin/python benchmarks/bench_fluid.py                       # dense.toml
    .venv/bin/python benchmarks/bench_fluid.py --scenario scenarios/dense.toml --repeats 5

HID trained on the DES observes the fluid policy's solution of every slot (its
ES price, each group's planned X) and imitates it. Both contenders produce the
same arrays for one episode of the scenario's training (``train.episode_slots``
slots, conditions of one seed), in the same process:

- per slot: ``FluidPolicy.solve_priced`` on each slot as the controller meets
  it in the DES (a batch of one, after its conditions are drawn);
- planned ahead: ``FluidPolicy.plan_ahead`` on the episode's stacked slots,
  then the same per-slot calls, answered from what it solved.

Then a whole training episode on the DES (``Trainer.run_episode``): with the
plans solved when it starts, and with them solved on a second thread while the
previous episode plays (what training does; it pays on 2 cores or more).
Wall-clock, best of ``--repeats``; the load average is printed because other
processes on a small machine distort every timing.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bench_rl import best_of  # benchmarks/ is the script's directory: on sys.path

from hybridnet.policies.fluid import FluidPolicy
from hybridnet.rl.controller import as_batch, stack_slots
from hybridnet.rl.train import Trainer
from hybridnet.scenario import read_scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.threads import torch_threads

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "dense.toml")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    trainer = Trainer(read_scenario(args.scenario))
    scenario = trainer.episode_scenario
    slots = list(Conditions(scenario, 0).slots())

    def fluid() -> FluidPolicy:
        return FluidPolicy.from_scenario(scenario)

    def per_slot() -> None:
        policy = fluid()
        for state in slots:
            policy.solve_priced(as_batch(state))

    def prepared() -> None:
        policy = fluid()
        planned = policy.plan_ahead(stack_slots(slots))
        for state in slots:
            policy.solve_priced(as_batch(state), planned=planned)

    with torch_threads(1):
        slow = best_of(args.repeats, per_slot)
        fast = best_of(args.repeats, prepared)
        print(f"{len(slots)} slots x {scenario.network.num_ues} UEs: per slot {slow:.3f} s, "
              f"planned ahead {fast:.3f} s ({slow / fast:.2f}x)")
        ahead = best_of(args.repeats, trainer.run_episode)
        inline = Trainer(read_scenario(args.scenario))
        inline._prefetch = None
        alone = best_of(args.repeats, inline.run_episode)
    print(f"a training episode on the {trainer.scenario.train.engine}: {alone:.3f} s with the "
          f"plans solved as it starts, {ahead:.3f} s with them solved on a second thread "
          f"while the previous one plays ({alone / ahead:.2f}x)")

if __name__ == "__main__":
    main()
