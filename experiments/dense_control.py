"""Queue-aware control of the busy cell: HID trained on the DES against every baseline.

On ``scenarios/dense.toml`` and variants of it set by keys (fewer UEs, shorter
slots, fewer ES units), each policy runs ``--slots`` DES slots of fresh
conditions (``[sim] seed`` = ``--eval-seed``, never a training seed):

- ``hid`` trained by the default command (``train.engine`` auto: the DES, with
  the queues observed and the fluid policy as teacher) with ``train.seed`` =
  each of ``--train-seeds``, acting greedily;
- ``oracle`` on the DES and on the closed form (``oracle-closed``: the reward
  the paper's model promises, against which the contention loss is measured);
- ``dpp`` (drift-plus-penalty) at each V of ``--dpp-v``;
- ``fluid``, the oracle held to every UE's and the ES's capacity (HID's teacher);
- the best ``fixed:X,Y``: every feasible (X, Y) screened on the first
  ``--screen-slots`` slots in the DES, the best ``--finalists`` then run in full;
- ``local`` (everything on the UE).

Per run it records the reward, QoS, delay, waiting and energy per request,
and whether the queues grow. A request's queueing is its delay less the
service it got: the common steps it waited for (eq. 1) and its phase I,
downlink and phase II times, so it counts the waits for an ES unit (common
phase and phase I) and for its CPU; ``t_wait_s`` leaves the common phase's
wait out. ``queue_growth`` is the mean queueing of the requests of the last
quarter of the slots over that of the second quarter; a run is ``stable``
when it is at most 1.2 and the last quarter's mean queueing is under a slot.

Writes experiments/results/dense_control/results.csv, one row per variant,
policy and training seed; a rerun skips the rows it has (delete a row to
redo it). HID controllers are cached (HYBRIDNET_CACHE) per training seed.

    python -m experiments.dense_control
    python -m experiments.dense_control --variants dense --train-seeds 0
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.common import RESULTS, ROOT
from hybridnet.api import load_scenario, make_policy, policy_rng, simulate
from hybridnet.metrics import run_metrics
from hybridnet.model.actions import action_mask
from hybridnet.model.costs import common_delay_s
from hybridnet.model.params import ModelParams
from hybridnet.outputs import replace_file
from hybridnet.rl.policy import train_cached
from hybridnet.scenario import Scenario
from hybridnet.sim.trace import RunResult
from hybridnet.threads import torch_threads

COMMAND = "python -m experiments.dense_control"
AFTER_RL_LAYER_COMMAND = (f"{COMMAND} --variants dense '150 UEs' "
                          "--out experiments/results/dense_control/after_rl_layer.csv")
"""The two stable cells rerun after the RL-layer rework (issue 20), beside results.csv."""
SCENARIO = ROOT / "scenarios" / "dense.toml"
OUT = RESULTS / "dense_control"
VARIANTS: dict[str, dict[str, Any]] = {
    "dense": {},
    "150 UEs": {"network.num_ues": 150, "network.num_groups": 6},
    "0.25 s slots": {"sim.slot_s": 0.25},
    "2 ES units": {"edge.compute_units": 2},
}
"""dense.toml and the variants of it: the keys each sets."""
COLUMNS = ("variant", "policy", "engine", "train_seed", "reward", "qos_per_ue",
           "delay_per_ue_s", "t_wait_s", "energy_per_ue_j", "queue_q2_s", "queue_q4_s",
           "queue_growth", "stable", "train_s", "run_s")
GROWTH_LIMIT = 1.2
"""A run whose last quarter waits more than this times its second quarter is not stable."""


def queueing_s(result: RunResult, scenario: Scenario) -> pd.Series:
    """Each request's delay less its service: the time it spent in a queue."""
    ues = result.ues
    waited = ues["x"]
    if not scenario.sim.early_handoff:            # eq. (13): every member waits for x_m^max
        groups = result.groups.set_index(["slot", "group"])["common_steps"]
        waited = pd.Series(groups.reindex(pd.MultiIndex.from_arrays(
            [ues["slot"], ues["group"]])).to_numpy(), index=ues.index)
    params = ModelParams.from_scenario(scenario).physics
    service = (common_delay_s(params, waited.to_numpy())                           # eq. (1)
               + ues["t_es_s"] + ues["t_tx_s"] + ues["t_ue_s"])
    return (ues["delay_s"] - service).clip(lower=0.0)


def growth(result: RunResult, scenario: Scenario) -> dict[str, Any]:
    """Mean queueing of the second and last quarter of the slots, their ratio, stability."""
    per_slot = queueing_s(result, scenario).groupby(result.ues["slot"]).mean().to_numpy()
    quarter = len(per_slot) // 4
    q2 = float(per_slot[quarter:2 * quarter].mean())
    q4 = float(per_slot[3 * quarter:].mean())
    ratio = q4 / q2 if q2 > 0 else (1.0 if q4 == 0 else float("inf"))
    return {"queue_q2_s": q2, "queue_q4_s": q4, "queue_growth": ratio,
            "stable": bool(ratio <= GROWTH_LIMIT and q4 < scenario.sim.slot_s)}


def score(scenario: Scenario, spec: str, seed: int, slots: int, engine: str = "des"
          ) -> dict[str, Any]:
    """One run of ``spec`` and what the table reports of it."""
    start = time.perf_counter()
    policy = make_policy(spec, scenario, policy_rng(seed))
    result = simulate(scenario, policy, seed=seed, slots=slots, engine=engine)
    metrics = run_metrics(result)
    return {**{k: metrics[k] for k in ("reward", "qos_per_ue", "delay_per_ue_s", "t_wait_s",
                                       "energy_per_ue_j")},
            **growth(result, scenario), "run_s": time.perf_counter() - start}


def fixed_splits(scenario: Scenario) -> list[str]:
    """Every feasible constant split."""
    mask = action_mask(scenario.steps)
    return [f"fixed:{x},{y}" for x, y in np.argwhere(mask)]


def best_fixed(scenario: Scenario, seed: int, screen_slots: int, finalists: int
               ) -> list[str]:
    """The ``finalists`` fixed splits of highest reward on the first ``screen_slots`` slots."""
    screened = {spec: simulate(scenario, spec, seed=seed, slots=screen_slots,
                               engine="des").slots["reward"].mean()
                for spec in fixed_splits(scenario)}
    return sorted(screened, key=lambda s: -screened[s])[:finalists]


class Table:
    """results.csv, read back on start and rewritten (atomically) after every row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.frame = (pd.read_csv(path).reindex(columns=list(COLUMNS)) if path.is_file()
                      else pd.DataFrame(columns=list(COLUMNS)))

    def has(self, variant: str, policy: str, train_seed: int = -1) -> bool:
        f = self.frame
        return bool(((f["variant"] == variant) & (f["policy"] == policy)
                     & (f["train_seed"] == train_seed)).any())

    def add(self, row: Mapping[str, Any]) -> None:
        self.frame = pd.concat([self.frame, pd.DataFrame([row])[list(COLUMNS)]],
                               ignore_index=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(self.path, lambda tmp: self.frame.to_csv(tmp, index=False,
                                                              float_format="%.10g"))
        print(f"  {row['variant']:>12} {row['policy']:>14} seed {row['train_seed']:>2}: "
              f"reward {row['reward']:+.4f}, queueing {row['queue_q2_s']:.3f} -> "
              f"{row['queue_q4_s']:.3f} s", flush=True)


def hid_scenario(variant: str, train_seed: int, slots: int) -> Scenario:
    """The variant as HID is trained on it (``train.seed``), set to run ``slots`` slots.

    ``train.episode_slots`` follows ``sim.slots`` unless pinned: the controller
    evaluated is the one trained on the scenario's own 30-slot episodes.
    """
    trained = load_scenario(SCENARIO, {**VARIANTS[variant], "train.seed": train_seed})
    return trained.with_values({"sim.slots": slots,
                                "train.episode_slots": trained.train.episode_slots})


def rescore(table: Table, variant: str, args: argparse.Namespace) -> None:
    """Run every row of ``variant`` again (HID from the cache) and replace its measures."""
    scenario = load_scenario(SCENARIO, {**VARIANTS[variant], "sim.slots": args.slots})
    rows = table.frame[table.frame["variant"] == variant].to_dict("records")
    table.frame = table.frame[table.frame["variant"] != variant]
    for row in rows:
        spec, cell = row["policy"], scenario
        if spec == "hid":
            cell = hid_scenario(variant, int(row["train_seed"]), args.slots)
        elif spec.startswith("dpp"):
            cell = scenario.with_values({"sim.dpp_v": float(spec.split("=")[1])})
            spec = "dpp"
        elif spec == "oracle-closed":
            spec = "oracle"
        table.add({**row, **score(cell, spec, args.eval_seed, args.slots, row["engine"])})


def run_variant(table: Table, variant: str, args: argparse.Namespace) -> None:
    values = {**VARIANTS[variant], "sim.slots": args.slots}
    scenario = load_scenario(SCENARIO, values)
    seed = args.eval_seed
    plain = [("oracle", "oracle", "des"), ("oracle-closed", "oracle", "closed"),
             ("fluid", "fluid", "des"), ("local", "local", "des")]
    plain += [(f"dpp V={v:g}", "dpp", "des") for v in args.dpp_v]
    for label, spec, engine in plain:
        if table.has(variant, label):
            continue
        cell = scenario
        if spec == "dpp":
            cell = scenario.with_values({"sim.dpp_v": float(label.split("=")[1])})
        table.add({"variant": variant, "policy": label, "engine": engine, "train_seed": -1,
                   "train_s": 0.0, **score(cell, spec, seed, args.slots, engine)})
    if not table.frame["policy"].str.startswith("fixed:")[
            table.frame["variant"] == variant].any():
        for spec in best_fixed(scenario, seed, args.screen_slots, args.finalists):
            table.add({"variant": variant, "policy": spec, "engine": "des", "train_seed": -1,
                       "train_s": 0.0, **score(scenario, spec, seed, args.slots)})
    for train_seed in args.train_seeds:
        if table.has(variant, "hid", train_seed):
            continue
        start = time.perf_counter()
        train_cached(load_scenario(SCENARIO, {**VARIANTS[variant], "train.seed": train_seed}),
                     progress=False)
        train_s = time.perf_counter() - start
        cell = hid_scenario(variant, train_seed, args.slots)
        table.add({"variant": variant, "policy": "hid", "engine": "des",
                   "train_seed": train_seed, "train_s": train_s,
                   **score(cell, "hid", seed, args.slots)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--train-seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--eval-seed", type=int, default=2026)
    parser.add_argument("--slots", type=int, default=200)
    parser.add_argument("--dpp-v", nargs="+", type=float, default=[10.0, 100.0, 1000.0])
    parser.add_argument("--screen-slots", type=int, default=30)
    parser.add_argument("--finalists", type=int, default=3)
    parser.add_argument("--out", type=Path, default=OUT / "results.csv")
    parser.add_argument("--rescore", action="store_true",
                        help="run the rows results.csv has again and replace their measures "
                             "(after the measures changed); trains and screens nothing")
    args = parser.parse_args()
    table = Table(args.out)
    with torch_threads(1):
        for variant in args.variants:
            print(f"{variant}:", flush=True)
            (rescore if args.rescore else run_variant)(table, variant, args)


if __name__ == "__main__":
    main()
