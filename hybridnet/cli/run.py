"""``hybridnet run``: simulate a scenario and write its run directory."""

from __future__ import annotations

import shlex
import time
from pathlib import Path

import click

from hybridnet.api import load_scenario, simulate
from hybridnet.cli.common import force_option, progress_bar, set_option
from hybridnet.outputs import claim, claim_fresh
from hybridnet.registry import ENGINES, POLICIES
from hybridnet.rundir import (
    default_run_dir,
    effective_scenario,
    recorded_policy_name,
    write_run_dir,
)
from hybridnet.scenario import parse_overrides


@click.command(short_help="Simulate a scenario into a run directory.")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Run directory (default: a fresh folder under runs/).")
@click.option("--policy", help=f"One of {', '.join(POLICIES)} "
              "(default: the scenario's sim.policy, hid unless it says otherwise).")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
              help="HID checkpoint for --policy hid (default: train or reuse a cached one).")
@click.option("--slots", type=click.IntRange(min=1), help="Slots to simulate (default: sim.slots).")
@click.option("--seed", type=click.IntRange(min=0), help="Random seed (default: sim.seed).")
@click.option("--engine", type=click.Choice(ENGINES),
              help="des: SimPy network with queues; closed: eq. (1)-(17) directly "
              "(default: the scenario's sim.engine, des unless it says otherwise).")
@click.option("--sample", is_flag=True,
              help="HID draws its actions from its policies instead of acting greedily.")
@click.option("--no-plot", is_flag=True, help="Skip the figures (timeline.png, backlog.png).")
@set_option
@force_option
def run(scenario: Path | None, out: Path | None, policy: str | None, checkpoint: Path | None,
        slots: int | None, seed: int | None, engine: str | None, sample: bool, no_plot: bool,
        overrides: tuple[str, ...], force: bool) -> None:
    """Simulate SCENARIO and write config, traces, summary and a timeline to a run directory.

    Without SCENARIO, the built-in defaults: the paper's configuration (Table I).
    The run's config.toml records every key, the slots, seed, policy and engine
    included: `hybridnet run RUN/config.toml` reproduces it.
    """
    loaded = load_scenario(scenario, parse_overrides(overrides))
    policy = loaded.sim.policy if policy is None else policy
    sample = sample or loaded.sim.sample
    recorded_policy = recorded_policy_name(policy, checkpoint)
    resolved = effective_scenario(
        loaded, policy=recorded_policy, seed=loaded.sim.seed if seed is None else seed,
        slots=loaded.sim.slots if slots is None else slots,
        engine=loaded.sim.engine if engine is None else engine, sample=sample)
    sim = resolved.sim
    origin = loaded.origin if loaded.origin and not overrides and resolved == loaded else \
        _command_line(scenario, policy, checkpoint, slots, seed, engine, sample, overrides)
    held = (claim(out, kind="run", force=force) if out is not None
            else claim_fresh(default_run_dir(resolved, policy, sim.seed), kind="run"))
    try:
        held.check_replaceable(directory=True)
        start = time.perf_counter()
        with progress_bar(sim.slots, f"simulating {resolved.network.num_ues} UEs") as tick:
            result = simulate(resolved, policy, seed=sim.seed, slots=sim.slots,
                              engine=sim.engine, checkpoint=checkpoint, sample=sample,
                              progress=tick)
        summary = write_run_dir(held, resolved, result, recorded_policy, sim.seed, sim.engine,
                                plot=not no_plot, sample=sample, origin=origin)
    finally:
        held.release()
    elapsed = time.perf_counter() - start
    per_ue = summary["per_ue"]
    click.echo(
        f"{summary['policy']} on {resolved.source} ({sim.engine}, seed {sim.seed}): "
        f"{summary['slots']} slots x {summary['num_ues']} UEs in {elapsed:.1f} s\n"
        f"  reward per slot {summary['per_slot_reward']['mean']:.4f}   "
        f"QoS per UE {per_ue['qos']['mean']:.4f}\n"
        f"  delay per UE {per_ue['delay_s']['mean']:.4f} s (p95 {per_ue['delay_s']['p95']:.4f} s)"
        f"   waiting {per_ue['t_wait_s']['mean']:.4f} s   "
        f"energy per slot {summary['totals']['energy_j'] / summary['slots']:.3f} J\n"
        f"  wrote {held.target}"
    )


def _command_line(scenario: Path | None, policy: str, checkpoint: Path | None,
                  slots: int | None, seed: int | None, engine: str | None, sample: bool,
                  overrides: tuple[str, ...]) -> str:
    """The scenario and the flags that shaped the run, as one shell-quoted line."""
    words = [str(scenario) if scenario is not None else "defaults", "--policy", policy]
    for flag, value in (("--checkpoint", checkpoint), ("--slots", slots), ("--seed", seed),
                        ("--engine", engine)):
        if value is not None:
            words += [flag, str(value)]
    if sample:
        words.append("--sample")
    for item in overrides:
        words += ["--set", item]
    return shlex.join(words)
