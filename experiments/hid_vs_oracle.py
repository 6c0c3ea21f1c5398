"""How much of the random-to-oracle distance does the trained HID controller close?

For each reward weighting and each training mode this trains a controller on
scenarios/paper.toml (as ``hybridnet train`` does), then scores it on fresh
evaluation slots (``[sim] seed`` = --eval-seed, never used by training, whose
slots derive from ``[train] seed``) next to ``random``, ``local``, the best
``fixed:X,Y`` (chosen on the evaluation slots themselves, so an upper bound
for any fixed split) and the exact ``oracle``, all in the closed form, which
the DES reproduces in this configuration. The figure of merit is

    share = (R_policy - R_random) / (R_oracle - R_random)

with R the mean slot reward (17a), and ``fixed_share``, the same with the best
fixed split in place of random (empty where that split is already optimal).
HID acts greedily (argmax) unless --sample is given. Writes one CSV row per
(weights, mode, policy).

    python -m experiments.hid_vs_oracle    # writes experiments/results/hid_vs_oracle/
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from experiments.common import evaluation_parser
from hybridnet.api import policy_rng
from hybridnet.model.actions import action_mask
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.reference import resolve_references
from hybridnet.policies import FixedPolicy, LocalPolicy, OraclePolicy, RandomPolicy
from hybridnet.rl.controller import stack_slots
from hybridnet.rl.policy import HidPolicy
from hybridnet.rl.train import Trainer
from hybridnet.scenario import Scenario, parse_overrides, read_scenario
from hybridnet.sim.conditions import Conditions

COMMAND = "python -m experiments.hid_vs_oracle"


def mean_reward(policy, scenario: Scenario, params: ModelParams, seed: int) -> float:
    """Mean slot reward of ``policy`` over the evaluation episode (closed form)."""
    states = list(Conditions(scenario, seed).slots())
    decisions = [policy.decide(s) for s in states]
    x = np.stack([d[0] for d in decisions])
    y = np.stack([d[1] for d in decisions])
    return float(evaluate(params, stack_slots(states), x, y).reward.mean())


def best_fixed(scenario: Scenario, params: ModelParams, seed: int) -> tuple[str, float]:
    """The best ``fixed:X,Y`` on the evaluation slots, and its reward."""
    mask = action_mask(scenario.steps)
    scores = {
        f"fixed:{x},{y}": mean_reward(FixedPolicy(scenario.steps, int(x), int(y)), scenario,
                                      params, seed)
        for x, y in zip(*np.nonzero(mask), strict=True)
    }
    name = max(scores, key=scores.get)
    return name, scores[name]


def main() -> None:
    parser = evaluation_parser(__doc__, "hid_vs_oracle/results.csv", jobs=False)
    parser.add_argument("--weights", nargs="+", default=["0.6,0.2,0.2", "0.2,0.4,0.4"])
    parser.add_argument("--modes", nargs="+", default=["default", "paper"])
    parser.add_argument("--sample", action="store_true", help="sampled, not greedy, HID actions")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="K=V", help="extra scenario override (repeatable)")
    args = parser.parse_args()

    rows = []
    for weights in args.weights:
        for mode in args.modes:
            values = {"reward.weights": [float(w) for w in weights.split(",")],
                      "train.mode": mode, "train.seed": args.train_seed}
            values.update(parse_overrides(args.overrides))
            if args.episodes is not None:
                values["train.episodes"] = args.episodes
            scenario = resolve_references(read_scenario(args.scenario).with_values(values))
            evaluation = scenario.with_values({"sim.slots": args.eval_slots})
            params = ModelParams.from_scenario(scenario)
            start = time.perf_counter()
            trainer = Trainer(scenario)
            trainer.train()
            train_s = time.perf_counter() - start
            rng = policy_rng(args.eval_seed)     # as `hybridnet run --seed` draws it
            hid = HidPolicy(trainer.controller, sample=args.sample,
                            generator=torch.Generator().manual_seed(args.eval_seed))
            scores = {
                "oracle": mean_reward(OraclePolicy(scenario.steps, params), evaluation, params,
                                      args.eval_seed),
                "random": mean_reward(RandomPolicy(scenario.steps, rng), evaluation, params,
                                      args.eval_seed),
                "local": mean_reward(LocalPolicy(scenario.steps), evaluation, params,
                                     args.eval_seed),
                f"hid-{mode}": mean_reward(hid, evaluation, params, args.eval_seed),
            }
            fixed_name, scores[fixed_name] = best_fixed(evaluation, params, args.eval_seed)
            span = scores["oracle"] - scores["random"]
            fixed_span = scores["oracle"] - scores[fixed_name]
            for policy, reward in scores.items():
                rows.append({"weights": weights, "mode": mode, "policy": policy,
                             "reward": reward, "share": (reward - scores["random"]) / span,
                             "fixed_share": (reward - scores[fixed_name]) / fixed_span
                             if fixed_span > 0 else np.nan,
                             "train_s": train_s if policy.startswith("hid") else np.nan,
                             "actions": ("sampled" if args.sample else "greedy")
                             if policy.startswith("hid") else ""})
                print(f"{weights:>12} {mode:>8} {policy:>12} reward {reward:+.5f} "
                      f"share {rows[-1]['share']:.4f}", flush=True)
            print(f"{'':>12} {mode:>8} trained in {train_s:.1f} s", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
