"""experiments/README.md's tables of the DES studies (beyond_paper) and every run time
the CSVs record."""

from __future__ import annotations

import itertools

import pandas as pd

from experiments.readme_data import (
    DENSE,
    FIG4A,
    FIG5,
    FIG5_MAP,
    HET,
    HET_SCALING,
    HVO,
    SCALING,
    SWEEP_KEY_LABELS,
    SWEEP_METRICS,
    WAY_LABELS,
    cell_label,
    grid_text,
    read_csv,
    read_sweep,
    seeds_line,
    sweep_means,
)
from experiments.readme_hid import HET_POLICIES
from experiments.stats import paired
from experiments.tables import ci, dec, markdown, sig, weights_label

# --------------------------------------------------------------------------- DES studies


def fmt(metric: str, value: float) -> str:
    return sig(value) if metric == "reward" else dec(value)


def sweep_table(study: str, pair: str | None = None) -> str:
    """One row per grid cell, or, with ``pair``, one row per value of the other keys and
    each metric as 'a / b' over ``pair``'s two values."""
    means, grid, seeds = sweep_means(study)
    keys = list(grid)
    if pair is None:
        header = [SWEEP_KEY_LABELS.get(k, k) for k in keys] + list(SWEEP_METRICS.values())
        rows = [[cell_label(k, v) for k, v in zip(keys, idx, strict=True)]
                + [fmt(m, r[m]) for m in SWEEP_METRICS] for idx, r in means.iterrows()]
        return seeds_line(seeds) + "\n\n" + markdown(header, rows)
    values = [grid_text(v) for v in grid[pair]]
    rest = [k for k in keys if k != pair]
    split = " / ".join(cell_label(pair, v) for v in values)
    header = ([SWEEP_KEY_LABELS.get(k, k) for k in rest]
              + [f"{name}, {split}" for name in SWEEP_METRICS.values()]
              + [f"reward, {cell_label(pair, values[1])} - {cell_label(pair, values[0])} "
                 "[95 % CI, paired over seeds]"])
    flat = means.reset_index()
    frame = read_sweep(study)[0]
    rows = []
    for combo in itertools.product(*([grid_text(v) for v in grid[k]] for k in rest)):
        selected = flat
        for k, v in zip(rest, combo, strict=True):
            selected = selected[selected[k] == v]
        by_value = selected.set_index(pair)
        cell = frame
        for k, v in zip(rest, combo, strict=True):
            cell = cell[cell[k] == v]
        by_seed = cell.pivot_table(index="seed", columns=pair, values="reward")
        rows.append([cell_label(k, v) for k, v in zip(rest, combo, strict=True)]
                    + [" / ".join(fmt(m, by_value.at[v, m]) for v in values)
                       for m in SWEEP_METRICS]
                    + [ci(paired(list(by_seed[values[1]]), list(by_seed[values[0]])))])
    return seeds_line(seeds) + "\n\n" + markdown(header, rows)


# --------------------------------------------------------------------------- run times


def timed(study: str, what: str, seconds: pd.Series) -> list[str]:
    """One row of the run-time table: a study's recorded cell times, in wall seconds."""
    seconds = seconds.dropna()
    return [study, what, str(len(seconds)), f"{seconds.sum():.0f}",
            f"{seconds.min():.0f}-{seconds.max():.0f}"]


def run_times() -> str:
    """Every run time the CSVs record, per study: the README quotes no other."""
    conv = read_csv("fig5_schemes/converged.csv", FIG5)
    fig4a = read_csv("fig4a_weights/results.csv", FIG4A)
    hvo = read_csv("hid_vs_oracle/results.csv", HVO)
    scaling = read_csv("scaling_n/results.csv", SCALING)
    het = read_csv("hid_heterogeneous/results.csv", HET)
    het_scaling = read_csv("hid_heterogeneous/scaling.csv", HET_SCALING)
    dense = read_csv("dense_control/results.csv", DENSE)
    fig5_map = read_csv("fig5_reproduction/results.csv", FIG5_MAP)
    rows = [timed("fig5_schemes", WAY_LABELS[w], f["train_s"])
            for w, f in conv[conv["way"] != "oracle"].groupby("way", sort=False)]
    fig5_map = fig5_map.astype({"weights": str})
    oracle = fig5_map["policy"] == "oracle"
    rows.append(timed("fig5_reproduction", WAY_LABELS["oracle"], fig5_map[oracle]["elapsed_s"]))
    for (policy, reward_def, weights), f in fig5_map[~oracle].groupby(
            ["policy", "reward_def", "weights"], sort=False):
        setting = ("" if (reward_def, weights) == ("normalised", "0.6,0.2,0.2") else
                   f", {reward_def} reward, {weights_label(weights)}")
        rows.append(timed("fig5_reproduction", WAY_LABELS[policy] + setting, f["elapsed_s"]))
    rows += [timed("fig4a_weights", WAY_LABELS[w], f["train_s"])
             for w, f in fig4a[fig4a["policy"] != "oracle"].groupby("policy", sort=False)]
    rows += [timed("hid_vs_oracle", WAY_LABELS[p], f["train_s"])
             for p, f in hvo[hvo["policy"].str.startswith("hid")].groupby("policy", sort=False)]
    rows.append(timed("scaling_n", "HID, default mode", scaling["train_s"]))
    rows += [timed("hid_heterogeneous", HET_POLICIES[p], f["train_s"])
             for p, f in het[het["policy"].str.startswith("hid")].groupby("policy", sort=False)]
    rows.append(timed("hid_heterogeneous --scaling", "HID, default mode",
                      het_scaling["train_s"]))
    rows += [timed("dense_control", f"HID training, {v}", f[f["policy"] == "hid"]["train_s"])
             for v, f in dense.groupby("variant", sort=False)]
    rows.append(timed("dense_control", "every policy's DES run", dense["run_s"]))
    for study in ("es_capacity", "early_handoff", "downlink"):
        rows.append(timed(study, "oracle on the DES", read_sweep(study)[0]["elapsed_s"]))
    return ("Wall-clock seconds per cell as the CSVs record them (training and its "
            "evaluation where a controller is trained; near 0 where the cell found its "
            "controller cached); the machine was shared with other jobs, so compare times "
            "within a study only:\n\n"
            + markdown(["study", "cells", "cells timed", "total (s)", "per cell (s)"], rows))
