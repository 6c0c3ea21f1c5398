"""``hybridnet train``: train the HID controller and write its training directory.

The directory holds ``checkpoint.pt`` (weights, resolved scenario, version and
the state needed to resume), ``config.toml``, ``training.csv`` (one row per
episode, with the oracle's reward on the same slots) and ``reward.png``.
Until training finishes it lives in a hidden sibling ``.NAME.partial/NAME``,
checkpointed every ``[train] checkpoint_every`` episodes and on Ctrl-C; only a
finished run is renamed to NAME. ``--resume`` continues the unfinished one (or
extends a finished one to more ``--episodes``).
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import click
from tqdm import tqdm

from hybridnet.api import load_scenario
from hybridnet.cli.common import force_option, set_option
from hybridnet.errors import HybridnetError
from hybridnet.outputs import atomic_write
from hybridnet.rl.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from hybridnet.rl.train import Trainer
from hybridnet.rundir import default_run_dir
from hybridnet.scenario import parse_overrides, to_toml


def _partial(out: Path) -> Path:
    """Where the unfinished run of ``out`` lives."""
    return out.parent / f".{out.name}.partial" / out.name


def _save(trainer: Trainer, work: Path) -> None:
    """Checkpoint and log, each file written atomically."""
    save_checkpoint(work / "checkpoint.pt", Checkpoint.from_trainer(trainer))
    atomic_write(work / "training.csv",
                 lambda tmp: trainer.history_frame().to_csv(tmp, index=False,
                                                            float_format="%.10g"), force=True)
    atomic_write(work / "config.toml",
                 lambda tmp: tmp.write_text(to_toml(trainer.scenario), encoding="utf-8"),
                 force=True)


def _finish(work: Path, out: Path) -> None:
    """Move the finished run into place, replacing an older ``out`` (--force or --resume)."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.replace(old)
    work.replace(out)
    shutil.rmtree(work.parent, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@click.command()
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
@force_option
def train(scenario: Path | None, out: Path | None, episodes: int | None, seed: int | None,
          overrides: tuple[str, ...], resume: bool, force: bool) -> None:
    """Train the HID controller on SCENARIO (default: the paper's configuration).

    Use the result with `hybridnet run SCENARIO --policy OUT/checkpoint.pt`.
    With --resume, SCENARIO and --set may be left out: the run's own scenario is used.
    """
    values = parse_overrides(overrides)
    if episodes is not None:
        values["train.episodes"] = episodes
    if seed is not None:
        values["train.seed"] = seed
    if resume:
        if out is None:
            raise HybridnetError("--resume needs --out, the directory of the run to continue")
        work = _partial(out)
        source = work if (work / "checkpoint.pt").is_file() else out
        if not (source / "checkpoint.pt").is_file():
            raise HybridnetError(f"{out}: nothing to resume (no checkpoint.pt in {out} or {work})")
        checkpoint = load_checkpoint(source / "checkpoint.pt")
        if scenario is None and not overrides and seed is None:
            resolved = checkpoint.scenario.with_values(values)
        else:
            resolved = load_scenario(scenario, values)
        trainer = checkpoint.resume(resolved, str(source))
        if source == out:
            shutil.rmtree(work.parent, ignore_errors=True)
            shutil.copytree(out, work)
    else:
        resolved = load_scenario(scenario, values)
        out = out or default_run_dir(resolved, f"hid-{resolved.train.mode}",
                                     resolved.train.seed)
        work = _partial(out)
        if out.exists() and not force:
            raise HybridnetError(f"{out}: already exists; pass --force to overwrite it "
                                 "or --resume to continue it")
        if work.exists() and not force:
            raise HybridnetError(f"{out}: an interrupted run of it is in {work}; pass --resume "
                                 "to continue it or --force to start again")
        shutil.rmtree(work.parent, ignore_errors=True)
        trainer = Trainer(resolved)
    tr = trainer.scenario.train
    work.mkdir(parents=True, exist_ok=True)

    total = trainer.scenario.train.episodes
    start = time.perf_counter()
    bar = tqdm(total=total, initial=trainer.episodes_done, unit="ep", file=sys.stderr,
               desc=f"training HID ({tr.mode}, {tr.engine})", dynamic_ncols=True, disable=None)

    def on_episode(row: dict[str, float]) -> None:
        recent = trainer.history[-10:]
        bar.update(1)
        bar.set_postfix(reward=f"{sum(r['reward'] for r in recent) / len(recent):+.4f}",
                        oracle=f"{sum(r['oracle_reward'] for r in recent) / len(recent):+.4f}")

    try:
        with bar:
            history = trainer.train(total, on_episode=on_episode,
                                    on_checkpoint=lambda t: _save(t, work))
    except KeyboardInterrupt:
        _save(trainer, work)
        raise HybridnetError(
            f"interrupted after {trainer.episodes_done} of {total} episodes; continue with "
            f"`hybridnet train --out {out} --resume`") from None
    from hybridnet.plots import plot_training

    plot_training([work], work / "reward.png")
    _finish(work, out)
    elapsed = time.perf_counter() - start
    origin = trainer.scenario.source
    tail = history.iloc[-max(1, len(history) // 10):]
    click.echo(
        f"HID ({tr.mode} mode) on {origin}: {len(history)} episodes "
        f"({elapsed:.1f} s this session)\n"
        f"  last {len(tail)} episodes: reward per slot {tail['reward'].mean():+.4f}, "
        f"oracle {tail['oracle_reward'].mean():+.4f} (gap {tail['optimality_gap'].mean():.4f})\n"
        f"  wrote {out}\n"
        f"  evaluate: hybridnet run{f' {origin}' if Path(origin).is_file() else ''} "
        f"--policy {out / 'checkpoint.pt'}"
    )
