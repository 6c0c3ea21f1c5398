"""``hybridnet sweep``: run a parameter grid x seeds on Dask, one results.csv row per cell."""

from __future__ import annotations

import re
from pathlib import Path

import click
from tqdm import tqdm

from hybridnet.cli.common import force_option, set_option
from hybridnet.errors import SystemFailure
from hybridnet.outputs import claimed
from hybridnet.registry import ENGINES, POLICIES
from hybridnet.scenario import parse_overrides, read_scenario
from hybridnet.sweep import (
    CONNECT_TIMEOUT_S,
    GRID_HELP,
    KIND,
    check_scheduler,
    parse_grid,
    plan_sweep,
    run_sweep,
    settle_plan,
)
from hybridnet.sweep.grid import MAX_CELLS
from hybridnet.sweep.plan import SweepPlan


def default_sweep_dir(scenario: Path, grid_keys: list[str], policy: str, engine: str) -> Path:
    """``sweeps/{scenario}__{keys}__{policy}__{engine}``: the same command finds the same folder.

    Not time-stamped, unlike run directories, so that rerunning a command
    resumes its sweep instead of starting another.
    """
    name = "__".join([scenario.stem, "+".join(grid_keys), policy, engine])
    return Path("sweeps") / re.sub(r"[^A-Za-z0-9_.+-]+", "-", name)


@click.command(short_help="Run a parameter grid x seeds on Dask.")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--grid", "grid_items", multiple=True, required=True, metavar="KEY=V1,V2,...",
              help=f"A scenario key and its values (repeat for more keys): {GRID_HELP}.")
@click.option("--policy", help=f"One of {', '.join(POLICIES)} "
              "(default: the scenario's sim.policy).")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
              help="HID checkpoint for --policy hid, a path every worker can read.")
@click.option("--slots", type=click.IntRange(min=1),
              help="Slots per cell (default: sim.slots; a grid over sim.slots wins).")
@click.option("--seeds", type=click.IntRange(min=1, max=MAX_CELLS), default=1, show_default=True,
              help="Seeds per grid cell: sim.seed, sim.seed + 1, ...")
@click.option("--engine", type=click.Choice(ENGINES),
              help="des: SimPy network with queues; closed: eq. (1)-(17) directly "
              "(default: the scenario's sim.engine).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Sweep directory (default: sweeps/SCENARIO__KEYS__POLICY__ENGINE).")
@click.option("--scheduler", envvar="DASK_SCHEDULER_ADDRESS", metavar="ADDRESS",
              help="A running Dask scheduler, e.g. tcp://10.0.0.5:8786 [env "
                   "DASK_SCHEDULER_ADDRESS; default: an embedded local cluster].")
@click.option("--connect-timeout", type=click.FloatRange(min=0, min_open=True),
              default=CONNECT_TIMEOUT_S, show_default=True, metavar="SECONDS",
              help="How long to try reaching --scheduler before giving up.")
@click.option("--workers", type=click.IntRange(min=1),
              help="Worker processes of the embedded cluster [default: one per CPU].")
@set_option
@force_option
def sweep(scenario: Path, grid_items: tuple[str, ...], policy: str | None, checkpoint: Path | None,
          slots: int | None, seeds: int, engine: str | None, out: Path | None,
          scheduler: str | None, connect_timeout: float, workers: int | None,
          overrides: tuple[str, ...], force: bool) -> None:
    """Simulate every combination of --grid values x --seeds on Dask, into DIR/results.csv.

    Each finished cell is appended to results.csv at once; rerunning the command
    skips the cells already done and retries failed ones, each cell keeping one
    row. One sweep writes a directory at a time. With --policy hid every cell
    runs the shipped generalist, without training; with --set
    train.controller=specialist each grid cell trains its own controller (or
    finds it cached, see HYBRIDNET_CACHE), and its rows add the converged
    training reward (last 40 % of the episodes).
    Fig. 4(a)'s reward weights in one command:

    \b
        hybridnet sweep scenarios/paper.toml --policy oracle --seeds 5 \\
        --grid 'reward.weights=[0.2,0.4,0.4];[0.4,0.3,0.3];'\\
        '[0.6,0.2,0.2];[0.8,0.1,0.1]'
    """
    values = parse_overrides(overrides)
    if slots is not None:
        values["sim.slots"] = slots
    base = read_scenario(scenario, values)
    policy = base.sim.policy if policy is None else policy
    engine = engine or base.sim.engine
    grid = parse_grid(grid_items)
    out = out or default_sweep_dir(scenario, list(grid), policy, engine)
    # Every check that needs no lock comes first, so a mistake leaves nothing behind.
    plan = plan_sweep(base, grid, out, policy=policy, engine=engine,
                      seeds=range(base.sim.seed, base.sim.seed + seeds),
                      checkpoint=checkpoint, force=force)
    if scheduler:
        check_scheduler(scheduler, connect_timeout)
    with claimed(out, kind=KIND, force=force) as held:
        plan = settle_plan(plan, held)
        _announce_training(plan)
        where = scheduler or f"a local cluster of {workers or 'one per CPU'} worker processes"
        click.echo(f"{len(plan.cells)} runs ({len(plan.cells) // seeds} grid cells x {seeds} "
                   f"seed{'s' if seeds > 1 else ''}): {len(plan.cells) - len(plan.pending)} "
                   f"done, {len(plan.pending)} to run" + (f" on {where}" if plan.pending else ""))
        with tqdm(total=len(plan.pending), desc="sweep", unit="cell", disable=None, leave=False,
                  dynamic_ncols=True) as bar:
            def advance(row: dict[str, str]) -> None:
                if row["error"]:
                    tqdm.write(f"  failed: {row['error']}")
                bar.update(1)

            report = run_sweep(plan, scheduler=scheduler, workers=workers, on_row=advance,
                               held=held, connect_timeout=connect_timeout)
    click.echo(f"wrote {report.ran} row{'s' if report.ran != 1 else ''} to {report.results}: "
               f"{report.succeeded} succeeded, {report.failed} failed")
    if report.failed:
        raise SystemFailure(
            f"{report.failed} of {report.ran} runs failed; their errors are in the error column "
            f"of {report.results}; rerun the command to retry them"
        )


def _announce_training(plan: SweepPlan) -> None:
    """Say how many HID controllers the pending cells will train, before they start."""
    if plan.policy != "hid" or plan.checkpoint is not None or not plan.pending:
        return
    from hybridnet.model.reference import resolve_references
    from hybridnet.rl.progress import untrained_notice

    notice = untrained_notice([resolve_references(plan.scenario.with_values(cell.overrides))
                               for cell in plan.pending], "the grid cells")
    if notice:
        click.echo(notice, err=True)
