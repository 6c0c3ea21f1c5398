"""experiments/README.md's tables of the trained controllers: Fig. 4(a) and 4(b), HID
against the oracle, scaling with N, the heterogeneous cells and the busy cell."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from experiments.intervals import (
    verdict,
    versus_cells,
)
from experiments.paper import (
    PAPER_FIG4B,
)
from experiments.readme_data import (
    DENSE,
    DENSE_AFTER_RL_LAYER,
    FIG4A,
    FIG4B,
    HET,
    HET_SCALING,
    HVO,
    SCALING,
    WAY_LABELS,
    MissingData,
    read_csv,
    shown,
)
from experiments.stats import interval, paired
from experiments.tables import ci, dec, markdown, share, sig, weights_label

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


def dense_after_rl_layer() -> str:
    """HID on the DES cells retrained after the RL-layer rework (GAE bootstrapped at the
    time limit, the fluid plan's ES units, the decision-instant rule) against the
    controllers of results.csv, per training seed on the same evaluation slots."""
    before = read_csv("dense_control/results.csv", DENSE)
    after = read_csv("dense_control/after_rl_layer.csv", DENSE_AFTER_RL_LAYER)
    rows = []
    for variant, frame in after.groupby("variant", sort=False):
        old = before[(before["variant"] == variant) & (before["policy"] == "hid")]
        new = frame[frame["policy"] == "hid"]
        fluid = frame.loc[frame["policy"] == "fluid", "reward"].mean()
        seeds = sorted(set(old["train_seed"]) & set(new["train_seed"]))
        old_r = old.set_index("train_seed").loc[seeds, "reward"]
        new_r = new.set_index("train_seed").loc[seeds, "reward"]
        rows.append([variant, len(seeds), ci(interval(list(old_r)), sig),
                     ci(interval(list(new_r)), sig), ci(paired(list(new_r), list(old_r))),
                     *versus_cells(new_r, fluid), str(bool(new["stable"].all()))])
    return markdown(["cell", "training seeds", "HID before [95 % CI]", "HID after [95 % CI]",
                     "after - before [95 % CI, paired]", "HID after - fluid [95 % CI]",
                     "seeds above fluid", "every seed stable"], rows)
