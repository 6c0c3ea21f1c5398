"""How long one slot's decision takes: HID against the exact oracle, fluid and dpp.

    .venv/bin/python benchmarks/bench_decide.py                      # N = 50, 300, 5,000, 20,000
    .venv/bin/python benchmarks/bench_decide.py --sizes 300 --des-sizes 300 --rounds 3

The median wall time of one ``decide`` call (what the ES controller asks every
slot), each policy built by ``make_policy`` for the same cell, in the same
process, on the same slots, the policies taking turns slot by slot so that a
change in the machine's load hits them alike. Printed in ms and as ratios to
the oracle's median.

- closed form: scenarios/paper.toml at N UEs in max(2, N/50) groups (N = 300:
  6 groups), HID in the default mode and, up to ``--paper-max`` UEs, in paper
  mode (one network per UE: at N = 20,000 its weights alone would be 10 GB);
- DES: scenarios/dense.toml at N UEs in max(2, N/25) groups (N = 300: its own
  12). Slots are the DES's conditions with its queues empty, as at the start
  of a run.

``hid`` is what ``make_policy("hid", ...)`` builds: the shipped generalist
(hybridnet.rl.generalist: one small shared UE network with a factored head, a
pooled group actor); on the DES, where queues form, with the capacities priced
(priced.py: one decision in most slots, more where the ES's price
must rise; experiments/results/generalist/des.csv has its median over whole
runs, queues included). ``specialist`` is the controller
``hybridnet train`` trains for one cell (Table I's hidden layers [128, 128,
128]), with its initial, untrained weights: the time of a decision does not
depend on what the weights are, so nothing is trained; on the DES its actors
see the queues and observe the fluid policy's plan. ``specialist (act)`` is the same
controller through :meth:`HidController.act` (training's path) on torch's
default thread count and with autograd's bookkeeping: what ``decide``'s one
thread and inference mode save.

The load average is printed: other processes on a small shared machine
distort every timing, so compare ratios within one run only.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import torch

from hybridnet.api import load_scenario, make_policy, policy_rng
from hybridnet.model.reference import resolve_references
from hybridnet.model.slot import Queues, SlotState
from hybridnet.rl.controller import HidController
from hybridnet.rl.networks import StackedMLP
from hybridnet.rl.policy import HidPolicy, controller_kind
from hybridnet.scenario import Scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.threads import torch_threads

ROOT = Path(__file__).resolve().parent.parent
BASELINES = ("oracle", "fluid", "dpp")


def cell(path: Path, num_ues: int, per_group: int, mode: str) -> Scenario:
    groups = max(2, num_ues // per_group)
    return resolve_references(load_scenario(path).with_values(
        {"network.num_ues": num_ues, "network.num_groups": groups, "train.mode": mode}))


def slots_of(scenario: Scenario, count: int) -> list[SlotState]:
    """The cell's first ``count`` slots, each with the queues the DES reports when empty."""
    n = scenario.network.num_ues
    return [dataclasses.replace(state, queues=Queues.idle((), n))
            for state in list(Conditions(scenario, 0).slots())[:count]]


def contenders(scenario: Scenario, paper: Scenario | None, generalist: bool
               ) -> dict[str, Callable[[SlotState], object]]:
    with torch_threads(1):                  # as a loaded checkpoint is built (load_hid_policy)
        controller = HidController(scenario, torch.Generator().manual_seed(0)).eval()
        paper_controller = (None if paper is None else
                            HidController(paper, torch.Generator().manual_seed(0)).eval())
    named: dict[str, Callable[[SlotState], object]] = {
        name: make_policy(name, scenario, policy_rng(0)).decide for name in BASELINES}
    if generalist:
        named["hid"] = make_policy("hid", scenario, policy_rng(0)).decide
    named["specialist"] = HidPolicy(controller).decide
    named["specialist (act)"] = lambda state: controller.act(state, greedy=True)
    if paper_controller is not None:
        named["hid paper"] = HidPolicy(paper_controller).decide
    return named


def medians(named: dict[str, Callable[[SlotState], object]], slots: list[SlotState],
            rounds: int) -> dict[str, float]:
    """Median seconds per call; every contender decides each slot in turn."""
    for decide in named.values():
        decide(slots[0])                                    # warm-up
    times: dict[str, list[float]] = {name: [] for name in named}
    for _ in range(rounds):
        for state in slots:
            for name, decide in named.items():
                start = time.perf_counter()
                decide(state)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def report(title: str, results: dict[int, dict[str, float]]) -> None:
    names = list(next(iter(results.values())))
    print(f"\n{title}: median ms per decide (ratio to the oracle)")
    print("| N | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for n, row in results.items():
        cells = [f"{row[k] * 1e3:.2f} ({row[k] / row['oracle']:.2f})" if k in row else "-"
                 for k in names]
        print(f"| {n:,} | " + " | ".join(cells) + " |")


def run(path: Path, sizes: list[int], per_group: int, paper_max: int, slots: int,
        rounds: int) -> dict[int, dict[str, float]]:
    results = {}
    for n in sizes:
        scenario = cell(path, n, per_group, "default")
        paper = cell(path, n, per_group, "paper") if n <= paper_max else None
        generalist = controller_kind(scenario) == "generalist"
        results[n] = medians(contenders(scenario, paper, generalist), slots_of(scenario, slots),
                             rounds)
        print(f"  {path.name} N = {n:,} done ({os.getloadavg()[0]:.2f} load)", flush=True)
    return results


def forward_costs(sizes: list[int], rounds: int) -> None:
    """The UE actor's forward pass and greedy choice alone, per slot: today's network and a
    smaller one with a factored head (x offset and y as two categoricals: 14 + 17 logits
    instead of 14 x 17), both shared by every UE, with random weights: what an
    architecture change would buy, measured rather than guessed."""
    print("\nUE actor alone (forward + masked log-softmax + argmax), median ms per slot")
    print("| N | [128, 128, 128] -> 238 (today) | [64, 64] -> 14 + 17 (factored) |")
    print("|---|---|---|")
    for n in sizes:
        row = []
        for hidden, heads in (((128, 128, 128), (238,)), ((64, 64), (14, 17))):
            actor = StackedMLP(1, 6, hidden, sum(heads), 0.01)
            obs = torch.randn(1, n, 6)

            def choose(_: object, actor: StackedMLP = actor, obs: torch.Tensor = obs,
                       heads: tuple[int, ...] = heads) -> None:
                with torch.inference_mode(), torch_threads(1):
                    for logits in actor(obs).split(heads, dim=-1):
                        torch.log_softmax(logits, dim=-1).argmax(-1)

            row.append(medians({"f": choose}, [None] * 5, rounds)["f"])  # type: ignore
        print(f"| {n:,} | " + " | ".join(f"{t * 1e3:.3f}" for t in row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 300, 5000, 20000])
    parser.add_argument("--des-sizes", type=int, nargs="+", default=[50, 300, 5000])
    parser.add_argument("--paper-max", type=int, default=300,
                        help="largest N at which paper mode (one network per UE) is timed")
    parser.add_argument("--slots", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__} ({torch.get_num_threads()} threads by default)")
    closed = run(ROOT / "scenarios" / "paper.toml", args.sizes, 50, args.paper_max,
                 args.slots, args.rounds)
    report("closed form (paper.toml, N/50 groups)", closed)
    if args.des_sizes:
        des = run(ROOT / "scenarios" / "dense.toml", args.des_sizes, 25, 0, args.slots,
                  args.rounds)
        report("DES (dense.toml, N/25 groups)", des)
    forward_costs(args.sizes, args.rounds)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
