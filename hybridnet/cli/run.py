"""``hybridnet run``: simulate a scenario and write its run directory."""

from __future__ import annotations

import time
from pathlib import Path

import click

from hybridnet.api import load_scenario, simulate
from hybridnet.cli.common import force_option, progress_bar, set_option
from hybridnet.policies import POLICY_CHOICES
from hybridnet.rundir import default_run_dir, write_run_dir
from hybridnet.scenario import parse_overrides


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Run directory (default: a fresh folder under runs/).")
@click.option("--policy", help=f"One of {', '.join(POLICY_CHOICES)} "
              "(default: the scenario's sim.policy, hid unless it says otherwise).")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
              help="HID checkpoint for --policy hid (default: train or reuse a cached one).")
@click.option("--slots", type=click.IntRange(min=1), help="Slots to simulate (default: sim.slots).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: sim.seed).")
@click.option("--engine", type=click.Choice(["des", "closed"]), default="des", show_default=True,
              help="des: SimPy network with queues; closed: eq. (1)-(17) directly.")
@click.option("--sample", is_flag=True,
              help="HID draws its actions from its policies instead of acting greedily.")
@click.option("--no-plot", is_flag=True, help="Skip timeline.png.")
@set_option
@force_option
def run(scenario: Path | None, out: Path | None, policy: str | None, checkpoint: Path | None,
        slots: int | None, seed: int | None, engine: str, sample: bool, no_plot: bool,
        overrides: tuple[str, ...], force: bool) -> None:
    """Simulate SCENARIO and write config, traces, summary and a timeline to a run directory.

    Without SCENARIO, the built-in defaults: the paper's configuration (Table I).
    """
    resolved = load_scenario(scenario, parse_overrides(overrides))
    seed = resolved.sim.seed if seed is None else seed
    policy = policy or resolved.sim.policy
    num_slots = resolved.sim.slots if slots is None else slots
    out = out or default_run_dir(resolved, policy, seed)
    if out.exists() and not force:
        raise click.UsageError(f"{out}: already exists; pass --force to overwrite it")
    start = time.perf_counter()
    with progress_bar(num_slots, f"simulating {resolved.network.num_ues} UEs") as tick:
        result = simulate(resolved, policy, seed=seed, slots=num_slots, engine=engine,
                          checkpoint=checkpoint, sample=sample, progress=tick)
    summary = write_run_dir(out, resolved, result, policy, seed, engine, force=force,
                            plot=not no_plot, sample=sample)
    elapsed = time.perf_counter() - start
    per_ue = summary["per_ue"]
    click.echo(
        f"{summary['policy']} on {resolved.source} ({engine}, seed {seed}): "
        f"{summary['slots']} slots x {summary['num_ues']} UEs in {elapsed:.1f} s\n"
        f"  reward per slot {summary['per_slot_reward']['mean']:.4f}   "
        f"QoS per UE {per_ue['qos']['mean']:.4f}\n"
        f"  delay per UE {per_ue['delay_s']['mean']:.4f} s (p95 {per_ue['delay_s']['p95']:.4f} s)"
        f"   waiting {per_ue['t_wait_s']['mean']:.4f} s   "
        f"energy per slot {summary['totals']['energy_j'] / summary['slots']:.3f} J\n"
        f"  wrote {out}"
    )
