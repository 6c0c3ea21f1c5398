"""Compare policies from Python: the built-ins and your own, on the same seeds.

    python examples/compare_policies.py [--seeds 3] [--out comparisons/example]

The same as ``hybridnet compare examples/my_scenario.toml --policy fluid
--policy oracle --policy examples/similarity_policy.py:SimilarityPolicy
--policy random``; the library calls give you the frames to go on with.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hybridnet.scenario import read_scenario
from hybridnet.sweep.compare import compare_table, format_table, plan_compare, run_compare

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--slots", type=int, help="slots per run (default: the scenario's)")
    args = parser.parse_args()
    overrides = {} if args.slots is None else {"sim.slots": args.slots}
    scenario = read_scenario(HERE / "my_scenario.toml", overrides)
    policies = ["fluid", "oracle", f"{HERE / 'similarity_policy.py'}:SimilarityPolicy",
                "random"]
    plan = plan_compare(scenario, policies, range(args.seeds), baseline="fluid")
    runs = run_compare(plan)              # one row per policy and seed
    table = compare_table(runs, "fluid")  # means, 95 % intervals, differences paired by seed
    print(format_table(table))
    best = runs.groupby("policy")["reward"].mean().idxmax()
    print(f"highest mean reward: {best}")


if __name__ == "__main__":
    main()
