"""``hybridnet compare``: several policies on the same seeds, one table and one figure."""

from __future__ import annotations

import time
from pathlib import Path

import click

from hybridnet.cli.common import force_option, set_option
from hybridnet.outputs import claim, claim_fresh
from hybridnet.registry import ENGINES
from hybridnet.scenario import parse_overrides, read_scenario
from hybridnet.sweep.compare import (
    FIGURE,
    KIND,
    RUNS,
    TABLE,
    compare_table,
    default_compare_dir,
    format_table,
    plan_compare,
    run_compare,
    write_compare,
)
from hybridnet.sweep.run import CONNECT_TIMEOUT_S, check_scheduler


@click.command(short_help="Compare policies on the same seeds: table, figure, CSV.")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--policy", "policies", multiple=True, required=True, metavar="POLICY",
              help="A policy to compare; repeat it (--policy oracle --policy fixed:5,0). "
              "Any name `run --policy` takes.")
@click.option("--baseline", metavar="POLICY",
              help="The policy the others are differenced against (default: the first).")
@click.option("--seeds", type=click.IntRange(min=2), default=5, show_default=True,
              help="Seeds per policy: sim.seed, sim.seed + 1, ...")
@click.option("--slots", type=click.IntRange(min=1), help="Slots per run (default: sim.slots).")
@click.option("--engine", type=click.Choice(ENGINES),
              help="des or closed (default: the scenario's sim.engine).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Output directory (default: a fresh folder under comparisons/).")
@click.option("--workers", type=click.IntRange(min=1),
              help="Run on an embedded Dask cluster of this many processes "
              "[default: in this process].")
@click.option("--scheduler", metavar="ADDRESS",
              help="Run on the Dask scheduler at ADDRESS, e.g. tcp://10.0.0.5:8786.")
@click.option("--no-plot", is_flag=True, help=f"Skip {FIGURE}.")
@set_option
@force_option
def compare(scenario: Path, policies: tuple[str, ...], baseline: str | None, seeds: int,
            slots: int | None, engine: str | None, out: Path | None, workers: int | None,
            scheduler: str | None, no_plot: bool, overrides: tuple[str, ...],
            force: bool) -> None:
    """Simulate each --policy on the same --seeds of SCENARIO and compare them.

    Under one seed every policy faces the same slots (arrivals, channels, UE
    frequencies, prompts), so each policy's difference to --baseline is paired
    seed by seed. Writes runs.csv (one row per policy and seed), table.csv
    (mean and 95 % Student-t interval over seeds of reward, QoS, delay, energy
    and waiting, and the paired differences), compare.toml and compare.png.

    \b
        hybridnet compare scenarios/paper.toml --policy oracle --policy fluid \\
            --policy fixed:5,0 --policy random --seeds 5
    """
    values = parse_overrides(overrides)
    if slots is not None:
        values["sim.slots"] = slots
    base = read_scenario(scenario, values)
    plan = plan_compare(base, policies, range(base.sim.seed, base.sim.seed + seeds),
                        engine=engine or base.sim.engine, baseline=baseline)
    if scheduler:
        check_scheduler(scheduler, CONNECT_TIMEOUT_S)
    held = (claim(out, kind=KIND, force=force) if out is not None
            else claim_fresh(default_compare_dir(scenario), kind=KIND))
    try:
        held.check_replaceable(directory=True)
        where = (scheduler or f"a local Dask cluster of {workers} worker processes"
                 if scheduler or workers else "this process")
        click.echo(f"{len(plan.runs)} runs ({len(policies)} policies x {seeds} seeds) "
                   f"on {where}", err=True)
        start = time.perf_counter()
        done = 0

        def tell(policy: str, seed: int) -> None:
            nonlocal done
            done += 1
            click.echo(f"  [{done}/{len(plan.runs)}] {policy}, seed {seed} "
                       f"({time.perf_counter() - start:.0f} s)", err=True)

        runs = run_compare(plan, scheduler=scheduler, workers=workers, on_run=tell)
        table = compare_table(runs, plan.baseline)
        target = write_compare(held, plan, runs, table, plot=not no_plot)
    finally:
        held.release()
    click.echo(format_table(table))
    click.echo(f"wrote {target}/{{{RUNS},{TABLE}"
               + ("" if no_plot else f",{FIGURE}") + f"}} in {time.perf_counter() - start:.1f} s")
