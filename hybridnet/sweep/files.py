"""The files of a sweep directory: results.csv and sweep.toml, their layout and reading them.

results.csv is appended to by one process while anyone may read it, and a
crash can cut its last row short: every reader here leaves out a row after the
last newline, and rows never span lines (errors are written on one).
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hybridnet.errors import HybridnetError
from hybridnet.metrics import METRICS
from hybridnet.outputs import MARKER, marker_kind
from hybridnet.scenario import from_dict, to_dict
from hybridnet.scenario.limits import loads
from hybridnet.sweep.cell import TRAINING_METRICS, trains_hid
from hybridnet.sweep.grid import Cell, value_text

RESULTS = "results.csv"
SETTINGS = "sweep.toml"
KIND = "sweep"
"""The kind of output a sweep directory is, in its marker and its claim."""

RUN_COLUMNS = ("seed", "policy", "engine", "slots")
TAIL_COLUMNS = ("elapsed_s", "error")


def metric_names(policy: str) -> tuple[str, ...]:
    """The numbers a cell of ``policy`` reports: the METRICS, a HID controller's training too."""
    return (*METRICS, *(TRAINING_METRICS if trains_hid(policy) else ()))


def result_columns(grid_keys: Sequence[str], policy: str) -> tuple[str, ...]:
    """results.csv's header: the grid keys, the run, the metrics of ``policy``'s cells
    (:func:`metric_names`), the time taken and the error."""
    return (*grid_keys, *RUN_COLUMNS, *metric_names(policy), *TAIL_COLUMNS)


def one_line(err: BaseException) -> str:
    """An exception as one line: the message a failed cell or a bad file is reported by."""
    return " ".join(str(err).split()) or type(err).__name__


def check_out(out: Path) -> None:
    """Refuse an ``out`` that is neither new, nor empty, nor a sweep hybridnet wrote.

    A sweep writes results.csv, sweep.toml and its marker into ``out``: never
    into a directory of the user's or another kind of hybridnet output,
    ``--force`` or not.
    """
    if out.exists() and not out.is_dir():
        raise HybridnetError(f"{out}: exists and is not a directory; choose another --out")
    if not out.is_dir() or not any(out.iterdir()):
        return
    kind = marker_kind(out)
    if kind is None:
        raise HybridnetError(
            f"{out}: not a sweep directory (no {MARKER} marker, nor {RESULTS} with {SETTINGS}); "
            "a sweep writes only into a new or empty directory or one of its own: choose "
            "another --out"
        )
    if kind != KIND:
        raise HybridnetError(f"{out}: holds a hybridnet {kind} output, not a sweep; choose "
                             "another --out")


def _migrated(scenario: dict[str, Any]) -> dict[str, Any]:
    """A recorded base scenario of a ``hid`` sweep as this version reads it: one written
    before ``[train] controller`` existed ran ``hid`` as a controller trained for each
    cell, which is ``controller = "specialist"`` now (its default, "auto", runs the
    shipped generalist). Other policies never read the key."""
    train = scenario.get("train")
    if isinstance(train, dict) and "controller" not in train:
        return {**scenario, "train": {**train, "controller": "specialist"}}
    return scenario


def read_settings(out: Path) -> dict[str, Any]:
    """sweep.toml's ``[sweep]`` table, its base scenario (defaults filled in) as ``scenario``."""
    path = out / SETTINGS
    try:
        raw = loads(path.read_text(encoding="utf-8"), str(path))
        settings = dict(raw["sweep"])
        recorded = raw["scenario"]
        if settings.get("policy") == "hid":
            recorded = _migrated(recorded)
        settings["scenario"] = to_dict(from_dict(recorded, str(path)))
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, HybridnetError) as err:
        raise HybridnetError(
            f"{path}: unreadable ({err}); pass --force to start the sweep afresh"
        ) from None
    return settings


def _whole_lines(text: str) -> str:
    """``text`` up to its last newline: without a row a crash (or a writer) cut short."""
    return text[: text.rfind("\n") + 1]


def read_rows(path: Path, grid_keys: Sequence[str], policy: str) -> list[list[str]]:
    """results.csv's rows as written, its header checked; a torn last row is left out."""
    columns = result_columns(grid_keys, policy)
    try:
        reader = csv.reader(io.StringIO(_whole_lines(path.read_text(encoding="utf-8"))))
        if tuple(next(reader, ())) != columns:
            raise HybridnetError(
                f"{path}: its columns are not those this version writes; pass --force to start "
                "the sweep afresh or choose another --out"
            )
        rows = []
        for row in reader:
            if len(row) != len(columns):
                raise HybridnetError(
                    f"{path}: line {reader.line_num} has {len(row)} fields, not {len(columns)}; "
                    "pass --force to start the sweep afresh or choose another --out"
                )
            rows.append(row)
    except (UnicodeDecodeError, csv.Error) as err:
        raise HybridnetError(f"{path}: unreadable ({err}); pass --force to start the sweep "
                             "afresh or choose another --out") from None
    return rows


def done_keys(path: Path, grid_keys: Sequence[str], policy: str) -> set[tuple[str, ...]]:
    """Keys (:attr:`Cell.key`) of the cells with a successful row in results.csv."""
    return {tuple(row[: len(grid_keys) + 1]) for row in read_rows(path, grid_keys, policy)
            if not row[-1]}


def _metric_text(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else str(float(value))


def result_row(cell: Cell, policy: str, engine: str, metrics: Mapping[str, float] | None,
               error: str) -> list[str]:
    """One results.csv row; a failed cell has empty metrics and its error, on one line."""
    values = [value_text(v) for v in cell.overrides.values()]
    values += [str(cell.seed), policy, engine, str(cell.slots)]
    names = (*metric_names(policy), "elapsed_s")
    values += [_metric_text(metrics[n]) if metrics else "" for n in names]
    return [*values, " ".join(error.split())]


def csv_line(values: Sequence[Any]) -> str:
    """One row of results.csv as the text appended to it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def read_results(path: str | Path) -> pd.DataFrame:
    """results.csv of a sweep (the directory or the file) as a DataFrame; failed rows dropped.

    Each cell counts once, even in a file an older version wrote a cell twice
    into, and a row being written as it is read (torn) is left out. Grid values
    stay as written: a list value such as a reward-weight triple is the text
    "[0.2, 0.4, 0.4]", one category of the sweep.
    """
    path = Path(path)
    csv_path = path / RESULTS if path.is_dir() else path
    if not csv_path.is_file():
        raise HybridnetError(f"{csv_path}: missing; is {path} a directory of `hybridnet sweep`?")
    try:
        frame = pd.read_csv(io.StringIO(_whole_lines(csv_path.read_text(encoding="utf-8"))),
                            keep_default_na=False, na_values=[""])
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise HybridnetError(f"{csv_path}: not a readable results.csv ({one_line(err)})") from None
    if "error" in frame:
        frame = frame[frame["error"].isna()].drop(columns="error")
    if "seed" in frame:
        key = list(frame.columns[: frame.columns.get_loc("seed") + 1])
        frame = frame.drop_duplicates(subset=key)
    return frame.reset_index(drop=True)
