"""Fig. 5 of the paper: the four prompt schemes HIS, PPGFIS, GFIS and IIS compared.

Each scheme (``prompts.scheme``) on scenarios/paper.toml is run three ways:
paper-mode HID (``train.mode = "paper"``: the paper's IPPO with the team
reward, to reproduce the paper), the default controller (``train.mode =
"default"``) and the exact oracle (no training). The converged reward is the
paper's measure, the mean reward per slot over training episodes 300-499 (the
last 40 % of the episodes), and, for HID and the oracle alike, the mean reward
of greedy actions on fresh evaluation slots (``[sim] seed`` = --eval-seed,
never used in training). The gain of HIS over each other scheme is
``(R_HIS - R_other) / |R_other|``; the paper's gains and digitised Fig. 5(a)
means (:mod:`experiments.paper`) travel in the CSVs beside ours.
hybridnet normalises each reward term per UE (the all-on-UE decision scores
about w1 - w2 - w3), the paper's normalisation is undisclosed: compare ratios
and orders, not absolute values. One training seed per cell. Each way is a
sweep (``hybridnet.sweep``, embedded Dask cluster of --jobs workers): a rerun
resumes, and a controller trained once is cached per cell (HYBRIDNET_CACHE).

Phi comes from ``prompts.phi_source`` = --phi-source: ``synthetic`` (default,
fast; per-scheme phi distributions calibrated on the embedding path) or
``embedding`` (real prompts through all-MiniLM-L6-v2, about 4x slower).

Writes into experiments/results/fig5_schemes/: ``sweeps/<phi source>/{hid,oracle}``
(the sweeps' results.csv and sweep.toml), ``training.csv`` (per-episode
log per scheme and mode), ``converged.csv`` (one row per scheme and way),
``gains.csv`` (HIS over each scheme, per way and measure, with the paper's),
``fig5a_training.png`` (reward curves, one panel per HID mode, 20-episode
moving average) and ``fig5b_<way>.png`` (normalised QoS, delay, energy per
scheme on the evaluation slots).

    python -m experiments.fig5_schemes --jobs 2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import seaborn as sns

from experiments.common import evaluation_parser, save_figure, subplots, sweep_ways
from experiments.paper import PAPER_FIG5A, PAPER_GAIN_PCT, SCHEMES
from experiments.paper import SCHEME_LABELS as LABELS
from hybridnet.plots import plot_schemes

COMMAND = "python -m experiments.fig5_schemes --jobs 2"
"""What produced the checked-in results (synthetic phi)."""


def gains(converged: pd.DataFrame) -> pd.DataFrame:
    """Per way and measure, the reward gain of HIS over every other scheme, in %."""
    rows = []
    for way, frame in converged.groupby("way", sort=False):
        by_scheme = frame.set_index("scheme")
        for measure in ("converged_reward", "eval_reward"):
            if by_scheme[measure].isna().all() or "his" not in by_scheme.index:
                continue
            his = by_scheme.at["his", measure]
            for other in by_scheme.index.drop("his"):
                base = by_scheme.at[other, measure]
                rows.append({"way": way, "measure": measure, "over": other,
                             "his_reward": his, "other_reward": base,
                             "gain_pct": 100 * (his - base) / abs(base),
                             "paper_gain_pct": PAPER_GAIN_PCT[other]})
    return pd.DataFrame(rows)


def plot_training_curves(log: pd.DataFrame, modes: list[str], out: Path) -> None:
    """Fig. 5(a): reward per slot against episode, one panel per HID mode."""
    sns.set_theme(style="whitegrid")
    fig, axes = subplots(1, len(modes), figsize=(6.5 * len(modes), 4.5), sharey=True,
                         squeeze=False)
    colours = dict(zip(SCHEMES, sns.color_palette(n_colors=len(SCHEMES)), strict=True))
    for ax, mode in zip(axes[0], modes, strict=True):
        for scheme, frame in log[log["way"] == f"hid-{mode}"].groupby("scheme", sort=False):
            smooth = frame["reward"].rolling(20, min_periods=1).mean()
            ax.plot(frame["episode"], frame["reward"], color=colours[scheme], alpha=0.2,
                    linewidth=0.7)
            ax.plot(frame["episode"], smooth, color=colours[scheme], label=LABELS[scheme])
        ax.set_xlabel("training episode")
        ax.set_ylabel("mean reward per slot (eq. 17a)")
        ax.set_title(f"{mode}-mode HID (20-episode moving average)")
        ax.legend(title="scheme")
    fig.suptitle("Fig. 5(a): training reward per prompt scheme (terms normalised per UE)")
    save_figure(fig, out)


def run(args: argparse.Namespace) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train and score every scheme each way; write training.csv and converged.csv, and
    return both frames at full precision (what the analysis reads)."""
    ways = [f"hid-{m}" for m in args.modes] + ["oracle"]
    results, log = sweep_ways(
        args.scenario, "prompts.scheme", {s: s for s in args.schemes}, ways,
        args.out / "sweeps" / args.phi_source, train_seed=args.train_seed, episodes=args.episodes,
        eval_seed=args.eval_seed, eval_slots=args.eval_slots, workers=args.jobs,
        fixed={"prompts.phi_source": args.phi_source})
    log = log.rename(columns={"label": "scheme"})
    converged = results.rename(columns={"label": "scheme", "reward": "eval_reward"}).assign(
        phi_source=args.phi_source)
    converged = converged[["scheme", "way", "phi_source", "train_s", "converged_reward",
                           "converged_oracle_reward", "eval_reward", "qos", "delay_s",
                           "energy_j"]]
    converged["paper_fig5a_reward"] = converged["scheme"].map(PAPER_FIG5A)
    args.out.mkdir(parents=True, exist_ok=True)
    log.to_csv(args.out / "training.csv", index=False, float_format="%.10g")
    converged.to_csv(args.out / "converged.csv", index=False, float_format="%.10g")
    return converged, log


def plot(converged: pd.DataFrame, log: pd.DataFrame, out: Path) -> None:
    """Fig. 5(a)'s curves from the training log, Fig. 5(b)'s bars from converged.csv's rows."""
    modes = [way.removeprefix("hid-") for way in log["way"].unique()]
    plot_training_curves(log, modes, out / "fig5a_training.png")
    for way, frame in converged.groupby("way", sort=False):
        plot_schemes(frame.assign(scheme=frame["scheme"].map(LABELS)), out / f"fig5b_{way}.png")


def main() -> None:
    parser = evaluation_parser(__doc__, "fig5_schemes")
    parser.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=SCHEMES)
    parser.add_argument("--modes", nargs="+", default=["paper", "default"],
                        choices=["paper", "default"], help="HID training modes")
    parser.add_argument("--phi-source", default="synthetic", choices=["synthetic", "embedding"])
    args = parser.parse_args()
    converged, log = run(args)
    gain = gains(converged)
    gain.to_csv(args.out / "gains.csv", index=False, float_format="%.10g")
    plot(converged, log, args.out)
    print(converged.to_string(float_format=lambda v: f"{v:.4f}"))
    print(gain.to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"phi source: {args.phi_source}; wrote {args.out}")


if __name__ == "__main__":
    main()
