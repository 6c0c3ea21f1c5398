"""Does the HID controller adapt? Heterogeneous cells where one constant split is not enough.

On scenarios/paper.toml one constant split (``fixed:3,0`` at (0.6, 0.2, 0.2))
is already optimal, so a controller that learnt one number looks perfect
there. This script trains HID on cells whose optimum differs per UE and per
slot (UE CPUs spread over a wide range, Rayleigh fading, positions redrawn
every slot, several prompt groups, weights that trade quality against
delay and energy, both HIQMs) and scores it on fresh evaluation slots
(``--eval-seed``, never used by training) next to the exact ``oracle``, the
best ``fixed:X,Y`` (the best of every feasible split on the evaluation slots
themselves: an upper bound for any constant decision), ``local`` and
``random``, all in the closed form. Two figures of merit:

    random-to-oracle share = (R - R_random) / (R_oracle - R_random)
    fixed-to-oracle share  = (R - R_fixed) / (R_oracle - R_fixed)

the second being what a learned controller adds over the best constant.
Every policy is run through :func:`hybridnet.simulate` exactly as
``hybridnet run SCENARIO --policy P --seed EVAL_SEED --engine closed`` would,
and HID controllers are trained by the default ``hybridnet train`` settings
(cached per scenario, so a rerun resumes where it stopped; a controller
found in the cache has no training time, ``train_s`` is empty).

    python -m experiments.hid_heterogeneous            # 4 cells x 3 seeds x 2 modes
    python -m experiments.hid_heterogeneous --scaling  # default HID at N = 50, 300, 1000

Writes experiments/results/hid_heterogeneous/: ``results.csv`` (one row per
cell, policy and training seed), ``scaling.csv``, ``decisions.csv`` and ``decisions.png`` (the
greedy default controller's per-UE splits against the oracle's, over f_UE).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.common import RESULTS, ROOT, save_figure, subplots
from hybridnet.api import load_scenario, simulate
from hybridnet.model.actions import action_mask
from hybridnet.rl.policy import cached_path, train_cached
from hybridnet.scenario import Scenario

COMMAND = "python -m experiments.hid_heterogeneous"
SCALING_COMMAND = "python -m experiments.hid_heterogeneous --scaling"
BASE = str(ROOT / "scenarios" / "paper.toml")
WIDE_CELL = {"channel.fading": "rayleigh", "channel.position_redraw": "slot"}
CELLS: dict[str, dict[str, object]] = {
    "wide-cpu": {**WIDE_CELL, "ue.freq_min_hz": 0.5e9, "ue.freq_max_hz": 2.5e9,
                 "network.num_groups": 4, "reward.weights": [0.4, 0.3, 0.3]},
    "wide-cpu-quality": {**WIDE_CELL, "ue.freq_min_hz": 0.5e9, "ue.freq_max_hz": 2.5e9,
                         "network.num_groups": 4, "reward.weights": [0.6, 0.2, 0.2],
                         "qos.model": "paper"},
    "far-cell": {"ue.freq_min_hz": 0.8e9, "ue.freq_max_hz": 2.2e9, "qos.model": "paper",
                 "channel.distance_max_m": 600.0, "network.num_groups": 3,
                 "reward.weights": [0.3, 0.35, 0.35]},
    "energy-first": {**WIDE_CELL, "ue.freq_min_hz": 0.3e9, "ue.freq_max_hz": 3.0e9,
                     "network.num_groups": 6, "reward.weights": [0.2, 0.3, 0.5]},
}
"""The heterogeneous cells, as overrides of scenarios/paper.toml (N = 50 UEs)."""
SCALING_UES = {50: 4, 300: 6, 1000: 20}
"""UE counts of the scaling run, each with its number of prompt groups."""


def mean_reward(scenario: Scenario, policy: str, seed: int, slots: int) -> float:
    """Mean slot reward (17a) of ``policy`` on the evaluation slots, closed form."""
    result = simulate(scenario, policy, seed=seed, slots=slots, engine="closed")
    return float(result.slots["reward"].mean())


def best_fixed(scenario: Scenario, seed: int, slots: int) -> tuple[str, float]:
    """The best ``fixed:X,Y`` over every feasible split, on the evaluation slots."""
    scores = {f"fixed:{x},{y}": mean_reward(scenario, f"fixed:{x},{y}", seed, slots)
              for x, y in zip(*np.nonzero(action_mask(scenario.steps)), strict=True)}
    name = max(scores, key=scores.__getitem__)
    return name, scores[name]


def trained(scenario: Scenario) -> tuple[Scenario, float]:
    """Train the controller of ``scenario`` unless cached; the seconds it took (NaN if cached)."""
    if cached_path(scenario).is_file():
        return scenario, np.nan
    start = time.perf_counter()
    train_cached(scenario, progress=False)
    return scenario, time.perf_counter() - start


def score_cell(name: str, values: dict[str, object], seeds: list[int], modes: list[str],
               eval_seed: int, slots: int) -> list[dict[str, object]]:
    """Rows of one cell: the baselines once, HID per mode and training seed."""
    scenario = load_scenario(BASE, values)
    baselines = {p: mean_reward(scenario, p, eval_seed, slots)
                 for p in ("oracle", "random", "local")}
    fixed_name, baselines["best-fixed"] = best_fixed(scenario, eval_seed, slots)
    rows = [{"cell": name, "policy": p, "seed": np.nan, "reward": r, "train_s": np.nan,
             "detail": fixed_name if p == "best-fixed" else ""} for p, r in baselines.items()]
    for mode in modes:
        for seed in seeds:
            hid_scenario, train_s = trained(load_scenario(BASE, {
                **values, "train.mode": mode, "train.seed": seed,
                "train.controller": "specialist"}))
            rows.append({"cell": name, "policy": f"hid-{mode}", "seed": seed,
                         "reward": mean_reward(hid_scenario, "hid", eval_seed, slots),
                         "train_s": train_s, "detail": ""})
            print(f"{name:>18} hid-{mode:<8} seed {seed} reward {rows[-1]['reward']:+.5f} "
                  f"(trained in {train_s:.0f} s)", flush=True)
    return with_shares(rows, baselines)


def with_shares(rows: list[dict[str, object]], baselines: dict[str, float]
                ) -> list[dict[str, object]]:
    """Add each row's random-to-oracle and fixed-to-oracle shares."""
    oracle, random, fixed = baselines["oracle"], baselines["random"], baselines["best-fixed"]
    for row in rows:
        reward = float(row["reward"])
        row["random_share"] = (reward - random) / (oracle - random)
        row["fixed_share"] = (reward - fixed) / (oracle - fixed) if oracle > fixed else np.nan
    return rows


def decisions(values: dict[str, object], eval_seed: int, slots: int = 20) -> pd.DataFrame:
    """Per-UE decisions of the oracle and of greedy default HID (training seed 0) on
    ``slots`` fresh slots of a cell: the ``ues`` table of each run, with a ``policy`` column.

    Under the oracle nearly every UE takes its group's X_m, which moves from
    slot to slot with the group's members; y_n switches with the UE's CPU (all
    or none of the personalised steps on the ES). :func:`plot_decisions` shows
    which of the two the controller reproduces.
    """
    scenario = load_scenario(BASE, {**values, "train.seed": 0})
    return pd.concat([simulate(scenario, policy, seed=eval_seed, slots=slots,
                               engine="closed").ues.assign(policy=policy)
                      for policy in ("oracle", "hid")], ignore_index=True)


def plot_decisions(frame: pd.DataFrame, out: Path) -> None:
    """x_n over phi_n and y_n over f_UE, per UE, each policy of ``frame`` its own marker."""
    fig, axes = subplots(1, 2, figsize=(10, 4))
    panels = (("phi", "x", "similarity phi_n", "common steps x_n"),
              ("f_ue_hz", "y", "UE CPU f_UE (GHz)", "personalised ES steps y_n"))
    markers = {"oracle": ("o", "oracle"), "hid": ("x", "HID (default mode)")}
    for policy, ues in frame.groupby("policy", sort=False):
        marker, label = markers[str(policy)]
        for ax, (along, column, _, _) in zip(axes, panels, strict=True):
            scale = 1e9 if along == "f_ue_hz" else 1.0
            ax.scatter(ues[along] / scale, ues[column], marker=marker, alpha=0.5, s=18,
                       label=label)
    for ax, (_, _, xlabel, ylabel) in zip(axes, panels, strict=True):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend()
    fig.suptitle(f"wide-cpu cell: per-UE decisions on {frame['slot'].nunique()} fresh slots")
    save_figure(fig, out)


def scaling(seed: int, eval_seed: int, slots: int, out: Path) -> None:
    """The default controller's shares as N grows, on the wide-cpu cell."""
    rows = []
    for num_ues, groups in SCALING_UES.items():
        values = {**CELLS["wide-cpu"], "network.num_ues": num_ues, "network.num_groups": groups}
        cell = score_cell(f"wide-cpu N={num_ues}", values, [seed], ["default"], eval_seed, slots)
        rows += [{**row, "num_ues": num_ues, "num_groups": groups} for row in cell]
    pd.DataFrame(rows).to_csv(out, index=False)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--modes", nargs="+", default=["default", "paper"])
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--eval-seed", type=int, default=2025)
    parser.add_argument("--eval-slots", type=int, default=100)
    parser.add_argument("--scaling", action="store_true",
                        help="instead: default HID at N = 50, 300, 1000 (training seed 0)")
    parser.add_argument("--out", type=Path, default=RESULTS / "hid_heterogeneous")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.scaling:
        scaling(args.seeds[0], args.eval_seed, args.eval_slots, args.out / "scaling.csv")
        return
    rows = []
    for name in args.cells:
        rows += score_cell(name, CELLS[name], args.seeds, args.modes, args.eval_seed,
                           args.eval_slots)
    pd.DataFrame(rows).to_csv(args.out / "results.csv", index=False)
    print(f"wrote {args.out / 'results.csv'}")
    chosen = decisions(CELLS["wide-cpu"], args.eval_seed)
    chosen.to_csv(args.out / "decisions.csv", index=False, float_format="%.10g")
    plot_decisions(chosen, args.out / "decisions.png")


if __name__ == "__main__":
    main()
