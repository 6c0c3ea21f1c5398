"""The shipped generalist where queues form, zero-shot, against every baseline.

On scenarios/dense.toml and variants of it, four that experiments.dense_control
ran before (its specialists' cells) and six that no file in the repository sets
(0.27 s slots; 240 UEs in 8 groups at 0.7-2.2 GHz with 0.32 s slots; 200 UEs in 10
groups on 3 ES units; synchronous arrivals; the weights (0.2, 0.4, 0.4); a
processor-sharing ES), each policy runs ``--slots`` DES slots of
``[sim] seed`` = ``--eval-seed`` (never a training seed):

- ``hid``: what ``--policy hid`` runs, the shipped generalist with the capacities
  priced (hybridnet.rl.generalist.priced), nothing trained for the cell;
- ``fluid``, ``oracle`` (DES and closed form), ``dpp`` at each V of ``--dpp-v``;
- the best ``fixed:X,Y``: for the cells dense_control ran, the best of its
  finalists (results/dense_control/results.csv); for the others every feasible split
  is screened on ``--screen-slots`` slots and the best ``--finalists`` run in full.

Per run it records the reward, QoS, delay, energy, the queueing of the second and
last quarter (``stable`` as in dense_control) and HID's median decide time against
fluid's in the same runs. Per-slot rewards go to des_slots.csv; differences are
paired over the slots and their 95 % intervals taken over batch means of
``BLOCK_SLOTS``-slot blocks (the queues make neighbouring slots correlated).

Writes experiments/results/generalist/des.csv and des_slots.csv; a rerun skips the
(variant, policy) rows it has.

    python -m experiments.generalist_des
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.common import RESULTS
from experiments.dense_control import SCENARIO, VARIANTS, best_fixed, growth
from hybridnet.api import load_scenario, make_policy, policy_rng, simulate
from hybridnet.metrics import run_metrics
from hybridnet.outputs import replace_file
from hybridnet.policies import Policy
from hybridnet.scenario import Scenario
from hybridnet.threads import torch_threads

COMMAND = "python -m experiments.generalist_des"
OUT = RESULTS / "generalist"
HELD_OUT: dict[str, dict[str, Any]] = {
    "0.27 s slots": {"sim.slot_s": 0.27},
    "240 UEs, 0.7-2.2 GHz, 0.32 s": {"network.num_ues": 240, "network.num_groups": 8,
                                     "ue.freq_min_hz": 0.7e9, "ue.freq_max_hz": 2.2e9,
                                     "sim.slot_s": 0.32},
    "200 UEs, 3 ES units": {"network.num_ues": 200, "network.num_groups": 10,
                            "edge.compute_units": 3},
    "synchronous arrivals": {"sim.arrivals": "synchronous"},
    "weights (0.2, 0.4, 0.4)": {"reward.weights": [0.2, 0.4, 0.4]},
    "processor-sharing ES": {"edge.scheduler": "ps"},
}
"""Variants of dense.toml that no scenario or experiment in the repository sets."""
CELLS = {**VARIANTS, **HELD_OUT}
BLOCK_SLOTS = 20
COLUMNS = ("variant", "held_out", "policy", "reward", "qos_per_ue", "delay_per_ue_s",
           "energy_per_ue_j", "queue_q2_s", "queue_q4_s", "queue_growth", "stable",
           "decide_ms", "run_s")


class Timed:
    """A policy whose ``decide`` calls are timed."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.name = policy.name
        self.times_s: list[float] = []

    def decide(self, state: Any) -> Any:
        start = time.perf_counter()
        decision = self.policy.decide(state)
        self.times_s.append(time.perf_counter() - start)
        return decision


def run(scenario: Scenario, spec: str, seed: int, slots: int, engine: str = "des"
        ) -> tuple[dict[str, Any], pd.Series]:
    """One run of ``spec``: what the table reports of it, and its per-slot rewards."""
    start = time.perf_counter()
    policy = Timed(make_policy(spec, scenario, policy_rng(seed)))
    result = simulate(scenario, policy, seed=seed, slots=slots, engine=engine)
    metrics = run_metrics(result)
    row = {**{k: metrics[k] for k in ("reward", "qos_per_ue", "delay_per_ue_s",
                                      "energy_per_ue_j")},
           **growth(result, scenario), "run_s": time.perf_counter() - start,
           "decide_ms": 1e3 * statistics.median(policy.times_s)}
    return row, result.slots["reward"].reset_index(drop=True)


def fixed_candidates(variant: str, scenario: Scenario, seed: int, screen_slots: int,
                     finalists: int) -> list[str]:
    """dense_control's best fixed split of ``variant`` if it ran it, else the finalists of
    a screen of every feasible split."""
    ran = RESULTS / "dense_control" / "results.csv"
    if variant in VARIANTS and ran.exists():
        table = pd.read_csv(ran)
        fixed = table[(table["variant"] == variant) & table["policy"].str.startswith("fixed:")]
        if len(fixed):
            return [str(fixed.sort_values("reward")["policy"].iloc[-1])]
    return best_fixed(scenario, seed, screen_slots, finalists)


class Results:
    """des.csv and des_slots.csv, rewritten whole (atomically) after every run."""

    def __init__(self, out: Path) -> None:
        self.path, self.slots_path = out / "des.csv", out / "des_slots.csv"
        self.rows = pd.read_csv(self.path) if self.path.exists() else pd.DataFrame(
            columns=list(COLUMNS))
        self.slots = (pd.read_csv(self.slots_path) if self.slots_path.exists()
                      else pd.DataFrame(columns=["variant", "policy", "slot", "reward"]))

    def has(self, variant: str, policy: str) -> bool:
        return bool(((self.rows["variant"] == variant) & (self.rows["policy"] == policy)).any())

    def add(self, variant: str, policy: str, row: dict[str, Any], rewards: pd.Series) -> None:
        full = {"variant": variant, "held_out": variant in HELD_OUT, "policy": policy, **row}
        self.rows = pd.concat([self.rows, pd.DataFrame([full])[list(COLUMNS)]],
                              ignore_index=True)
        per_slot = pd.DataFrame({"variant": variant, "policy": policy,
                                 "slot": range(len(rewards)), "reward": rewards})
        self.slots = pd.concat([self.slots, per_slot], ignore_index=True)
        replace_file(self.slots_path,
                     lambda tmp: self.slots.to_csv(tmp, index=False, float_format="%.10g"))
        replace_file(self.path,
                     lambda tmp: self.rows.to_csv(tmp, index=False, float_format="%.10g"))
        print(f"  {policy:14s} reward {row['reward']:+.4f}  queueing {row['queue_q2_s']:.3f} "
              f"-> {row['queue_q4_s']:.3f} s  decide {row['decide_ms']:.2f} ms", flush=True)


def run_variant(results: Results, variant: str, args: argparse.Namespace) -> None:
    scenario = load_scenario(SCENARIO, {**CELLS[variant], "sim.slots": args.slots})
    runs: list[tuple[str, str, Scenario, str]] = [
        ("hid", "hid", scenario, "des"), ("fluid", "fluid", scenario, "des"),
        ("oracle", "oracle", scenario, "des"), ("oracle-closed", "oracle", scenario, "closed")]
    runs += [(f"dpp V={v:g}", "dpp", scenario.with_values({"sim.dpp_v": v}), "des")
             for v in args.dpp_v]
    for label, spec, cell, engine in runs:
        if not results.has(variant, label):
            results.add(variant, label, *run(cell, spec, args.eval_seed, args.slots, engine))
    if not results.rows["policy"].str.startswith("fixed:")[
            results.rows["variant"] == variant].any():
        for spec in fixed_candidates(variant, scenario, args.eval_seed, args.screen_slots,
                                     args.finalists):
            results.add(variant, spec, *run(scenario, spec, args.eval_seed, args.slots))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--eval-seed", type=int, default=2026)
    parser.add_argument("--slots", type=int, default=200)
    parser.add_argument("--dpp-v", nargs="+", type=float, default=[10.0, 100.0, 1000.0])
    parser.add_argument("--screen-slots", type=int, default=20)
    parser.add_argument("--finalists", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    results = Results(args.out)
    with torch_threads(1):
        for variant in args.variants:
            print(f"{variant}:", flush=True)
            run_variant(results, variant, args)


if __name__ == "__main__":
    main()
