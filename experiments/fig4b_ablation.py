"""Fig. 4(b) of the paper: HID against HID without advantage normalisation and without
reward scaling, several seeds, on scenarios/paper.toml.

Each variant is the paper-mode HID (``train.mode = "paper"``: independent
per-UE actors and critics, the shared team reward) with one switch turned off.
The paper reports HID > without advantage normalisation (slower, noisier) >
without reward scaling (unstable), at the rewards in :mod:`experiments.paper`;
absolute values depend on its undisclosed reward normalisation, so the
ordering is what to compare.

Each variant is a sweep over the training seeds (``hybridnet.sweep``, embedded
Dask cluster of --jobs workers): a rerun resumes, and a controller trained once
is cached (HYBRIDNET_CACHE).

Writes ``sweeps/<variant>/`` (the sweeps' results.csv and sweep.toml),
``fig4b_ablation.csv`` (one row per variant, seed and episode: the
training log of ``hybridnet train``), ``fig4b_summary.csv`` (mean reward per
slot over the last 40 % of the episodes, the paper's episodes 300-500, and the
share of the random-to-oracle distance it closes on the training slots) and
``fig4b_ablation.png`` (mean over seeds, 95 % CI band, 20-episode moving average).

    python -m experiments.fig4b_ablation --seeds 0 1 2 --jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns

from experiments.common import ROOT, run_cells, save_figure, subplots, training_log

COMMAND = "python -m experiments.fig4b_ablation --seeds 0 1 2 --jobs 2"

VARIANTS = {
    "HID": {},
    "without advantage normalisation": {"train.advantage_norm": False},
    "without reward scaling": {"train.reward_scaling": False},
}


def trained_logs(scenario_path: str, seeds: list[int], episodes: int | None, out: Path,
                 workers: int) -> pd.DataFrame:
    """Train every variant with every seed; their per-episode logs tagged with variant and seed.

    Each variant is a sweep over ``train.seed`` (``sweeps/<variant>``, embedded
    Dask cluster of ``workers`` processes), so a rerun resumes and a controller
    trained once is cached; its greedy evaluation on the scenario's own slots
    is a by-product this figure does not use.
    """
    logs = []
    for variant, switches in VARIANTS.items():
        values = {"train.mode": "paper", **switches}
        if episodes is not None:
            values["train.episodes"] = episodes
        run_cells(scenario_path, values, {"train.seed": seeds}, "hid",
                  out / "sweeps" / variant.replace(" ", "-"), seeds=[0], workers=workers)
        logs += [training_log(scenario_path, {**values, "train.seed": seed}).assign(
            variant=variant, seed=seed) for seed in seeds]
    return pd.concat(logs, ignore_index=True)


def random_reward(scenario_path: str, episodes: int, seed: int) -> np.ndarray:
    """Mean slot reward of the random policy on each training episode's slots of ``seed``."""
    from hybridnet.api import load_scenario
    from hybridnet.model.objective import evaluate
    from hybridnet.model.params import ModelParams
    from hybridnet.policies import RandomPolicy
    from hybridnet.rl.controller import stack_slots
    from hybridnet.rl.train import derive_seed
    from hybridnet.sim.conditions import Conditions

    scenario = load_scenario(scenario_path)
    params = ModelParams.from_scenario(scenario)
    policy = RandomPolicy(scenario.steps, np.random.default_rng(seed))
    out = []
    for e in range(episodes):
        states = list(Conditions(scenario, derive_seed(seed, "slots", e)).slots())
        xy = [policy.decide(s) for s in states]
        out.append(evaluate(params, stack_slots(states), np.stack([d[0] for d in xy]),
                            np.stack([d[1] for d in xy])).reward.mean())
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "paper.toml"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--episodes", type=int, default=None, help="default: train.episodes")
    parser.add_argument("--jobs", type=int, default=1,
                        help="runs in parallel (worker processes of the embedded Dask cluster)")
    parser.add_argument("--out", type=Path, default=ROOT / "experiments" / "results" / "fig4b")
    args = parser.parse_args()

    log = trained_logs(args.scenario, args.seeds, args.episodes, args.out, args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    log.to_csv(args.out / "fig4b_ablation.csv", index=False, float_format="%.10g")
    summary = summarise(log, args.scenario)
    summary.to_csv(args.out / "fig4b_summary.csv", index=False, float_format="%.10g")
    plot(log, args.out / "fig4b_ablation.png")
    episodes = int(log["episode"].max()) + 1
    means = summary.groupby("variant", sort=False)[["reward", "share"]].agg(["mean", "std"])
    print(f"mean over episodes {int(0.6 * episodes)}-{episodes - 1}, {len(args.seeds)} seeds:")
    print(means.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {args.out / 'fig4b_ablation.csv'}, fig4b_summary.csv, fig4b_ablation.png")


def summarise(log: pd.DataFrame, scenario_path: str) -> pd.DataFrame:
    """Per variant and seed: the mean reward over the last 40 % of the episodes (the paper's
    300-500) and the share of the random-to-oracle distance on those training slots."""
    episodes = int(log["episode"].max()) + 1
    tail = log[log["episode"] >= int(0.6 * episodes)]
    rows = []
    for (variant, seed), frame in tail.groupby(["variant", "seed"], sort=False):
        rand = random_reward(scenario_path, episodes, int(seed))[frame["episode"].to_numpy()]
        share = ((frame["reward"] - rand) / (frame["oracle_reward"] - rand)).mean()
        rows.append({"variant": variant, "seed": seed, "reward": frame["reward"].mean(),
                     "oracle_reward": frame["oracle_reward"].mean(), "share": share})
    return pd.DataFrame(rows)


def plot(log: pd.DataFrame, out: Path) -> None:
    """The training curves of every variant (20-episode moving average, 95 % band over
    seeds) against the oracle on the same slots."""
    seeds = log["seed"].nunique()
    smooth = log.assign(reward=log.groupby(["variant", "seed"])["reward"].transform(
        lambda r: r.rolling(20, min_periods=1).mean()))
    sns.set_theme(style="whitegrid")
    fig, ax = subplots(figsize=(8, 4.5))
    sns.lineplot(data=smooth, x="episode", y="reward", hue="variant", errorbar=("ci", 95),
                 seed=0, ax=ax)
    ax.plot(log.groupby("episode")["oracle_reward"].mean(), color="black", linestyle="--",
            linewidth=1, label="oracle (same slots)")
    ax.set_xlabel("training episode")
    ax.set_ylabel("reward per slot (eq. 17a, normalised)")
    ax.set_title(f"Fig. 4(b) ablation, paper-mode HID ({seeds} seeds, "
                 "20-episode moving average)")
    ax.legend(fontsize=8)
    save_figure(fig, out)


if __name__ == "__main__":
    main()
