"""Beyond the paper: HID's reward and its distance to the oracle as the number of UEs N grows.

For each N in --num-ues on scenarios/paper.toml (M = 2 groups) this trains the
default-mode HID (one training seed) and scores it with greedy actions on fresh
evaluation slots (``[sim] seed`` = --eval-seed, never used in training; closed
form) next to ``random``, ``local`` and the exact ``oracle``. The figure of
merit is the share of the random-to-oracle distance closed,

    share = (R_policy - R_random) / (R_oracle - R_random),

with R the mean slot reward (17a); also the training wall time per N (one
process, one torch thread). Training at N = 500 costs about 1 s per episode
here, so by default it gets 250 episodes instead of 500 (--cap 500=250).

Each policy is a sweep (``hybridnet.sweep``, embedded Dask cluster of --jobs
workers): a rerun resumes, and a controller trained once is cached per cell.

Writes into experiments/results/scaling_n/: ``sweeps/`` (the sweeps' results.csv
and sweep.toml), ``results.csv`` (one row per N and policy), ``training.csv``
(per-episode logs) and ``scaling_n.png``.

    python -m experiments.scaling_n --jobs 2
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
import seaborn as sns

from experiments.common import (
    evaluation_base,
    evaluation_parser,
    run_cells,
    save_figure,
    subplots,
    training_log,
)

COMMAND = "python -m experiments.scaling_n --jobs 2"

BASELINES = ("random", "local", "oracle")


def score(scenario_path: str, num_ues: Sequence[int], caps: Mapping[int, int], episodes: int,
          seed: int, eval_seed: int, eval_slots: int, out: Path,
          workers: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Default-mode HID and the baselines at every N: one row per N and policy (without
    shares: :func:`with_shares`), and the trainings' logs.

    HID is one sweep per number of training episodes (``sweeps/hid-<E>ep``: the
    capped N train fewer), each baseline one sweep over every N; all on the same
    evaluation slots. The training time is the HID cell's (training plus evaluation).
    """
    plain = {"train.mode": "default", "train.seed": seed}
    base = evaluation_base(scenario_path, plain, eval_slots)
    rows, logs = [], []
    for budget in sorted({caps.get(n, episodes) for n in num_ues}, reverse=True):
        # Largest N first, so the longest run does not start last.
        group = sorted((n for n in num_ues if caps.get(n, episodes) == budget), reverse=True)
        values = {**base, "train.episodes": budget}
        frame = run_cells(scenario_path, values, {"network.num_ues": group}, "hid",
                          out / "sweeps" / f"hid-{budget}ep", seeds=[eval_seed],
                          workers=workers)
        rows.append(pd.DataFrame({
            "num_ues": frame["network.num_ues"], "policy": "hid-default",
            "reward": frame["reward"], "episodes": budget, "train_s": frame["elapsed_s"],
            "train_tail_gap": frame["converged_oracle_reward"] - frame["converged_reward"]}))
        logs += [training_log(scenario_path, {**values, "network.num_ues": n}).assign(
            num_ues=n) for n in group]
    for policy in BASELINES:
        frame = run_cells(scenario_path, base, {"network.num_ues": sorted(num_ues)}, policy,
                          out / "sweeps" / policy, seeds=[eval_seed], workers=workers)
        rows.append(pd.DataFrame({"num_ues": frame["network.num_ues"], "policy": policy,
                                  "reward": frame["reward"], "episodes": 0}))
    return pd.concat(rows, ignore_index=True), pd.concat(logs, ignore_index=True)


def with_shares(results: pd.DataFrame) -> pd.DataFrame:
    """``results`` with each row's share of the random-to-oracle distance at its N, sorted
    by N and policy."""
    by_n = results.set_index(["num_ues", "policy"])["reward"]
    span = results["num_ues"].map(by_n.xs("oracle", level="policy")
                                  - by_n.xs("random", level="policy"))
    random = results["num_ues"].map(by_n.xs("random", level="policy"))
    results = results.copy()
    results.insert(3, "share", (results["reward"] - random) / span)
    return results.sort_values(["num_ues", "policy"], kind="stable").reset_index(drop=True)


def plot(results: pd.DataFrame, out: Path) -> None:
    """Reward, share of the random-to-oracle distance and training time against N."""
    sns.set_theme(style="whitegrid")
    fig, axes = subplots(1, 3, figsize=(16, 4.5))
    sns.lineplot(data=results, x="num_ues", y="reward", hue="policy", marker="o", ax=axes[0])
    axes[0].set_ylabel("mean reward per slot (eq. 17a, normalised per UE)")
    shares = results[results["policy"].isin(["hid-default", "local"])]
    sns.lineplot(data=shares, x="num_ues", y="share", hue="policy", marker="o", ax=axes[1])
    axes[1].set_ylabel("share of the random-to-oracle distance closed")
    hid = results[results["policy"] == "hid-default"]
    axes[2].plot(hid["num_ues"], hid["train_s"], marker="o")
    for n, s, e in zip(hid["num_ues"], hid["train_s"], hid["episodes"], strict=True):
        axes[2].annotate(f"{e} ep.", (n, s), textcoords="offset points", xytext=(4, -10),
                         fontsize=8)
    axes[2].set_ylabel("training wall time (s, 1 CPU thread)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("number of UEs N")
    fig.suptitle("Default-mode HID as N grows (paper.toml, M = 2, evaluation slots)")
    save_figure(fig, out)


def main() -> None:
    parser = evaluation_parser(__doc__, "scaling_n", episodes=500)
    parser.add_argument("--num-ues", type=int, nargs="+", default=[10, 50, 100, 200, 500])
    parser.add_argument("--cap", nargs="*", default=["500=250"], metavar="N=EPISODES",
                        help="fewer training episodes for these N")
    args = parser.parse_args()

    caps = {int(n): int(e) for n, e in (c.split("=") for c in args.cap)}
    scored, log = score(args.scenario, args.num_ues, caps, args.episodes, args.train_seed,
                        args.eval_seed, args.eval_slots, args.out, args.jobs)
    results = with_shares(scored)

    args.out.mkdir(parents=True, exist_ok=True)
    log.to_csv(args.out / "training.csv", index=False, float_format="%.10g")
    results.to_csv(args.out / "results.csv", index=False, float_format="%.10g")
    plot(results, args.out / "scaling_n.png")
    print(results.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
