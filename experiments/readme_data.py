"""Where experiments/README.md's tables read their numbers: the result CSVs (and the
command that makes each, as its study module declares it), and the labels the tables share.

A CSV that is missing or incomplete raises :class:`MissingData`, naming the file and the
command to run. ``RESULTS`` is the directory read (``report.py --results`` sets it).
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Sequence

import pandas as pd

from experiments import (
    beyond_paper,
    dense_control,
    fig4a_weights,
    fig4b_ablation,
    fig5_reproduction,
    fig5_schemes,
    hid_heterogeneous,
    hid_vs_oracle,
    scaling_n,
)
from experiments.common import RESULTS as DEFAULT_RESULTS
from experiments.common import ROOT
from experiments.tables import weights_label

RESULTS = DEFAULT_RESULTS
"""Where the CSVs are read from: experiments/results, or report.py's --results."""

WAY_LABELS = {"hid-paper": "paper-mode HID", "hid-default": "default HID", "oracle": "oracle"}
MEASURE_LABELS = {"converged_reward": "converged, ep. 300-499",
                  "eval_reward": "evaluation slots"}
SWEEP_METRICS = {"reward": "reward", "qos_per_ue": "QoS per request",
                 "delay_per_ue_s": "delay per request (s)",
                 "t_wait_s": "queueing per request (s)",
                 "energy_per_ue_j": "energy per request (J)"}
SWEEP_KEY_LABELS = {"edge.scheduler": "scheduler", "edge.compute_units": "ES units",
                    "sim.early_handoff": "early hand-off", "qos.model": "QoS model",
                    "reward.weights": "weights", "channel.downlink": "downlink",
                    "network.num_ues": "N"}


class MissingData(Exception):
    """A CSV a table needs is missing or incomplete."""


# --------------------------------------------------------------------------- reading


def shown(relative: str) -> str:
    """A results file as the messages name it: relative to the repository when inside it."""
    path = RESULTS / relative
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_csv(relative: str, command: str, expected_rows: int | None = None) -> pd.DataFrame:
    """experiments/results/<relative>, or MissingData naming the file and the command."""
    path = RESULTS / relative
    if not path.is_file():
        raise MissingData(f"{shown(relative)}: missing (run `{command}`)")
    frame = pd.read_csv(path)
    if expected_rows is not None and len(frame) != expected_rows:
        raise MissingData(f"{shown(relative)}: {len(frame)} rows, expected "
                          f"{expected_rows} (incomplete or from another run; rerun `{command}`)")
    return frame


FIG5 = fig5_schemes.COMMAND
FIG4A = fig4a_weights.COMMAND
FIG4B = fig4b_ablation.COMMAND
HVO = hid_vs_oracle.COMMAND
SCALING = scaling_n.COMMAND
BEYOND = beyond_paper.COMMAND
FIG5_MAP = fig5_reproduction.COMMAND
HET = hid_heterogeneous.COMMAND
HET_SCALING = hid_heterogeneous.SCALING_COMMAND
DENSE = dense_control.COMMAND
DENSE_AFTER_RL_LAYER = dense_control.AFTER_RL_LAYER_COMMAND
"""Each study's command, as its module declares it (named in the missing-data messages)."""


def read_sweep(study: str) -> tuple[pd.DataFrame, dict[str, list], list[int]]:
    """A beyond_paper.py sweep: its rows (failed ones dropped), grid and seeds.

    MissingData unless every grid cell has a row for every seed of sweep.toml.
    """
    command = BEYOND.format(study=study)
    settings_path = RESULTS / study / "sweep.toml"
    if not settings_path.is_file():
        raise MissingData(f"{shown(study + '/sweep.toml')}: missing (run `{command}`)")
    with settings_path.open("rb") as f:
        settings = tomllib.load(f)["sweep"]
    grid, seeds = settings["grid"], list(settings["seeds"])
    path = RESULTS / study / "results.csv"
    if not path.is_file():
        raise MissingData(f"{shown(study + '/results.csv')}: missing (run `{command}`)")
    frame = pd.read_csv(path, keep_default_na=False, na_values=[""],
                        dtype={key: str for key in grid})
    if "error" in frame:
        frame = frame[frame["error"].isna()]
    expected = math.prod(len(v) for v in grid.values()) * len(seeds)
    if len(frame) < expected:
        raise MissingData(f"{shown(study + '/results.csv')}: {len(frame)} of {expected} "
                          f"cells x seeds done (rerun `{command}`, it skips finished cells)")
    return frame, grid, seeds


def grid_text(value: object) -> str:
    """A grid value as results.csv writes it (TOML-ish text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(grid_text(v) for v in value) + "]"
    return str(value)


def cell_label(key: str, text: str) -> str:
    if key == "reward.weights":
        return weights_label(text)
    if key == "sim.early_handoff":
        return {"true": "yes", "false": "no"}.get(text.lower(), text)
    if key == "edge.scheduler":
        return text.upper()
    return text


def sweep_means(study: str) -> tuple[pd.DataFrame, dict[str, list], list[int]]:
    """Per grid cell (in grid order), the mean of each SWEEP_METRICS column over seeds."""
    frame, grid, seeds = read_sweep(study)
    keys = list(grid)
    means = frame.groupby(keys, sort=False)[list(SWEEP_METRICS)].mean()
    order = list(itertools.product(*([grid_text(v) for v in grid[k]] for k in keys)))
    if len(keys) == 1:
        order = [o[0] for o in order]
    return means.reindex(order), grid, seeds


def seeds_line(seeds: Sequence[int]) -> str:
    return (f"Means over {len(seeds)} seeds per cell (seeds "
            f"{', '.join(str(s) for s in seeds)}), `results.csv`:")
