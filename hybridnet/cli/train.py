"""``hybridnet train``: train a HID specialist and write its training directory.

``--from-generalist STEPS`` instead trains the shipped generalist further on the
scenario's own slots (:func:`hybridnet.rl.generalist.train.fine_tune`) and writes its
checkpoint, ``config.toml`` and ``tuning.csv``.

A specialist's directory holds ``checkpoint.pt`` (weights, resolved scenario, version and
the state needed to resume), ``config.toml``, ``training.csv`` (one row per
episode, with the oracle's reward on the same slots) and ``reward.png``.
Until training finishes it lives in a hidden sibling ``.NAME.partial/NAME``,
checkpointed every ``[train] checkpoint_every`` episodes and on Ctrl-C; only a
finished run is renamed to NAME. ``--resume`` continues the unfinished one (or
extends a finished one to more ``--episodes``).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import click
import pandas as pd

from hybridnet.api import load_scenario
from hybridnet.cli.common import force_option, set_option
from hybridnet.errors import HybridnetError, Interrupted, SystemFailure, Terminated
from hybridnet.outputs import (
    Claim,
    claim,
    claim_fresh,
    describe_os_error,
    record,
    replace_file,
    write_marker,
)
from hybridnet.outputs.partial import discard_partial, sweep_temporaries
from hybridnet.plots import plot_training
from hybridnet.rl.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from hybridnet.rl.generalist.checkpoint import save_generalist
from hybridnet.rl.generalist.policy import shipped_checkpoint
from hybridnet.rl.generalist.train import check_tunable, fine_tune
from hybridnet.rl.policy import cached_path
from hybridnet.rl.progress import duration_text, episode_progress, expected_training_s
from hybridnet.rl.train import Trainer
from hybridnet.rundir import default_run_dir
from hybridnet.scenario import Scenario, parse_overrides, to_toml


def _fill_cache(scenario: Scenario, checkpoint: Path) -> str:
    """Put the finished controller where ``hybridnet run`` of its scenario looks for one.

    The cache is keyed by the scenario training depends on, so a run of the
    same scenario (any slots, seed or engine) finds this controller instead of
    training the same one again. An entry already there is left as it is: it
    was trained for the same scenario.
    """
    path = cached_path(scenario)
    if path.is_file():
        return f"a controller for this scenario is already cached: {path}"
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, lambda tmp: shutil.copyfile(checkpoint, tmp))
    return f"cached for `hybridnet run` of this scenario: {path}"


def _partial(out: Path) -> Path:
    """Where the unfinished run of ``out`` lives."""
    return out.parent / f".{out.name}.partial" / out.name


def _save(trainer: Trainer, work: Path) -> None:
    """Checkpoint and log, each file written atomically."""
    save_checkpoint(work / "checkpoint.pt", Checkpoint.from_trainer(trainer))
    replace_file(work / "training.csv",
                 lambda tmp: trainer.history_frame().to_csv(tmp, index=False,
                                                            float_format="%.10g"))
    replace_file(work / "config.toml",
                 lambda tmp: tmp.write_text(to_toml(trainer.scenario), encoding="utf-8"))
    record(work, ["checkpoint.pt", "training.csv", "config.toml"], kind="train")


def _start(scenario: Path | None, out: Path | None, values: dict[str, object],
           force: bool) -> tuple[Claim, Trainer]:
    """Claim a new training directory (refusing to lose a finished or interrupted one)."""
    resolved = load_scenario(scenario, values)
    held = (claim(out, kind="train", force=force) if out is not None
            else claim_fresh(default_run_dir(resolved, f"hid-{resolved.train.mode}",
                                             resolved.train.seed), kind="train"))
    try:
        out = held.target
        work = _partial(out)
        if out.exists() and not force:
            raise HybridnetError(f"{out}: already exists; pass --force to overwrite it "
                                 "or --resume to continue it")
        held.check_replaceable(directory=True)
        if (work / "checkpoint.pt").is_file() and not force:
            raise HybridnetError(f"{out}: an interrupted run of it is in {work}; pass --resume "
                                 "to continue it or --force to start again")
        discard_partial(work)  # one that never checkpointed holds nothing to resume
        return held, Trainer(resolved)
    except BaseException:
        held.release()
        raise


def _resume(scenario: Path | None, out: Path | None, values: dict[str, object],
            same_scenario: bool) -> tuple[Claim, Trainer]:
    """Claim the training directory ``out`` and rebuild its trainer where it stopped."""
    if out is None:
        raise HybridnetError("--resume needs --out, the directory of the run to continue")
    held = claim(out, kind="train")
    try:
        work = _partial(out)
        source = work if (work / "checkpoint.pt").is_file() else out
        if not (source / "checkpoint.pt").is_file():
            raise HybridnetError(f"{out}: nothing to resume (no checkpoint.pt in {out} or {work})")
        checkpoint = load_checkpoint(source / "checkpoint.pt")
        resolved = (checkpoint.scenario.with_values(values) if same_scenario
                    else load_scenario(scenario, values))
        trainer = checkpoint.resume(resolved, str(source))
        wanted = trainer.scenario.train.episodes
        if source == out and trainer.episodes_done >= wanted:
            raise HybridnetError(
                f"{out}: already trained for {trainer.episodes_done} episodes; to extend it "
                f"pass --episodes above {trainer.episodes_done} (not {wanted})")
        if source == out:
            discard_partial(work)
            shutil.copytree(out, work)
        return held, trainer
    except BaseException:
        held.release()
        raise


@click.command(short_help="Train the HID controller (and cache it).")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Training directory (default: a fresh folder under runs/).")
@click.option("--episodes", type=click.IntRange(min=1),
              help="Training episodes (default: train.episodes).")
@click.option("--seed", type=click.IntRange(min=0), help="Root seed of training "
              "(default: train.seed).")
@set_option
@click.option("--resume", is_flag=True,
              help="Continue the interrupted (or extend the finished) run in --out.")
@click.option("--from-generalist", "tune_steps", type=click.IntRange(min=1), default=None,
              metavar="STEPS", help="Instead of training a specialist from scratch, train the "
              "shipped generalist further on SCENARIO's own slots for STEPS steps (e.g. 300).")
@force_option
def train(scenario: Path | None, out: Path | None, episodes: int | None, seed: int | None,
          overrides: tuple[str, ...], resume: bool, tune_steps: int | None,
          force: bool) -> None:
    """Train a HID specialist on SCENARIO (default: the paper's configuration).

    `--policy hid` runs the shipped generalist, which needs no training; a
    specialist is trained for one scenario. Use it with `hybridnet run SCENARIO
    --policy OUT/checkpoint.pt`; it is also cached, so `hybridnet run SCENARIO
    --set train.controller=specialist` (same scenario) finds it. With --resume,
    SCENARIO and --set may be left out: the run's own scenario is used. On a
    GPU: --set train.device=auto trains on it where torch sees one (a CUDA
    build of torch; the CPU build is the default install), else on the CPU.
    """
    values = parse_overrides(overrides)
    if episodes is not None:
        values["train.episodes"] = episodes
    if seed is not None:
        values["train.seed"] = seed
    if tune_steps is not None:
        if resume or episodes is not None:
            raise HybridnetError("--from-generalist takes neither --resume nor --episodes: "
                                 "it trains STEPS steps in one go")
        fine_tune_command(scenario, out, values, tune_steps, force)
        return
    if resume:
        same_scenario = scenario is None and not overrides and seed is None
        held, trainer = _resume(scenario, out, values, same_scenario)
    else:
        held, trainer = _start(scenario, out, values, force)
    try:
        _train(held, trainer)
    finally:
        held.release()


def fine_tune_command(scenario: Path | None, out: Path | None, values: dict[str, object],
                      steps: int, force: bool) -> None:
    """``--from-generalist``: the shipped generalist trained further on SCENARIO, written as
    OUT/checkpoint.pt (a generalist checkpoint), config.toml and tuning.csv."""
    resolved = load_scenario(scenario, values)
    check_tunable(resolved)
    held = (claim(out, kind="train", force=force) if out is not None
            else claim_fresh(default_run_dir(resolved, "hid-tuned", resolved.train.seed),
                             kind="train"))
    try:
        target = held.target
        if target.exists() and not force:
            raise HybridnetError(f"{target}: already exists; pass --force to overwrite it")
        held.check_replaceable(directory=True)
        work = _partial(target)
        discard_partial(work)
        work.mkdir(parents=True)
        write_marker(work, "train")
        start = time.perf_counter()
        click.echo(f"fine-tuning the shipped generalist on {resolved.source} for {steps} "
                   "steps", err=True)
        tuned = fine_tune(resolved, shipped_checkpoint(), steps, seed=resolved.train.seed)
        save_generalist(work / "checkpoint.pt", tuned)
        replace_file(work / "tuning.csv", lambda tmp: pd.DataFrame(tuned.history).to_csv(
            tmp, index=False, float_format="%.10g"))
        replace_file(work / "config.toml",
                     lambda tmp: tmp.write_text(to_toml(resolved), encoding="utf-8"))
        record(work, ["checkpoint.pt", "tuning.csv", "config.toml"], kind="train")
        held.install(work)
        shutil.rmtree(work.parent, ignore_errors=True)
    finally:
        held.release()
    origin = resolved.source
    click.echo(f"generalist fine-tuned on {origin}: {steps} steps "
               f"({time.perf_counter() - start:.1f} s)\n  wrote {target}\n"
               f"  evaluate: hybridnet run{f' {origin}' if Path(origin).is_file() else ''} "
               f"--policy {target / 'checkpoint.pt'}")


def _train(held: Claim, trainer: Trainer) -> None:
    """Train in the hidden work directory, checkpointing; install it as ``out`` when done."""
    out = held.target
    work = _partial(out)
    tr = trainer.scenario.train
    work.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(work)
    write_marker(work, "train")

    total = trainer.scenario.train.episodes
    start = time.perf_counter()
    resumed_from_out = out.is_dir() and (out / "checkpoint.pt").is_file() and not held.force
    left_s = expected_training_s(trainer.scenario) * (1 - trainer.episodes_done / total)
    click.echo(f"training {total - trainer.episodes_done} episodes: expected about "
               f"{duration_text(left_s)} on 2 cores", err=True)
    try:
        with episode_progress(total, f"training HID ({tr.mode}, {tr.engine})",
                              initial=trainer.episodes_done) as on_episode:
            history = trainer.train(total, on_episode=on_episode,
                                    on_checkpoint=lambda t: _save(t, work))
    except Exception as err:
        # Nothing checkpointed yet: there is nothing to resume, so nothing is kept.
        if not (work / "checkpoint.pt").is_file():
            shutil.rmtree(work.parent, ignore_errors=True)
        if isinstance(err, OSError):
            raise SystemFailure(describe_os_error(err, work)) from None
        raise
    except KeyboardInterrupt as stop:
        _save(trainer, work)
        raise Interrupted(
            f"{'terminated' if isinstance(stop, Terminated) else 'interrupted'} after "
            f"{trainer.episodes_done} of {total} episodes, saved in {work}; continue with "
            f"`hybridnet train --out {out} --resume`",
            terminated=isinstance(stop, Terminated)) from None
    plot_training([work], work / "reward.png")
    record(work, ["reward.png"], kind="train")
    held.install(work, holds_target=resumed_from_out)
    shutil.rmtree(work.parent, ignore_errors=True)
    cached = _fill_cache(trainer.scenario, out / "checkpoint.pt")
    elapsed = time.perf_counter() - start
    origin = trainer.scenario.source
    tail = history.iloc[-max(1, len(history) // 10):]
    click.echo(
        f"HID ({tr.mode} mode) on {origin}: {len(history)} episodes "
        f"({elapsed:.1f} s this session)\n"
        f"  last {len(tail)} episodes: reward per slot {tail['reward'].mean():+.4f}, "
        f"oracle {tail['oracle_reward'].mean():+.4f} (gap {tail['optimality_gap'].mean():.4f})\n"
        f"  wrote {out}\n"
        f"  {cached}\n"
        f"  evaluate: hybridnet run{f' {origin}' if Path(origin).is_file() else ''} "
        f"--policy {out / 'checkpoint.pt'}"
    )
