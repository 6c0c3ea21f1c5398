"""How long does ``hybridnet compare`` take? Four policies x 5 seeds on scenarios/paper.toml.

    .venv/bin/python benchmarks/bench_compare.py              # in this process and on Dask
    .venv/bin/python benchmarks/bench_compare.py --workers 2  # Dask with 2 worker processes

The issue's target is at most 60 s on 2 cores for oracle, fluid, fixed:5,0
and random over 5 seeds. Measured here in wall-clock seconds
(``time.perf_counter``: the Dask path's worker start-up is part of what a user
waits for) of ``run_compare`` on the same plan, in this process and on an
embedded Dask cluster, after one untimed warm-up run that pays the imports;
the ratio is Dask's time over the in-process one, both measured in this
process. The command itself adds its start-up (the imports, about 2 s) and
writing the table, figure and CSVs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from hybridnet.scenario import read_scenario
from hybridnet.sweep.compare import plan_compare, run_compare

POLICIES = ("oracle", "fluid", "fixed:5,0", "random")
PAPER = Path(__file__).resolve().parents[1] / "scenarios" / "paper.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    plan = plan_compare(read_scenario(PAPER), POLICIES, range(args.seeds))
    run_compare(plan_compare(read_scenario(PAPER), POLICIES[:2], range(2)))  # warm-up
    start = time.perf_counter()
    local = run_compare(plan)
    local_s = time.perf_counter() - start
    start = time.perf_counter()
    dask = run_compare(plan, workers=args.workers)
    dask_s = time.perf_counter() - start
    same = local.drop(columns="elapsed_s").equals(dask.drop(columns="elapsed_s"))
    print(f"compare of {len(POLICIES)} policies x {args.seeds} seeds on {PAPER.name} "
          f"({len(plan.runs)} runs of {plan.scenario.sim.slots} slots)")
    print(f"  in this process:            {local_s:6.1f} s")
    print(f"  Dask, {args.workers} worker processes:   {dask_s:6.1f} s  "
          f"(x{dask_s / local_s:.2f}; same rows: {same})")


if __name__ == "__main__":
    main()
