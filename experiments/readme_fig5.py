"""experiments/README.md's Fig. 5 tables: the four schemes (fig5_schemes) and the
reproduction map (fig5_reproduction), with their intervals."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from experiments import (
    fig5_reproduction,
)
from experiments.intervals import (
    PAIR_HEADER,
    gain_ci,
    last_count,
    pair_counts,
    sharing_order_count,
)
from experiments.paper import (
    PAPER_FIG5A,
    PAPER_GAIN_PCT,
    PAPER_PPGFIS_OVER_GFIS_PCT,
    PAPER_SPACING,
    SCHEME_LABELS,
    SCHEMES,
)
from experiments.readme_data import (
    FIG5,
    FIG5_MAP,
    MEASURE_LABELS,
    WAY_LABELS,
    MissingData,
    read_csv,
    shown,
)
from experiments.stats import t_quantile
from experiments.tables import dec, markdown, pct, sig, weights_label

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
    """HIS's gain over each scheme with its interval (the summary's gain is its centre),
    then PPGFIS's over GFIS, the paper's middle pair."""
    return [gain_ci(by_seed, s) for s in SCHEMES[1:]] + [gain_ci(by_seed, "gfis", "ppgfis")]


GAIN_HEADER = ["HIS over PPGFIS, % [95 % CI]", "over GFIS", "over IIS", "PPGFIS over GFIS"]


def spacing_cells(row: pd.Series) -> list[str]:
    return [f"{row['spacing_ppgfis']:.2f} / {row['spacing_gfis']:.2f}"]


PAPER_SPACING_CELL = f"{PAPER_SPACING['ppgfis']:.2f} / {PAPER_SPACING['gfis']:.2f}"
PAPER_ORDER_TEXT = " > ".join(SCHEME_LABELS[s] for s in SCHEMES)


MAP_INTERVALS = ("Intervals: 95 % t-intervals of R_A - R_B (HIS against each scheme, PPGFIS "
                 "against GFIS) paired over the seeds (the schemes of a seed share its slots "
                 "and, for HID, its training seed), over |mean R_B|; "
                 f"t = {t_quantile(0.975, 1):.1f} with two seeds, "
                 f"{t_quantile(0.975, 4):.2f} with five, {t_quantile(0.975, 9):.2f} with ten.")


def first_per_seed(by_seed: pd.DataFrame) -> str:
    """The best scheme of each seed, in seed order: 'GFIS, GFIS, HIS'."""
    return ", ".join(SCHEME_LABELS[str(s)] for s in by_seed[list(SCHEMES)].idxmax(axis=1))


def fig5_map_oracle() -> str:
    summary = map_summary(["oracle"])
    seeds = map_seeds()
    n = summary["seeds"].max()
    header = ["HIQM", "phi", "reward", "weights", "order (oracle)", *GAIN_HEADER,
              "spacing PPGFIS / GFIS", f"seeds in the paper's order (of {n})",
              f"seeds with {PAIR_HEADER}", "seeds with IIS last", "first, per seed"]
    rows = [["the paper's result", "", "", "(0.6, 0.2, 0.2)", PAPER_ORDER_TEXT]
            + [pct(PAPER_GAIN_PCT[s]) for s in SCHEMES[1:]] + [pct(PAPER_PPGFIS_OVER_GFIS_PCT),
                                                               PAPER_SPACING_CELL, "", "", "",
                                                               ""]]
    for _, r in summary.iterrows():
        by_seed = seeds_of(seeds, r)
        rows.append(config_cells(r) + [r["order"]] + gain_cells(r, by_seed) + spacing_cells(r)
                    + [str(int(r["seeds_in_paper_order"])), pair_counts(by_seed),
                       last_count(by_seed), first_per_seed(by_seed)])
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
              "seeds with HIS > PPGFIS > GFIS", "seeds with IIS last", "first, per seed"]
    measures = {"eval": "evaluation slots", "converged": "converged, ep. 300-499"}
    rows = []
    for _, r in summary.iterrows():
        by_seed = seeds_of(seeds, r)
        setting = [r["reward_def"], weights_label(r["weights"])] if config else []
        rows.append([WAY_LABELS[r["policy"]], measures[r["measure"]], r["qos_model"],
                     r["phi_source"], *setting, r["order"]] + gain_cells(r, by_seed)
                    + spacing_cells(r)
                    + [f"{int(r['seeds_in_paper_order'])} of {int(r['seeds'])}",
                       pair_counts(by_seed), sharing_order_count(by_seed),
                       last_count(by_seed), first_per_seed(by_seed)])
    if config:
        return markdown(header, rows)
    return ("At the paper's weights (0.6, 0.2, 0.2), normalised reward; seeds are training "
            "and evaluation seeds alike. " + MAP_INTERVALS + "\n\n" + markdown(header, rows))


def fig5_map_offset() -> str:
    summary = map_summary(["oracle"])
    header = ["HIQM", "phi", "reward", "weights", "R_IIS / (R_HIS - R_IIS)",
              f"HIS over PPGFIS / GFIS (%) once shifted to {pct(PAPER_GAIN_PCT['iis'])} % "
              "over IIS"]
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
    gfis_moved = "gfis_first_at_gfis_phi" in table.columns
    if gfis_moved:  # the sensitivity moved GFIS's own phi too, the others calibrated
        header += ["GFIS first at GFIS phi", "paper's order at GFIS phi"]
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
                     r["his_first_at"], r["ppgfis_over_gfis_at"], least, near, spacing, gains]
                    + ([r["gfis_first_at_gfis_phi"], r["paper_order_at_gfis_phi"]]
                       if gfis_moved else []))
    return (f"Synthetic phi, oracle, means over the seeds; calibrated mean phi: HIS "
            f"{first['his_phi_calibrated']:.2f}, PPGFIS {first['ppgfis_phi_calibrated']:.2f}, "
            f"GFIS {first['gfis_phi_calibrated']:.2f} (`thresholds.csv`; paper: spacing "
            f"{PAPER_SPACING_CELL}, gains "
            f"{' / '.join(pct(PAPER_GAIN_PCT[s]) for s in SCHEMES[1:])}):\n\n"
            + markdown(header, rows))


def fig5_map_groupings() -> str:
    """GFIS as the paper defines it (one group) against GFIS in M groups (a departure),
    every other scheme unchanged, under the oracle, per configuration and M: the orders,
    their seeds, and GFIS-in-M-groups' place with intervals."""
    frame = read_csv("fig5_reproduction/groupings.csv", f"{FIG5_MAP} --policies --groupings 2")
    frame = frame.astype({"weights": str})
    header = ["HIQM", "reward", "weights", "M",
              "order, GFIS one group (seeds in the paper's order)",
              "order, GFIS in M groups (seeds)", "HIS over GFIS in M groups, % [95 % CI]",
              f"seeds with {PAIR_HEADER}, GFIS in M groups"]
    rows = []
    keys = ["qos_model", "reward_def", "weights", "num_groups"]
    for key, cell in frame.groupby(keys, sort=False):
        by_seed = cell.pivot_table(index="seed", columns="scheme", values="reward")
        cells = []
        for grouping in fig5_reproduction.GROUPINGS:
            schemes = by_seed[["his", "ppgfis", grouping, "iis"]].rename(
                columns={grouping: "gfis"})
            in_order = sum(fig5_reproduction.order_text(r.to_dict()) == PAPER_ORDER_TEXT
                           for _, r in schemes.iterrows())
            cells.append(f"{fig5_reproduction.order_text(schemes.mean().to_dict())} "
                         f"({in_order} of {len(schemes)})")
        rows.append([key[0], key[1], weights_label(key[2]), str(key[3]), *cells,
                     gain_ci(schemes, "gfis"), pair_counts(schemes)])
    seeds = ", ".join(str(s) for s in sorted(frame["seed"].unique()))
    return (f"Synthetic phi, oracle, seeds {seeds}, 100 slots each; " + MAP_INTERVALS
            + "\n\n" + markdown(header, rows))
