"""``hybridnet plot``: figures from run directories."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from hybridnet.cli.common import force_option, parse_range
from hybridnet.errors import HybridnetError
from hybridnet.outputs import atomic_write


@click.group()
def plot() -> None:
    """Draw figures from run, training and sweep outputs."""


def _read(run_dir: Path, name: str) -> pd.DataFrame:
    path = run_dir / name
    if not path.is_file():
        raise HybridnetError(f"{path}: missing; is {run_dir} a run directory of `hybridnet run`?")
    return pd.read_csv(path)


@plot.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--ues", "ue_text", default="0-19", show_default=True, help="UEs, e.g. 0-9 or 0,3,7.")
@click.option("--slots", "slot_text", default="0-2", show_default=True, help="Slots, e.g. 0-2.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="PNG to write (default: RUN_DIR/timeline-<ues>-<slots>.png).")
@force_option
def timeline(run_dir: Path, ue_text: str, slot_text: str, out: Path | None, force: bool) -> None:
    """Per-UE Gantt chart of common, ES, downlink, UE phases and waiting."""
    from hybridnet.plots import plot_timeline

    ues = _read(run_dir, "ues.csv")
    events = _read(run_dir, "events.csv")
    ue_ids = [u for u in parse_range(ue_text, "--ues") or [] if u in set(ues["ue"])]
    slot_ids = [s for s in parse_range(slot_text, "--slots") or [] if s in set(ues["slot"])]
    if not ue_ids or not slot_ids:
        raise HybridnetError(
            f"{run_dir}: --ues {ue_text} / --slots {slot_text} select nothing; the run has UEs "
            f"0-{ues['ue'].max()} and slots 0-{ues['slot'].max()}"
        )
    out = out or run_dir / f"timeline-ues{ue_text}-slots{slot_text}.png".replace(",", "_")
    atomic_write(out, lambda tmp: plot_timeline(events, ues, tmp, ue_ids, slot_ids), force=force)
    click.echo(f"wrote {out}")
