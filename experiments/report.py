"""The Markdown tables of experiments/README.md, generated from the result CSVs.

Every table in experiments/README.md sits between two markers,

    <!-- table:NAME -->
    ...generated Markdown...
    <!-- end -->

and is produced here from experiments/results/*/*.csv; the prose around the
markers is hand-written. Without options this prints every table (with its
marker name) to stdout; ``--write`` replaces the blocks in the README in
place. A table whose CSV is missing or incomplete is reported on stderr, left
as it stands in the README under --write, and makes the exit status 1.

The paper's numbers (the "paper" rows and columns) come from
:mod:`experiments.paper`; the command that makes each CSV is the ``COMMAND`` its
study module declares; numbers and tables are formatted by
:mod:`experiments.tables`, intervals computed by :mod:`experiments.stats`.

    python -m experiments.report            # print the tables
    python -m experiments.report --write    # regenerate the README's tables
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

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
from experiments.intervals import (
    PAIR_HEADER,
    gain_ci,
    pair_counts,
    sharing_order_count,
    verdict,
    versus_cells,
)
from experiments.paper import (
    PAPER_FIG4B,
    PAPER_FIG5A,
    PAPER_GAIN_PCT,
    PAPER_SPACING,
    SCHEME_LABELS,
    SCHEMES,
)
from experiments.stats import paired, t_quantile
from experiments.tables import ci, dec, markdown, pct, share, sig, weights_label

README = ROOT / "experiments" / "README.md"
RESULTS = DEFAULT_RESULTS
"""Where the CSVs are read from: experiments/results, or --results."""

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


# --------------------------------------------------------------------------- Fig. 5


def fig5_gains() -> str:
    gains = read_csv("fig5_schemes/gains.csv", FIG5, expected_rows=15)
    others = [s for s in SCHEMES if s != "his"]
    header = ["way", "measure"] + [f"over {SCHEME_LABELS[s]}" for s in others]
    rows = [["paper (Fig. 5(a))", "converged, ep. 300-500"]
            + [pct(PAPER_GAIN_PCT[s]) for s in others]]
    for (way, measure), frame in gains.groupby(["way", "measure"], sort=False):
        by_other = frame.set_index("over")["gain_pct"]
        rows.append([WAY_LABELS.get(way, way), MEASURE_LABELS.get(measure, measure)]
                    + [pct(by_other[s]) for s in others])
    return markdown(header, rows)


def fig5_rewards() -> str:
    conv = read_csv("fig5_schemes/converged.csv", FIG5, expected_rows=12)
    table = conv.set_index(["scheme", "way"])
    columns: list[tuple[str, str, str]] = []
    for way in conv["way"].unique():
        for measure in ("converged_reward", "eval_reward"):
            if table.xs(way, level="way")[measure].notna().any():
                short = "ep. 300-499" if measure == "converged_reward" else "eval"
                columns.append((way, measure, f"{WAY_LABELS.get(way, way)}, {short}"))
    header = ["scheme", "paper"] + [label for _, _, label in columns]
    rows = [[SCHEME_LABELS[s], f"{PAPER_FIG5A[s]:.2f}"]
            + [sig(table.at[(s, w), m]) for w, m, _ in columns] for s in SCHEMES]
    return markdown(header, rows)


def fig5b() -> str:
    conv = read_csv("fig5_schemes/converged.csv", FIG5, expected_rows=12)
    metrics = ["qos", "delay_s", "energy_j"]
    by_way = {w: f.set_index("scheme")[metrics] for w, f in conv.groupby("way", sort=False)}
    same = ("hid-default" in by_way and "oracle" in by_way
            and (by_way["hid-default"] - by_way["oracle"]).abs().to_numpy().max() < 1e-12)
    rows = []
    for way, frame in by_way.items():
        if same and way == "hid-default":
            continue
        label = "oracle (= default HID)" if same and way == "oracle" else WAY_LABELS[way]
        rows += [[SCHEME_LABELS[s], label] + [dec(frame.at[s, m]) for m in metrics]
                 for s in SCHEMES]
    return markdown(["scheme", "way", "QoS", "delay (s)", "energy (J)"], rows)


def fig5_train_time() -> str:
    conv = read_csv("fig5_schemes/converged.csv", FIG5, expected_rows=12)
    hid = conv[conv["way"].str.startswith("hid")]
    header = ["way"] + [SCHEME_LABELS[s] for s in SCHEMES]
    rows = [[WAY_LABELS[w]] + [f"{f.set_index('scheme').at[s, 'train_s']:.0f}" for s in SCHEMES]
            for w, f in hid.groupby("way", sort=False)]
    return ("Training time per scheme (wall s; the last rerun shared the 2 cores with two "
            "other jobs):\n\n" + markdown(header, rows))


# --------------------------------------------------------------------------- Fig. 5's map

MAP_CONFIG = ["qos_model", "phi_source", "reward_def", "weights"]


def map_summary(policies: Sequence[str]) -> pd.DataFrame:
    """fig5_reproduction/summary.csv's rows of ``policies``, configurations in a fixed order."""
    summary = read_csv("fig5_reproduction/summary.csv", FIG5_MAP)
    summary = summary[summary["policy"].isin(policies)]
    if summary.empty:
        raise MissingData(f"{shown('fig5_reproduction/summary.csv')}: no rows of "
                          f"{', '.join(policies)} (run `{FIG5_MAP} --policies {policies[0]}`)")
    return summary.sort_values(["policy", "measure", "qos_model", "phi_source", "reward_def",
                                "weights"], ascending=[False, False, True, False, True, False],
                               kind="stable")


def config_cells(row: pd.Series) -> list[str]:
    return [row["qos_model"], row["phi_source"], row["reward_def"], weights_label(row["weights"])]


def map_seeds() -> dict[tuple[str, ...], pd.DataFrame]:
    """Per (policy, measure, *MAP_CONFIG): each seed's reward per scheme (rows: the seeds
    on which all four schemes have run, the seeds summary.csv's means are over)."""
    results = read_csv("fig5_reproduction/results.csv", FIG5_MAP)
    results = results.astype({"weights": str})
    seeds = {}
    for (policy, *config), frame in results.groupby(["policy", *MAP_CONFIG], sort=False):
        for measure, column in fig5_reproduction.MEASURES.items():
            if frame[column].isna().all():
                continue
            by_seed = frame.pivot_table(index="seed", columns="scheme", values=column).dropna()
            seeds[(policy, measure, *config)] = by_seed
    return seeds


def seeds_of(seeds: dict[tuple[str, ...], pd.DataFrame], row: pd.Series) -> pd.DataFrame:
    """The per-seed rewards behind one summary.csv row."""
    key = (row["policy"], row["measure"], *(str(row[c]) for c in MAP_CONFIG))
    by_seed = seeds[key]
    if len(by_seed) != int(row["seeds"]):
        raise MissingData(f"{shown('fig5_reproduction/summary.csv')}: {key} has "
                          f"{int(row['seeds'])} seeds, results.csv {len(by_seed)} "
                          f"(rerun `{FIG5_MAP} --policies`)")
    return by_seed


def gain_cells(row: pd.Series, by_seed: pd.DataFrame) -> list[str]:
    """HIS's gain over each scheme with its interval; the summary's gain is its centre."""
    return [gain_ci(by_seed, s) for s in SCHEMES[1:]]


GAIN_HEADER = ["HIS over PPGFIS, % [95 % CI]", "over GFIS", "over IIS"]


def spacing_cells(row: pd.Series) -> list[str]:
    return [f"{row['spacing_ppgfis']:.2f} / {row['spacing_gfis']:.2f}"]


PAPER_SPACING_CELL = f"{PAPER_SPACING['ppgfis']:.2f} / {PAPER_SPACING['gfis']:.2f}"
PAPER_ORDER_TEXT = " > ".join(SCHEME_LABELS[s] for s in SCHEMES)


MAP_INTERVALS = ("Intervals: 95 % t-intervals of R_HIS - R_X paired over the seeds (the "
                 "schemes of a seed share its slots and, for HID, its training seed), over "
                 f"|mean R_X|; with two seeds t = {t_quantile(0.975, 1):.1f}.")


def fig5_map_oracle() -> str:
    summary = map_summary(["oracle"])
    seeds = map_seeds()
    n = summary["seeds"].max()
    header = ["HIQM", "phi", "reward", "weights", "order (oracle)", *GAIN_HEADER,
              "spacing PPGFIS / GFIS", f"seeds in the paper's order (of {n})",
              f"seeds with {PAIR_HEADER}"]
    rows = [["the paper's result", "", "", "(0.6, 0.2, 0.2)", PAPER_ORDER_TEXT]
            + [pct(PAPER_GAIN_PCT[s]) for s in SCHEMES[1:]] + [PAPER_SPACING_CELL, "", ""]]
    for _, r in summary.iterrows():
        by_seed = seeds_of(seeds, r)
        rows.append(config_cells(r) + [r["order"]] + gain_cells(r, by_seed) + spacing_cells(r)
                    + [str(int(r["seeds_in_paper_order"])), pair_counts(by_seed)])
    return MAP_INTERVALS + "\n\n" + markdown(header, rows)


def fig5_map_hid() -> str:
    summary = map_summary(["hid-paper", "hid-default"])
    seeds = map_seeds()
    paper_setting = ((summary["reward_def"] == "normalised")
                     & (summary["weights"].astype(str) == fig5_reproduction.PAPER_WEIGHTS))
    if not paper_setting.all():
        # HID has also run under another reward or weighting: those rows get their own table
        return (fig5_map_hid_rows(summary[paper_setting], seeds) + "\n\nHID under the other "
                "rewards and weightings:\n\n" + fig5_map_hid_rows(summary[~paper_setting],
                                                                   seeds, config=True))
    return fig5_map_hid_rows(summary, seeds)


def fig5_map_hid_rows(summary: pd.DataFrame, seeds: dict[tuple[str, ...], pd.DataFrame],
                      config: bool = False) -> str:
    """The HID map table of ``summary``'s rows; with ``config``, reward and weights shown."""
    header = ["controller", "measure", "HIQM", "phi", *(["reward", "weights"] if config else []),
              "order", *GAIN_HEADER,
              "spacing PPGFIS / GFIS", "seeds in the paper's order", f"seeds with {PAIR_HEADER}",
              "seeds with HIS > PPGFIS > GFIS"]
    measures = {"eval": "evaluation slots", "converged": "converged, ep. 300-499"}
    rows = []
    for _, r in summary.iterrows():
        by_seed = seeds_of(seeds, r)
        setting = [r["reward_def"], weights_label(r["weights"])] if config else []
        rows.append([WAY_LABELS[r["policy"]], measures[r["measure"]], r["qos_model"],
                     r["phi_source"], *setting, r["order"]] + gain_cells(r, by_seed)
                    + spacing_cells(r)
                    + [f"{int(r['seeds_in_paper_order'])} of {int(r['seeds'])}",
                       pair_counts(by_seed), sharing_order_count(by_seed)])
    if config:
        return markdown(header, rows)
    return ("At the paper's weights (0.6, 0.2, 0.2), normalised reward; seeds are training "
            "and evaluation seeds alike. " + MAP_INTERVALS + "\n\n" + markdown(header, rows))


def fig5_map_offset() -> str:
    summary = map_summary(["oracle"])
    header = ["HIQM", "phi", "reward", "weights", "R_IIS / (R_HIS - R_IIS)",
              "HIS over PPGFIS / GFIS (%) once shifted to +102.2 % over IIS"]
    paper = PAPER_FIG5A["iis"] / (PAPER_FIG5A["his"] - PAPER_FIG5A["iis"])
    rows = [["the paper's result", "", "", "(0.6, 0.2, 0.2)", f"{paper:.2f}",
             f"{pct(PAPER_GAIN_PCT['ppgfis'])} / {pct(PAPER_GAIN_PCT['gfis'])}"]]
    for _, r in summary.iterrows():
        shifted = ("HIS not above IIS" if pd.isna(r["gain_ppgfis_pct_at_paper_offset"]) else
                   f"{pct(r['gain_ppgfis_pct_at_paper_offset'])} / "
                   f"{pct(r['gain_gfis_pct_at_paper_offset'])}")
        rows.append(config_cells(r) + [f"{r['iis_offset_ratio']:.2f}", shifted])
    return markdown(header, rows)


def fig5_map_phi() -> str:
    table = read_csv("fig5_reproduction/thresholds.csv", FIG5_MAP)
    first = table.iloc[0]
    header = ["HIQM", "reward", "weights", "HIS first at HIS phi", "PPGFIS > GFIS at PPGFIS phi",
              "least phi for the paper's order: PPGFIS, HIS",
              "phi nearest the paper's spacing: HIS, PPGFIS", "spacing there", "gains there (%)"]
    rows = []
    for _, r in table.iterrows():
        least = ("never" if pd.isna(r["paper_order_ppgfis_phi"]) else
                 f"{r['paper_order_ppgfis_phi']:.2f}, {r['paper_order_his_phi']:.2f}")
        near = ("never" if pd.isna(r["paper_spacing_his_phi"]) else
                f"{r['paper_spacing_his_phi']:.2f}, {r['paper_spacing_ppgfis_phi']:.2f}")
        spacing = ("" if pd.isna(r["paper_spacing_his_phi"]) else
                   f"{r['spacing_ppgfis']:.2f} / {r['spacing_gfis']:.2f}")
        gains = ("" if pd.isna(r["paper_spacing_his_phi"]) else
                 " / ".join(pct(r[f"gain_{s}_pct"]) for s in SCHEMES[1:]))
        rows.append([r["qos_model"], r["reward_def"], weights_label(r["weights"]),
                     r["his_first_at"], r["ppgfis_over_gfis_at"], least, near, spacing, gains])
    return (f"Synthetic phi, oracle, means over the seeds; calibrated mean phi: HIS "
            f"{first['his_phi_calibrated']:.2f}, PPGFIS {first['ppgfis_phi_calibrated']:.2f}, "
            f"GFIS {first['gfis_phi_calibrated']:.2f} (`thresholds.csv`; paper: spacing "
            f"{PAPER_SPACING_CELL}, gains "
            f"{' / '.join(pct(PAPER_GAIN_PCT[s]) for s in SCHEMES[1:])}):\n\n"
            + markdown(header, rows))


def fig5_map_groupings() -> str:
    """GFIS as the paper defines it (one group) against GFIS in M groups (a departure),
    every other scheme unchanged, under the oracle: orders, seeds and intervals."""
    frame = read_csv("fig5_reproduction/groupings.csv", f"{FIG5_MAP} --policies --groupings 2")
    frame = frame.astype({"weights": str})
    header = ["HIQM", "reward", "weights", "M", "GFIS as", "order (oracle)", *GAIN_HEADER,
              "seeds in the paper's order", f"seeds with {PAIR_HEADER}"]
    rows = []
    keys = ["qos_model", "reward_def", "weights", "num_groups"]
    for key, cell in frame.groupby(keys, sort=False):
        by_seed = cell.pivot_table(index="seed", columns="scheme", values="reward")
        for grouping, label in fig5_reproduction.GROUPINGS.items():
            schemes = by_seed[["his", "ppgfis", grouping, "iis"]].rename(
                columns={grouping: "gfis"})
            order = fig5_reproduction.order_text(schemes.mean().to_dict())
            in_order = sum(fig5_reproduction.order_text(r.to_dict()) == PAPER_ORDER_TEXT
                           for _, r in schemes.iterrows())
            rows.append([key[0], key[1], weights_label(key[2]), str(key[3]), label, order,
                         *(gain_ci(schemes, s) for s in SCHEMES[1:]),
                         f"{in_order} of {len(schemes)}", pair_counts(schemes)])
    seeds = ", ".join(str(s) for s in sorted(frame["seed"].unique()))
    return (f"Synthetic phi, oracle, seeds {seeds} on the map's slots; " + MAP_INTERVALS
            + "\n\n" + markdown(header, rows))


# --------------------------------------------------------------------------- Fig. 4


def fig4a_results() -> str:
    res = read_csv("fig4a_weights/results.csv", FIG4A, expected_rows=12)
    rows = []
    for policy, frame in res.groupby("policy", sort=False):
        for _, r in frame.sort_values("w1").iterrows():
            rows.append([weights_label(r["weights"]), WAY_LABELS.get(policy, policy),
                         sig(r["reward"]), dec(r["qos"]), dec(r["delay_s"]),
                         dec(r["energy_j"])])
    return markdown(["weights (w1, w2, w3)", "policy", "reward", "QoS", "delay (s)",
                     "energy (J)"], rows)


def fig4a_trend() -> str:
    trend = read_csv("fig4a_weights/trend.csv", FIG4A, expected_rows=9)
    names = {"qos": "QoS", "delay_s": "delay", "energy_j": "energy"}
    rows = [["paper (Fig. 4(a))", "rises", "rises", "rises", "yes"]]
    for policy, frame in trend.groupby("policy", sort=False):
        frame = frame.set_index("metric")
        rising = [m for m in names if bool(frame.at[m, "rises_monotonically"])]
        if len(rising) == len(names):
            verdict = "yes"
        else:
            not_rising = [names[m] for m in names if m not in rising]
            verdict = (f"{', '.join(names[m] for m in rising) or 'none'} yes; "
                       f"{', '.join(not_rising)} not monotone")
        rows.append([WAY_LABELS.get(policy, policy)]
                    + [f"{frame.at[m, 'change_pct']:+.1f} %" for m in names] + [verdict])
    return markdown(["policy", "QoS", "delay", "energy", "all three rise monotonically?"], rows)


def fig4b() -> str:
    summary = read_csv("fig4b/fig4b_summary.csv", FIG4B)
    counts = summary.groupby("variant")["seed"].nunique()
    if set(counts.index) != set(PAPER_FIG4B) or counts.nunique() != 1:
        raise MissingData(f"{shown('fig4b/fig4b_summary.csv')}: not every variant "
                          f"has the same seeds (rerun `{FIG4B}`)")
    n = int(counts.iloc[0])
    stats = summary.groupby("variant", sort=False)[["reward", "share"]].agg(["mean", "std"])
    rows = [[variant, PAPER_FIG4B[variant],
             f"{sig(stats.at[variant, ('reward', 'mean')])} "
             f"({sig(stats.at[variant, ('reward', 'std')], 2)})",
             f"{share(stats.at[variant, ('share', 'mean')])} "
             f"({sig(stats.at[variant, ('share', 'std')], 2)})"]
            for variant in stats.index]
    return markdown(["variant", "paper", f"ours: reward, mean (std) over {n} seeds",
                     "ours: share, mean (std)"], rows)


FIG4B_PAIRS = (("HID", "without advantage normalisation"), ("HID", "without reward scaling"),
               ("without advantage normalisation", "without reward scaling"))
"""The paper's order of the ablations, pair by pair."""


def fig4b_intervals() -> str:
    """Each pair of the paper's order: the reward difference paired over training seeds."""
    summary = read_csv("fig4b/fig4b_summary.csv", FIG4B)
    by_seed = summary.pivot_table(index="seed", columns="variant", values="reward")
    rows = []
    for better, worse in FIG4B_PAIRS:
        difference = paired(list(by_seed[better]), list(by_seed[worse]))
        above = int((by_seed[better] > by_seed[worse]).sum())
        rows.append([f"{better} > {worse}", ci(difference), f"{above} of {difference.n}",
                     verdict(difference)])
    return markdown(["the paper's order", "reward difference [95 % CI, paired over seeds]",
                     "seeds showing it", "interval"], rows)


# --------------------------------------------------------------------------- HID vs oracle


def hid_vs_oracle() -> str:
    res = read_csv("hid_vs_oracle/results.csv", HVO, expected_rows=20)
    rows = []
    for weights, frame in res.groupby("weights", sort=False):
        label = weights_label(weights)
        first = frame.drop_duplicates("policy").set_index("policy")
        fixed = [p for p in first.index if p.startswith("fixed:")]
        if len(set(fixed)) != 1:
            raise MissingData(f"{shown('hid_vs_oracle/results.csv')}: {label} has "
                              f"best fixed splits {fixed} that differ between the modes")
        entries = [("oracle", "oracle")]
        entries += [(p, f"HID, {p.removeprefix('hid-')} mode")
                    for p in ("hid-default", "hid-paper") if p in first.index]
        entries += [("local", "local"), (fixed[0], f"best fixed (`{fixed[0]}`)"),
                    ("random", "random")]
        for policy, name in entries:
            r = first.loc[policy]
            time_s = f"{r['train_s']:.0f}" if pd.notna(r["train_s"]) else ""
            # of the best-fixed-to-oracle distance: only where it is one worth closing
            beyond = (share(r["fixed_share"]) if policy.startswith("hid")
                      and pd.notna(r["fixed_share"]) and fixed_gap(first, fixed[0]) > 1e-4
                      else "")
            rows.append([label, name, sig(r["reward"]), share(r["share"]), beyond, time_s])
    return markdown(["weights", "policy", "reward", "share of random-to-oracle",
                     "share of fixed-to-oracle", "training (s)"], rows)


def fixed_gap(first: pd.DataFrame, fixed: str) -> float:
    """R_oracle - R_best fixed: below 1e-4 a share of it is noise, and is not shown."""
    return float(first.at["oracle", "reward"] - first.at[fixed, "reward"])


# --------------------------------------------------------------------------- scaling with N


def scaling_n() -> str:
    res = read_csv("scaling_n/results.csv", SCALING)
    table = res.set_index(["num_ues", "policy"])
    counts = res.groupby("num_ues")["policy"].nunique()
    if (counts != 4).any():
        raise MissingData(f"{shown('scaling_n/results.csv')}: incomplete "
                          f"(rerun `{SCALING}`)")
    rows = []
    for n in sorted(res["num_ues"].unique()):
        hid = table.loc[(n, "hid-default")]
        rows.append([str(n), str(int(hid["episodes"])), f"{hid['train_s']:.0f}",
                     f"{hid['train_s'] / hid['episodes']:.2f}",
                     sig(hid["reward"]), sig(table.at[(n, "oracle"), "reward"]),
                     sig(table.at[(n, "local"), "reward"]),
                     sig(table.at[(n, "random"), "reward"]), share(hid["share"]),
                     share(table.at[(n, "local"), "share"]), sig(hid["train_tail_gap"], 2)])
    return markdown(["N", "episodes", "training (s)", "s per episode", "R_HID", "R_oracle",
                     "R_local", "R_random", "share HID", "share local",
                     "training gap, last 40 %"], rows)


# --------------------------------------------------------------------------- heterogeneous cells

HET_POLICIES = {"hid-default": "HID, default mode", "hid-paper": "HID, paper mode",
                "oracle": "oracle", "best-fixed": "best fixed", "local": "local",
                "random": "random"}


def seeds_summary(values: pd.Series, fmt: Callable[[float], str]) -> str:
    """One value, or the mean over training seeds with the worst in brackets."""
    if len(values) == 1:
        return fmt(values.iloc[0])
    return f"{fmt(values.mean())} (worst {fmt(values.min())})"


def het_rows(frame: pd.DataFrame, label: str) -> list[list[str]]:
    """The rows of one heterogeneous cell, HID averaged over its training seeds."""
    rows = []
    for policy, name in HET_POLICIES.items():
        part = frame[frame["policy"] == policy]
        if part.empty:
            continue
        if policy == "best-fixed":
            name = f"best fixed (`{part['detail'].iloc[0]}`)"
        train = part["train_s"].dropna()
        rows.append([label, name, seeds_summary(part["reward"], sig),
                     seeds_summary(part["random_share"], share),
                     seeds_summary(part["fixed_share"], share),
                     f"{train.mean():.0f}" if len(train) else "",
                     str(len(part)) if policy.startswith("hid") else ""])
    return rows


def hid_heterogeneous() -> str:
    res = read_csv("hid_heterogeneous/results.csv", HET)
    rows = []
    for cell, frame in res.groupby("cell", sort=False):
        rows += het_rows(frame, cell)
    return markdown(["cell", "policy", "reward", "share of random-to-oracle",
                     "share of fixed-to-oracle", "training (s)", "seeds"], rows)


def hid_heterogeneous_intervals() -> str:
    """HID against the oracle and the best fixed split, per training seed on the same slots."""
    res = read_csv("hid_heterogeneous/results.csv", HET)
    rows = []
    for cell, frame in res.groupby("cell", sort=False):
        reward = frame.groupby("policy")["reward"]
        for policy in ("hid-default", "hid-paper"):
            trained = frame[frame["policy"] == policy]["reward"]
            if trained.empty:
                continue
            rows.append([cell, HET_POLICIES[policy],
                         *versus_cells(trained, reward.mean()["oracle"]),
                         *versus_cells(trained, reward.mean()["best-fixed"])])
    return markdown(["cell", "policy", "HID - oracle [95 % CI over training seeds]",
                     "seeds above the oracle", "HID - best fixed [95 % CI]",
                     "seeds above best fixed"], rows)


def hid_heterogeneous_scaling() -> str:
    res = read_csv("hid_heterogeneous/scaling.csv", HET_SCALING)
    rows = []
    for num_ues, frame in res.groupby("num_ues", sort=True):
        groups = int(frame["num_groups"].iloc[0])
        rows += het_rows(frame[frame["policy"] != "hid-paper"], f"N = {num_ues}, M = {groups}")
    return markdown(["cell", "policy", "reward", "share of random-to-oracle",
                     "share of fixed-to-oracle", "training (s)", "seeds"], rows)


def dense_rows(frame: pd.DataFrame) -> list[list[str]]:
    """One variant: each policy (HID over its training seeds), best reward first."""
    rows = []
    order = frame.groupby("policy")["reward"].mean().sort_values(ascending=False).index
    for policy in order:
        part = frame[frame["policy"] == policy]
        name = "HID" if policy == "hid" else f"`{policy}`"
        if policy == "oracle-closed":
            name = "oracle, closed form"
        elif policy == "oracle":
            name = "oracle, DES"
        stable = part["stable"].astype(str).str.lower() == "true"
        rows.append([name, seeds_summary(part["reward"], sig), dec(part["qos_per_ue"].mean()),
                     dec(part["delay_per_ue_s"].mean()), dec(part["t_wait_s"].mean()),
                     dec(part["energy_per_ue_j"].mean()),
                     f"{dec(part['queue_q2_s'].mean())} -> {dec(part['queue_q4_s'].mean())}",
                     "-" if policy == "oracle-closed"
                     else f"{int(stable.sum())}/{len(part)}",
                     f"{part['train_s'].mean():.0f}" if policy == "hid" else "",
                     str(len(part)) if policy == "hid" else ""])
    return rows


def dense_control() -> str:
    res = read_csv("dense_control/results.csv", DENSE)
    rows = []
    for variant, frame in res.groupby("variant", sort=False):
        rows += [[f"**{variant}**", *row] for row in dense_rows(frame)]
    return markdown(["cell", "policy", "reward", "QoS", "delay (s)", "waiting (s)",
                     "energy (J)", "queueing, 2nd -> 4th quarter (s)", "stable",
                     "training (s)", "seeds"], rows)


def dense_intervals() -> str:
    """Per variant, HID against the fluid policy, the best fixed split and the best dpp
    on the same DES slots, per training seed."""
    res = read_csv("dense_control/results.csv", DENSE)
    rows = []
    for variant, frame in res.groupby("variant", sort=False):
        mean = frame.groupby("policy")["reward"].mean()
        hid = frame[frame["policy"] == "hid"]["reward"]
        fixed = mean[[p for p in mean.index if p.startswith("fixed:")]].max()
        dpp = mean[[p for p in mean.index if p.startswith("dpp")]].max()
        rows.append([variant, *versus_cells(hid, mean["fluid"]), *versus_cells(hid, fixed),
                     *versus_cells(hid, dpp)])
    return markdown(["cell", "HID - fluid [95 % CI over training seeds]", "seeds above fluid",
                     "HID - best fixed [95 % CI]", "seeds above best fixed",
                     "HID - best dpp [95 % CI]", "seeds above best dpp"], rows)


def recovered(value: float) -> str:
    """A share of the contention loss recovered, in %."""
    return f"{100 * value:.1f} %"


def dense_recovery() -> str:
    """Per variant: the oracle's contention loss and the share of it each policy recovers."""
    res = read_csv("dense_control/results.csv", DENSE)
    rows = []
    for variant, frame in res.groupby("variant", sort=False):
        mean = frame.groupby("policy")["reward"].mean()
        if not {"oracle", "oracle-closed", "hid"} <= set(mean.index):
            continue
        loss = mean["oracle-closed"] - mean["oracle"]
        fixed = mean[[p for p in mean.index if p.startswith("fixed:")]]
        dpp = mean[[p for p in mean.index if p.startswith("dpp")]]
        rows.append([variant, sig(mean["oracle-closed"]), sig(mean["oracle"]), sig(loss),
                     recovered((mean["hid"] - mean["oracle"]) / loss),
                     recovered((mean["fluid"] - mean["oracle"]) / loss),
                     recovered((dpp.max() - mean["oracle"]) / loss),
                     recovered((fixed.max() - mean["oracle"]) / loss)])
    return markdown(["cell", "oracle, closed form", "oracle, DES", "contention loss",
                     "HID recovers", "fluid recovers", "best dpp recovers",
                     "best fixed recovers"], rows)


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
    rows += [timed("fig5_reproduction", WAY_LABELS[policy], f["elapsed_s"])
             for policy, f in fig5_map.groupby("policy", sort=False)]
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
            "evaluation where a controller is trained; about 1 s where the cell found its "
            "controller cached); the machine was shared with other jobs, so compare times "
            "within a study only:\n\n"
            + markdown(["study", "cells", "cells timed", "total (s)", "per cell (s)"], rows))


# --------------------------------------------------------------------------- the README


TABLES: dict[str, Callable[[], str]] = {
    "fig5-gains": fig5_gains,
    "fig5-rewards": fig5_rewards,
    "fig5b": fig5b,
    "fig5-train-time": fig5_train_time,
    "fig5-map-oracle": fig5_map_oracle,
    "fig5-map-hid": fig5_map_hid,
    "fig5-map-offset": fig5_map_offset,
    "fig5-map-phi": fig5_map_phi,
    "fig5-map-groupings": fig5_map_groupings,
    "fig4a-results": fig4a_results,
    "fig4a-trend": fig4a_trend,
    "fig4b": fig4b,
    "fig4b-intervals": fig4b_intervals,
    "hid-vs-oracle": hid_vs_oracle,
    "scaling-n": scaling_n,
    "hid-heterogeneous": hid_heterogeneous,
    "hid-heterogeneous-intervals": hid_heterogeneous_intervals,
    "hid-heterogeneous-scaling": hid_heterogeneous_scaling,
    "dense-control": dense_control,
    "dense-intervals": dense_intervals,
    "dense-recovery": dense_recovery,
    "run-times": run_times,
    "es-capacity": lambda: sweep_table("es_capacity"),
    "early-handoff": lambda: sweep_table("early_handoff", pair="sim.early_handoff"),
    "downlink": lambda: sweep_table("downlink", pair="channel.downlink"),
}
"""Marker name -> the function that renders its block."""

BLOCK = re.compile(r"(<!-- table:(?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)


def render() -> tuple[dict[str, str], dict[str, str]]:
    """Every table that can be rendered, and why each other one cannot."""
    tables, problems = {}, {}
    for name, make in TABLES.items():
        try:
            tables[name] = make()
        except MissingData as err:
            problems[name] = str(err)
    return tables, problems


def write_readme(path: Path, tables: dict[str, str]) -> list[str]:
    """Replace every marked block of ``path`` that has a table; the names it has no block for."""
    text = path.read_text()
    found: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        found.add(name)
        if name not in TABLES:
            raise SystemExit(f"{path}: unknown table marker {name!r}; known: {', '.join(TABLES)}")
        if name not in tables:
            return match[0]
        return f"{match[1]}{tables[name]}\n{match[4]}"

    new = BLOCK.sub(replace, text)
    if new != text:
        path.write_text(new)
    return [name for name in TABLES if name not in found]


def main() -> int:
    global RESULTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true",
                        help=f"replace the marked tables in {README.relative_to(ROOT)}")
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS,
                        help="the results directory (default: experiments/results)")
    args = parser.parse_args()
    RESULTS = args.results

    tables, problems = render()
    if args.write:
        unmarked = write_readme(args.readme, tables)
        for name in unmarked:
            print(f"note: {args.readme} has no <!-- table:{name} --> block", file=sys.stderr)
        print(f"wrote {len(tables) - len(set(unmarked) & set(tables))} tables into {args.readme}",
              file=sys.stderr)
    else:
        for name in TABLES:
            if name in tables:
                print(f"<!-- table:{name} -->\n{tables[name]}\n<!-- end -->\n")
    for name, problem in problems.items():
        kept = " (left as it was in the README)" if args.write else ""
        print(f"table {name}: {problem}{kept}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
