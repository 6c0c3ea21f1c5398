"""``hybridnet plot``: figures from run, sweep and training directories."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from pathlib import Path

import click
import pandas as pd

from hybridnet.cli.common import force_option, parse_spans, select_ids
from hybridnet.errors import HybridnetError
from hybridnet.outputs import figure_signature, write_output
from hybridnet.plots import (
    SCHEME_METRICS,
    plot_backlog,
    plot_schemes,
    plot_sweep,
    plot_timeline,
    plot_training,
)
from hybridnet.rundir import read_run_table
from hybridnet.sweep import read_results
from hybridnet.tables import read_table

MAX_TIMELINE_BARS = 5_000
"""The most (UE, slot) rows one timeline draws: beyond, the bars are thinner than a pixel."""


def _write_figure(out: Path | None, default: Path, draw: Callable[[Path], object],
                  force: bool) -> Path:
    """Draw to ``out``, or to ``default``, which a figure hybridnet drew there is redrawn at.

    A figure at its default path is derived from the directory's CSVs (the run's
    own backlog.png, the same command run twice): redrawing it loses nothing, so
    it needs no --force. Any other existing file does, and --force still replaces
    only a figure hybridnet drew.
    """
    target = default if out is None else out
    write_output(target, draw, kind="figure", force=force or out is None,
                 signature=figure_signature)
    return target


def _selection(text: str, what: str, available: pd.Series, run_dir: Path
               ) -> tuple[list[int], str | None]:
    """The ids ``text`` selects among ``available``, and a note naming those the run lacks:
    a selection is told when it is cut, never clipped silently.

    The spans are walked lazily, so 0-999999999 costs what the run holds, not a
    billion ids.
    """
    kept = select_ids(text, what, available)
    present = set(kept)
    asked = (i for lo, hi in _merged(parse_spans(text, what)) for i in range(lo, hi + 1))
    missing = list(islice((i for i in asked if i not in present), 5))
    if not missing:
        return kept, None
    more = sum(hi - lo + 1 for lo, hi in _merged(parse_spans(text, what))) - len(kept)
    shown = ", ".join(map(str, missing)) + (" ..." if more > len(missing) else "")
    return kept, (f"{what} {text}: {run_dir} has no {shown} (it has {available.min()}-"
                  f"{available.max()}); drawing the {len(kept)} it has")


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping or touching spans joined, so that counting their ids counts each once."""
    joined: list[tuple[int, int]] = []
    for lo, hi in sorted(spans):
        if joined and lo <= joined[-1][1] + 1:
            joined[-1] = (joined[-1][0], max(hi, joined[-1][1]))
        else:
            joined.append((lo, hi))
    return joined


@click.group()
def plot() -> None:
    """Draw figures from run, training and sweep outputs."""


_read = read_run_table


@plot.command(short_help="Per-UE Gantt chart of a run's phases and waiting.")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--ues", "ue_text", default="0-19", show_default=True, help="UEs, e.g. 0-9 or 0,3,7.")
@click.option("--slots", "slot_text", default="0-2", show_default=True, help="Slots, e.g. 0-2.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="PNG to write (default: RUN_DIR/timeline-<ues>-<slots>.png).")
@force_option
def timeline(run_dir: Path, ue_text: str, slot_text: str, out: Path | None, force: bool) -> None:
    """Per-UE Gantt chart of common, ES, downlink, UE phases and waiting."""
    ues = _read(run_dir, "ues.csv")
    events = _read(run_dir, "events.csv")
    ue_ids, ue_note = _selection(ue_text, "--ues", ues["ue"], run_dir)
    slot_ids, slot_note = _selection(slot_text, "--slots", ues["slot"], run_dir)
    if not ue_ids or not slot_ids:
        raise HybridnetError(
            f"{run_dir}: --ues {ue_text} / --slots {slot_text} select nothing; the run has UEs "
            f"0-{ues['ue'].max()} and slots 0-{ues['slot'].max()}"
        )
    if len(ue_ids) * len(slot_ids) > MAX_TIMELINE_BARS:
        raise HybridnetError(
            f"--ues {ue_text} / --slots {slot_text} select {len(ue_ids):,} UEs x "
            f"{len(slot_ids):,} slots; a timeline draws at most {MAX_TIMELINE_BARS:,} "
            "(UE, slot) rows legibly: choose fewer")
    for note in (ue_note, slot_note):
        if note:
            click.echo(note, err=True)
    starts = None
    if (run_dir / "queues.csv").is_file():
        queues = _read(run_dir, "queues.csv")
        starts = dict(queues[["slot", "t_s"]].itertuples(index=False))
    default = run_dir / f"timeline-ues{ue_text}-slots{slot_text}.png".replace(",", "_")
    out = _write_figure(out, default,
                        lambda tmp: plot_timeline(events, ues, tmp, ue_ids, slot_ids,
                                                  slot_starts_s=starts), force)
    click.echo(f"wrote {out}")


@plot.command(short_help="A run's queues at every decision epoch.")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="PNG to write (default: RUN_DIR/backlog.png, redrawn in place).")
@force_option
def backlog(run_dir: Path, out: Path | None, force: bool) -> None:
    """ES backlog, UE backlog distribution and downlink load at every decision epoch."""
    queues = _read(run_dir, "queues.csv")
    ues = _read(run_dir, "ues.csv")
    out = _write_figure(out, run_dir / "backlog.png",
                        lambda tmp: plot_backlog(queues, ues, tmp, title=run_dir.name), force)
    click.echo(f"wrote {out}")


_PNG = click.Path(dir_okay=False, path_type=Path)


@plot.command(name="sweep", short_help="A sweep's metric against a grid key, 95 % CI.")
@click.argument("sweep_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--x", "x", required=True, help="Grid key on the x axis, e.g. network.num_ues.")
@click.option("--y", "y", default="reward", show_default=True,
              help="Metric column of results.csv, e.g. reward, qos, delay_s, energy_j, t_wait_s.")
@click.option("--hue", help="Second grid key: one line per value.")
@click.option("--out", type=_PNG, help="PNG to write (default: DIR/<y>-vs-<x>[-by-<hue>].png).")
@force_option
def sweep_figure(sweep_dir: Path, x: str, y: str, hue: str | None, out: Path | None,
                 force: bool) -> None:
    """A metric of a `hybridnet sweep` against a grid key, mean and 95 % CI over seeds."""
    frame = read_results(sweep_dir)
    for option, key in (("--x", x), ("--y", y), ("--hue", hue)):
        if key is not None and key not in frame.columns:  # before it names a file
            raise HybridnetError(f"{option} {key[:60]!r}: not a column of "
                                 f"{sweep_dir / 'results.csv'}; it has "
                                 f"{', '.join(map(str, frame.columns))}")
    name = f"{y}-vs-{x}" + (f"-by-{hue}" if hue else "")
    out = _write_figure(out, sweep_dir / f"{name}.png",
                        lambda tmp: plot_sweep(frame, x, y, tmp, hue=hue), force)
    click.echo(f"wrote {out}")


@plot.command(short_help="Training reward curves of train runs overlaid.")
@click.argument("run_dirs", nargs=-1, required=True,
                type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=_PNG,
              help="PNG to write (default: DIR/training-reward.png for one DIR, else "
                   "./training-reward.png).")
@force_option
def training(run_dirs: tuple[Path, ...], out: Path | None, force: bool) -> None:
    """Reward curves of `hybridnet train` runs overlaid, each with its oracle reward."""
    name = "training-reward.png"
    out = _write_figure(out, run_dirs[0] / name if len(run_dirs) == 1 else Path(name),
                        lambda tmp: plot_training(list(run_dirs), tmp), force)
    click.echo(f"wrote {out}")


@plot.command(short_help="QoS, delay, energy per prompt scheme (Fig. 5b).")
@click.argument("csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=_PNG, help="PNG to write (default: schemes.png beside CSV).")
@force_option
def schemes(csv: Path, out: Path | None, force: bool) -> None:
    """Bars of normalised QoS, delay and energy per prompt scheme, as in Fig. 5(b).

    CSV has columns scheme (or prompts.scheme: the results.csv of a sweep over
    the schemes), qos, delay_s and energy_j.
    """
    frame = read_table(csv, numeric=list(SCHEME_METRICS),
                       hint="CSV has columns scheme (or prompts.scheme), qos, delay_s and "
                            "energy_j", keep_default_na=False, na_values=[""])
    out = _write_figure(out, csv.with_name("schemes.png"),
                        lambda tmp: plot_schemes(frame, tmp), force)
    click.echo(f"wrote {out}")
