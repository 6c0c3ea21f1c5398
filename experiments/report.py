"""The Markdown tables of experiments/README.md, generated from the result CSVs.

Every table in experiments/README.md sits between two markers,

    <!-- table:NAME -->
    ...generated Markdown...
    <!-- end -->

and is produced here from experiments/results/*/*.csv; the prose around the
markers is hand-written. Without options this prints every table (with its
marker name) to stdout; ``--write`` replaces the blocks in the README in
place. A table whose CSV is missing or incomplete is reported on stderr, left
as it stands in the README under --write, and makes the exit status 1.

The tables are built by :mod:`experiments.readme_fig5`, :mod:`experiments.readme_hid`,
:mod:`experiments.readme_generalist` and :mod:`experiments.readme_des` from the CSVs
:mod:`experiments.readme_data` reads; the paper's numbers (the "paper" rows and
columns) come from :mod:`experiments.paper`; the command that makes each CSV is the
``COMMAND`` its study module declares; numbers are formatted by
:mod:`experiments.tables`, intervals computed by
:mod:`experiments.stats` and :mod:`experiments.intervals`.

    python -m experiments.report            # print the tables
    python -m experiments.report --write    # regenerate the README's tables
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from experiments import readme_data
from experiments.common import ROOT
from experiments.readme_data import MissingData
from experiments.readme_des import run_times, sweep_table
from experiments.readme_fig5 import (
    fig5_gains,
    fig5_map_groupings,
    fig5_map_hid,
    fig5_map_offset,
    fig5_map_oracle,
    fig5_map_phi,
    fig5_rewards,
    fig5_train_time,
    fig5b,
)
from experiments.readme_generalist import (
    generalist_cells,
    generalist_des,
    generalist_learnt_bound,
    generalist_random,
    generalist_specialists,
    generalist_sweep,
    generalist_timing,
)
from experiments.readme_hid import (
    dense_after_rl_layer,
    dense_control,
    dense_intervals,
    dense_recovery,
    fig4a_results,
    fig4a_trend,
    fig4b,
    fig4b_intervals,
    hid_heterogeneous,
    hid_heterogeneous_intervals,
    hid_heterogeneous_scaling,
    hid_vs_oracle,
    scaling_n,
)

README = ROOT / "experiments" / "README.md"

# --------------------------------------------------------------------------- the README


TABLES: dict[str, Callable[[], str]] = {
    "fig5-gains": fig5_gains,
    "fig5-rewards": fig5_rewards,
    "fig5b": fig5b,
    "fig5-train-time": fig5_train_time,
    "fig5-map-oracle": fig5_map_oracle,
    "fig5-map-hid": fig5_map_hid,
    "fig5-map-offset": fig5_map_offset,
    "fig5-map-phi": fig5_map_phi,
    "fig5-map-groupings": fig5_map_groupings,
    "fig4a-results": fig4a_results,
    "fig4a-trend": fig4a_trend,
    "fig4b": fig4b,
    "fig4b-intervals": fig4b_intervals,
    "hid-vs-oracle": hid_vs_oracle,
    "scaling-n": scaling_n,
    "hid-heterogeneous": hid_heterogeneous,
    "hid-heterogeneous-intervals": hid_heterogeneous_intervals,
    "hid-heterogeneous-scaling": hid_heterogeneous_scaling,
    "dense-control": dense_control,
    "dense-intervals": dense_intervals,
    "dense-recovery": dense_recovery,
    "dense-after-rl-layer": dense_after_rl_layer,
    "generalist-cells": generalist_cells,
    "generalist-random": generalist_random,
    "generalist-specialists": generalist_specialists,
    "generalist-timing": generalist_timing,
    "generalist-sweep": generalist_sweep,
    "generalist-des": generalist_des,
    "generalist-learnt-bound": generalist_learnt_bound,
    "run-times": run_times,
    "es-capacity": lambda: sweep_table("es_capacity", pair="edge.scheduler"),
    "early-handoff": lambda: sweep_table("early_handoff", pair="sim.early_handoff"),
    "downlink": lambda: sweep_table("downlink", pair="channel.downlink"),
}
"""Marker name -> the function that renders its block."""

BLOCK = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)


def render() -> tuple[dict[str, str], dict[str, str]]:
    """Every table that can be rendered, and why each other one cannot."""
    tables, problems = {}, {}
    for name, make in TABLES.items():
        try:
            tables[name] = make()
        except MissingData as err:
            problems[name] = str(err)
    return tables, problems


def write_readme(path: Path, tables: dict[str, str]) -> list[str]:
    """Replace every marked block of ``path`` that has a table; the names it has no block for."""
    text = path.read_text()
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        found.add(name)
        if name not in TABLES:
            raise SystemExit(f"{path}: unknown table marker {name!r}; known: {', '.join(TABLES)}")
        if name not in tables:
            return match[0]
        return f"{match[1]}{tables[name]}\n{match[4]}"

    new = BLOCK.sub(replace, text)
    if new != text:
        path.write_text(new)
    return [name for name in TABLES if name not in found]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help=f"replace the marked tables in {README.relative_to(ROOT)}")
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--results", type=Path, default=readme_data.RESULTS,
                        help="the results directory (default: experiments/results)")
    args = parser.parse_args()
    readme_data.RESULTS = args.results

    tables, problems = render()
    if args.write:
        unmarked = write_readme(args.readme, tables)
        for name in unmarked:
            print(f"note: {args.readme} has no <!-- table:{name} --> block", file=sys.stderr)
        print(f"wrote {len(tables) - len(set(unmarked) & set(tables))} tables into {args.readme}",
              file=sys.stderr)
    else:
        for name in TABLES:
            if name in tables:
                print(f"<!-- table:{name} -->\n{tables[name]}\n<!-- end -->\n")
    for name, problem in problems.items():
        kept = " (left as it was in the README)" if args.write else ""
        print(f"table {name}: {problem}{kept}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
