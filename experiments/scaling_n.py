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

Writes into experiments/results/scaling_n/: ``results.csv`` (one row per N and
policy), ``training.csv`` (per-episode logs) and ``scaling_n.png``.

    .venv/bin/python experiments/scaling_n.py --jobs 2
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
import torch  # noqa: E402
from common import evaluation_parser, save_figure  # noqa: E402

from hybridnet.api import load_scenario, policy_rng, simulate  # noqa: E402
from hybridnet.metrics import policy_scores  # noqa: E402
from hybridnet.policies import RandomPolicy  # noqa: E402
from hybridnet.policies.base import Policy  # noqa: E402
from hybridnet.rl.policy import HidPolicy  # noqa: E402
from hybridnet.rl.train import Trainer  # noqa: E402
from hybridnet.scenario import Scenario  # noqa: E402


def reward_of(scenario: Scenario, policy: str | Policy, seed: int, slots: int) -> float:
    """Mean slot reward of ``policy`` on the evaluation slots (closed form)."""
    return policy_scores(simulate(scenario, policy, seed=seed, slots=slots,
                                  engine="closed"))["reward"]


def run_n(scenario_path: str, num_ues: int, episodes: int, seed: int, eval_seed: int,
          eval_slots: int) -> tuple[pd.DataFrame, list[dict[str, float | str]]]:
    """Train default-mode HID at ``num_ues`` UEs and score it and the baselines."""
    torch.set_num_threads(1)
    scenario = load_scenario(scenario_path, {"network.num_ues": num_ues, "train.mode": "default",
                                             "train.seed": seed, "train.episodes": episodes})
    start = time.perf_counter()
    trainer = Trainer(scenario)
    history = trainer.train()
    train_s = time.perf_counter() - start
    scores = {
        "hid-default": reward_of(scenario, HidPolicy(trainer.controller, sample=False),
                                   eval_seed, eval_slots),
        "random": reward_of(scenario, RandomPolicy(scenario.steps, policy_rng(eval_seed)),
                              eval_seed, eval_slots),
        "local": reward_of(scenario, "local", eval_seed, eval_slots),
        "oracle": reward_of(scenario, "oracle", eval_seed, eval_slots),
    }
    span = scores["oracle"] - scores["random"]
    tail = history[history["episode"] >= int(0.6 * episodes)]
    rows = [{"num_ues": num_ues, "policy": policy, "reward": reward,
             "share": (reward - scores["random"]) / span,
             "episodes": episodes if policy == "hid-default" else 0,
             "train_s": train_s if policy == "hid-default" else float("nan"),
             "train_tail_gap": float(tail["optimality_gap"].mean())
             if policy == "hid-default" else float("nan")}
            for policy, reward in scores.items()]
    print(f"N={num_ues:>4}: HID share {rows[0]['share']:.4f}, {episodes} episodes "
          f"in {train_s:.0f} s", flush=True)
    return history.assign(num_ues=num_ues), rows


def plot(results: pd.DataFrame, out: Path) -> None:
    """Reward, share of the random-to-oracle distance and training time against N."""
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
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
    # Largest N first, so the longest run does not start last.
    order = sorted(args.num_ues, reverse=True)
    cells = [(args.scenario, n, caps.get(n, args.episodes), args.train_seed, args.eval_seed,
              args.eval_slots) for n in order]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        outcomes = list(pool.map(run_n, *zip(*cells, strict=True)))
    log = pd.concat([h for h, _ in outcomes], ignore_index=True)
    results = pd.DataFrame([r for _, rows in outcomes for r in rows]).sort_values(
        ["num_ues", "policy"], kind="stable")

    args.out.mkdir(parents=True, exist_ok=True)
    log.to_csv(args.out / "training.csv", index=False, float_format="%.10g")
    results.to_csv(args.out / "results.csv", index=False, float_format="%.10g")
    plot(results, args.out / "scaling_n.png")
    print(results.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
