"""Fig. 4(a) of the paper: QoS, delay and energy as the reward weights (w1, w2, w3) vary.

For each weighting (0.2,0.4,0.4), (0.4,0.3,0.3), (0.6,0.2,0.2), (0.8,0.1,0.1) on
scenarios/paper.toml this trains HID (``train.mode`` default and paper, one
training seed each) and scores it with greedy actions, next to the exact
oracle, on fresh evaluation slots (``[sim] seed`` = --eval-seed, never used in
training; closed form). Reported per UE: QoS (HIQM, eq. 12), delay (eq. 13, s)
and energy (eq. 14 plus the UE's share of eq. 2, J), raw and normalised (each
metric divided by its largest value across the weightings, per policy). The
paper's claim: raising the QoS weight w1 raises QoS, delay and energy together;
``trend.csv`` says whether each metric rises monotonically with w1 here.

Each policy is a sweep (``hybridnet.sweep``, embedded Dask cluster of --jobs
workers): a rerun resumes, and a controller trained once is cached per cell.

Writes into experiments/results/fig4a_weights/: ``sweeps/{hid,oracle}`` (the
sweeps' results.csv and sweep.toml), ``training.csv`` (per-episode
logs), ``results.csv`` (one row per weighting and policy), ``trend.csv`` and
``fig4a_weights.png`` (normalised metrics, one panel per policy).

    python -m experiments.fig4a_weights --jobs 2
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import seaborn as sns

from experiments.common import evaluation_parser, save_figure, subplots, sweep_ways

COMMAND = "python -m experiments.fig4a_weights --jobs 2"

WEIGHTS = ("0.2,0.4,0.4", "0.4,0.3,0.3", "0.6,0.2,0.2", "0.8,0.1,0.1")
METRICS = {"qos": "QoS per UE", "delay_s": "delay per UE (s)", "energy_j": "energy per UE (J)"}


def trend(results: pd.DataFrame) -> pd.DataFrame:
    """Per policy and metric: does it rise with w1 (monotone), and by how much from end to end."""
    rows = []
    for policy, frame in results.sort_values("w1").groupby("policy", sort=False):
        for metric in METRICS:
            values = frame[metric].to_numpy()
            steps = np.diff(values)
            rows.append({"policy": policy, "metric": metric,
                         "at_lowest_w1": values[0], "at_highest_w1": values[-1],
                         "change_pct": 100 * (values[-1] - values[0]) / abs(values[0]),
                         "rises_monotonically": bool(np.all(steps >= 0)),
                         "falls_monotonically": bool(np.all(steps <= 0))})
    return pd.DataFrame(rows)


def plot(results: pd.DataFrame, out: Path) -> None:
    """Grouped bars of the normalised metrics against the weighting, one panel per policy."""
    policies = list(results["policy"].unique())
    order = list(results.sort_values("w1")["weights"].unique())
    long = results.melt(id_vars=["weights", "policy"], value_vars=[f"{m}_norm" for m in METRICS],
                        var_name="metric", value_name="value")
    long["metric"] = long["metric"].str.removesuffix("_norm").map(METRICS)
    sns.set_theme(style="whitegrid")
    fig, axes = subplots(1, len(policies), figsize=(5.5 * len(policies), 4.5), sharey=True,
                         squeeze=False)
    for ax, policy in zip(axes[0], policies, strict=True):
        sns.barplot(data=long[long["policy"] == policy], x="weights", y="value", hue="metric",
                    order=order, errorbar=None, ax=ax)
        ax.set_xlabel("reward weights (w1 QoS, w2 delay, w3 energy)")
        ax.set_ylabel("metric ÷ its largest value across weightings")
        ax.set_ylim(0, 1.25)
        ax.set_title(policy)
        ax.legend(title="per UE, evaluation slots", fontsize=8, title_fontsize=8, ncol=3,
                  loc="upper center")
    fig.suptitle("Fig. 4(a): QoS, delay and energy under different reward weights")
    save_figure(fig, out)


def main() -> None:
    parser = evaluation_parser(__doc__, "fig4a_weights")
    parser.add_argument("--weights", nargs="+", default=list(WEIGHTS))
    parser.add_argument("--modes", nargs="+", default=["default", "paper"],
                        choices=["default", "paper"], help="HID training modes")
    args = parser.parse_args()

    policies = [f"hid-{m}" for m in args.modes] + ["oracle"]
    scored, log = sweep_ways(
        args.scenario, "reward.weights",
        {w: [float(v) for v in w.split(",")] for w in args.weights}, policies,
        args.out / "sweeps", train_seed=args.train_seed, episodes=args.episodes,
        eval_seed=args.eval_seed, eval_slots=args.eval_slots, workers=args.jobs)
    log = log.rename(columns={"label": "weights", "way": "policy"})
    results = scored.rename(columns={"label": "weights", "way": "policy"})
    results.insert(1, "w1", results["weights"].map(lambda w: float(w.split(",")[0])))
    results = results[["weights", "w1", "policy", "train_s", *("reward", *METRICS)]]
    for metric in METRICS:
        results[f"{metric}_norm"] = results[metric] / results.groupby("policy")[metric].transform(
            "max")
    args.out.mkdir(parents=True, exist_ok=True)
    log.to_csv(args.out / "training.csv", index=False, float_format="%.10g")
    results.to_csv(args.out / "results.csv", index=False, float_format="%.10g")
    rising = trend(results)
    rising.to_csv(args.out / "trend.csv", index=False, float_format="%.10g")
    plot(results, args.out / "fig4a_weights.png")
    print(results.to_string(float_format=lambda v: f"{v:.4f}"))
    print(rising.to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
