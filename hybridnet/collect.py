"""Many run directories in one DataFrame: what a study does after its runs.

A run directory (:mod:`hybridnet.rundir`) holds one run; a study holds dozens,
scattered under ``runs/``. :func:`load_runs` finds every run directory under
the paths it is given and stacks them: one row per run from its summary.json
(what ran, and the metrics a sweep's results.csv would hold for it), or one of
its CSVs with every row tagged with its run, so a comparison across runs is
one pandas ``groupby``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from hybridnet.errors import HybridnetError
from hybridnet.metrics import METRICS
from hybridnet.outputs import marker_kind

TABLES = ("summary", "ues", "slots", "events", "groups", "queues")
"""What :func:`load_runs` stacks: summary.json's figures, or one of the run's CSVs."""

RUN_COLUMNS = ("run", "scenario", "policy", "seed", "engine", "slots", "num_ues", "actions")
"""The columns that say which run a row comes from, summary.json's fields."""


def _run_dirs(path: Path) -> list[Path]:
    """``path`` if it is a run directory, else every run directory below it, sorted."""
    if not path.exists():
        raise HybridnetError(f"{path}: no such file or directory")
    if path.is_file() and path.name == "summary.json":
        path = path.parent
    if marker_kind(path) == "run":
        return [path]
    if not path.is_dir():
        raise HybridnetError(f"{path}: not a run directory (written by `hybridnet run`)")
    return sorted(summary.parent for summary in path.rglob("summary.json")
                  if marker_kind(summary.parent) == "run")


def _summary(run: Path) -> dict[str, object]:
    path = run / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
        row: dict[str, object] = {"run": str(run)}
        row.update({name: summary[name] for name in RUN_COLUMNS[1:]})
        row.update({name: summary["metrics"][name] for name in METRICS})
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise HybridnetError(f"{path}: unreadable as a run's summary ({err}); was it written "
                             "by `hybridnet run` of this version?") from None
    return row


def load_runs(paths: str | Path | Iterable[str | Path], table: str = "summary") -> pd.DataFrame:
    """Every run directory in or under ``paths``, as one frame.

    ``table="summary"`` gives one row per run: :data:`RUN_COLUMNS`, then the
    metrics (:data:`~hybridnet.metrics.METRICS`). Any other of :data:`TABLES`
    stacks that CSV of every run, each row prefixed with its run's
    :data:`RUN_COLUMNS`. A path may be a run directory or any directory above
    run directories (searched recursively); runs are in path order, each
    counted once.
    """
    if table not in TABLES:
        raise HybridnetError(f"table '{table}': unknown; allowed: {', '.join(TABLES)}")
    given = [paths] if isinstance(paths, str | Path) else list(paths)
    runs = list(dict.fromkeys(run for path in given for run in _run_dirs(Path(path))))
    if not runs:
        shown = ", ".join(str(p) for p in given) or "no paths"
        raise HybridnetError(f"{shown}: holds no run directory (written by `hybridnet run`)")
    summaries = [_summary(run) for run in runs]
    if table == "summary":
        return pd.DataFrame(summaries)
    frames = []
    for run, summary in zip(runs, summaries, strict=True):
        csv = run / f"{table}.csv"
        try:
            frame = pd.read_csv(csv)
        except (OSError, ValueError) as err:
            raise HybridnetError(f"{csv}: unreadable ({err})") from None
        for i, name in enumerate(RUN_COLUMNS):
            frame.insert(i, name, summary[name])
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
