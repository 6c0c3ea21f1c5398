"""experiments/README.md's tables of the shipped generalist HID controller (zero-shot),
from experiments/results/generalist/ (:mod:`experiments.generalist`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.generalist import COMMAND, SPECIALIST_CELLS
from experiments.generalist_des import BLOCK_SLOTS
from experiments.generalist_des import COMMAND as DES_COMMAND
from experiments.readme_data import MissingData, read_csv, shown
from experiments.stats import Interval, interval, paired
from experiments.tables import ci, markdown, share, sig

RESULTS_CSV = "generalist/results.csv"


def _shares(frame: pd.DataFrame, policy: str) -> tuple[list[float], list[float]]:
    """Per evaluation seed: ``policy``'s share of the best-fixed-to-oracle and of the
    random-to-oracle distance (specialists: their mean over training seeds)."""
    by_seed = frame.groupby(["policy", "eval_seed"])["reward"].mean().unstack("policy")
    own = by_seed[policy]
    fixed = (own - by_seed["best-fixed"]) / (by_seed["oracle"] - by_seed["best-fixed"])
    random = (own - by_seed["random"]) / (by_seed["oracle"] - by_seed["random"])
    return list(fixed), list(random)


def generalist_cells() -> str:
    """Per cell: the generalist's reward against the oracle's (paired over the evaluation
    seeds), its shares of the two distances, and the best fixed split and baselines."""
    res = read_csv(RESULTS_CSV, COMMAND)
    rows = []
    for cell, frame in res.groupby("cell", sort=False):
        means = frame.groupby("policy")["reward"].mean()
        by_seed = frame.groupby(["policy", "eval_seed"])["reward"].mean().unstack("policy")
        gap = paired(list(by_seed["hid"]), list(by_seed["oracle"]))
        fixed_gap = float(means["oracle"] - means["best-fixed"])
        fixed, random = _shares(frame, "hid")
        fixed_text = (share(float(np.mean(fixed))) if fixed_gap > 1e-4 * abs(means["oracle"])
                      else "(fixed = oracle)")
        best = frame.loc[frame["policy"] == "best-fixed", "detail"].iloc[0]
        rows.append([cell, "yes" if bool(frame["inside"].iloc[0]) else "**no**",
                     f"{int(frame['num_ues'].iloc[0]):,}", sig(means["hid"]),
                     sig(means["oracle"]), ci(gap, lambda v: f"{v:+.2e}"), fixed_text,
                     share(float(np.mean(random))), f"{sig(means['best-fixed'])} (`{best}`)",
                     sig(means["fluid"]), sig(means["dpp"]), sig(means["random"])])
    return markdown(["cell", "inside?", "N", "HID (generalist)", "oracle",
                     "HID - oracle [95 % CI]", "share of fixed-to-oracle",
                     "share of random-to-oracle", "best fixed", "fluid", "dpp", "random"], rows)


def generalist_random() -> str:
    """Random held-out cells: the generalist's shares, per cell (mean over evaluation seeds)."""
    res = read_csv("generalist/random_cells.csv", COMMAND)
    rows = []
    fixed_shares, random_shares = [], []
    for cell, frame in res.groupby("cell", sort=False):
        means = frame.groupby("policy")["reward"].mean()
        first = frame.iloc[0]
        worth = means["oracle"] - means["best-fixed"] > 1e-4 * abs(means["oracle"])
        fixed, random = _shares(frame, "hid")
        random_shares.append(float(np.mean(random)))
        if worth:
            fixed_shares.append(float(np.mean(fixed)))
        rows.append([cell, f"{int(first['num_ues']):,}", first["scheme"], first["qos_model"],
                     f"({first['weights'].replace(',', ', ')})",
                     "yes" if bool(first["early_handoff"]) else "",
                     "yes" if bool(first["raw_reward"]) else "",
                     share(float(np.mean(fixed))) if worth else "(fixed = oracle)",
                     share(float(np.mean(random)))])
    rows.append(["**all**", "", "", "", "", "", "",
                 f"median {share(float(np.median(fixed_shares)))}, least "
                 f"{share(min(fixed_shares))} ({len(fixed_shares)} of {len(random_shares)} "
                 "cells)",
                 f"median {share(float(np.median(random_shares)))}, least "
                 f"{share(min(random_shares))}"])
    return markdown(["cell", "N", "scheme", "HIQM", "weights", "early hand-off", "raw reward",
                     "share of fixed-to-oracle", "share of random-to-oracle"], rows)


def generalist_specialists() -> str:
    """Where controllers were trained for the cell: the zero-shot generalist against the
    specialists and against itself fine-tuned on the cell."""
    res = pd.concat([read_csv(RESULTS_CSV, COMMAND),
                     read_csv("generalist/specialists.csv", f"{COMMAND} --specialists")],
                    ignore_index=True)
    if "fine-tuned" not in set(res["policy"]):
        raise MissingData(f"{shown(RESULTS_CSV)}: no fine-tuned rows (rerun `{COMMAND}` "
                          "without --no-training)")
    rows = []
    for cell in SPECIALIST_CELLS:
        frame = res[res["cell"] == cell]
        if frame.empty:
            continue
        hid = frame[frame["policy"] == "hid"].groupby("eval_seed")["reward"].mean()
        for policy in ("specialist", "fine-tuned"):
            own = frame[frame["policy"] == policy]
            per_train = own.groupby("train_seed")["reward"].mean()
            per_eval = own.groupby("eval_seed")["reward"].mean().loc[hid.index]
            train_s = own["train_s"].dropna()
            rows.append([cell, policy, sig(hid.mean()), ci(interval(list(per_train)), sig),
                         ci(paired(list(per_eval), list(hid)), lambda v: f"{v:+.2e}"),
                         str(len(per_train)),
                         f"{train_s.mean():.0f}" if len(train_s) else "cached"])
    return markdown(["cell", "trained for the cell", "generalist (no training)",
                     "trained [95 % CI over training seeds]",
                     "trained - generalist [95 % CI, paired over evaluation seeds]",
                     "training seeds", "training (s, mean)"], rows)


def generalist_timing() -> str:
    """Median decide time per N: HID against the solvers, measured in one process, on the
    closed form and on the DES (HID pricing the capacities there)."""
    timing = read_csv("generalist/timing.csv", COMMAND)
    if "engine" not in timing:
        timing["engine"] = "closed"
    rows = []
    for (engine, n), frame in timing.groupby(["engine", "num_ues"], sort=False):
        ms = frame.set_index("policy")["median_ms"]
        rows.append([f"{n:,}", "closed form" if engine == "closed" else "DES (dense.toml)",
                     *(f"{ms[p]:.2f}" for p in ("hid", "oracle", "fluid", "dpp")),
                     f"{ms['hid'] / ms['oracle']:.2f}", f"{ms['hid'] / ms['fluid']:.2f}"])
    return markdown(["N", "cell", "HID (ms)", "oracle (ms)", "fluid (ms)", "dpp (ms)",
                     "HID / oracle", "HID / fluid"], rows)


def generalist_sweep() -> str:
    """The timed sweep with ``--policy hid``, and the timed run of dense.toml, each from an
    empty cache."""
    sweep = read_csv("generalist/sweep_timing.csv", COMMAND, expected_rows=1).iloc[0]
    dense = read_csv("generalist/dense_run_timing.csv", COMMAND, expected_rows=1).iloc[0]
    return markdown(["command", "wall time from an empty cache (s)", "controllers trained"],
                    [[f"`hybridnet sweep scenarios/paper.toml --policy hid` "
                      f"({int(sweep['cells'])} cells)", f"{sweep['elapsed_s']:.1f}",
                      "yes" if bool(sweep["trained"]) else "none"],
                     ["`hybridnet run scenarios/dense.toml` (300 UEs, queues, 30 slots)",
                      f"{dense['elapsed_s']:.1f}", "yes" if bool(dense["trained"]) else "none"]])


def _yes(value: object) -> str:
    return "yes" if str(value) == "True" else "no"


def _block_difference(slots: pd.DataFrame, variant: str, a: str, b: str) -> Interval:
    """Mean per-slot reward of ``a`` less ``b`` in ``variant``, paired over the same slots,
    with a 95 % interval over batch means of BLOCK_SLOTS-slot blocks."""
    cell = slots[slots["variant"] == variant].pivot(index="slot", columns="policy",
                                                    values="reward")
    blocks = (cell[a] - cell[b]).groupby(cell.index // BLOCK_SLOTS).mean()
    return interval(list(blocks))


def generalist_des() -> str:
    """Per variant of dense.toml: the generalist (capacities priced) against fluid, the best
    dpp and the best fixed split, paired over slots, with the share of the oracle's
    contention loss each recovers and the median decide times."""
    res = read_csv("generalist/des.csv", DES_COMMAND)
    slots = read_csv("generalist/des_slots.csv", DES_COMMAND)
    rows = []
    for variant, frame in res.groupby("variant", sort=False):
        by = frame.set_index("policy")
        if not by.index.str.startswith("fixed:").any():
            continue                      # still running: its fixed splits come last
        dpp = by[by.index.str.startswith("dpp")]["reward"].idxmax()
        fixed = by[by.index.str.startswith("fixed:")]["reward"].idxmax()
        closed, des = by.loc["oracle-closed", "reward"], by.loc["oracle", "reward"]

        def recovers(policy: str, by: pd.DataFrame = by, closed: float = closed,
                     des: float = des) -> float:
            return (by.loc[policy, "reward"] - des) / (closed - des)

        rows.append([
            variant, "yes" if bool(frame["held_out"].iloc[0]) else "no",
            sig(by.loc["hid", "reward"]), sig(by.loc["fluid", "reward"]),
            f"{sig(by.loc[dpp, 'reward'])} (`{dpp}`)",
            f"{sig(by.loc[fixed, 'reward'])} (`{fixed}`)",
            ci(_block_difference(slots, variant, "hid", "fluid")),
            ci(_block_difference(slots, variant, "hid", fixed)),
            ci(_block_difference(slots, variant, "hid", dpp)),
            (f"{100 * recovers('hid'):.1f} % / {100 * recovers('fluid'):.1f} %"
             if closed > des else "none to recover (the oracle gains in the DES)"),
            f"{_yes(by.loc['hid', 'stable'])} / {_yes(by.loc['fluid', 'stable'])}",
            f"{by.loc['hid', 'queue_growth']:.2f} / {by.loc['fluid', 'queue_growth']:.2f}",
            f"{by.loc['hid', 'decide_ms']:.2f} / {by.loc['fluid', 'decide_ms']:.2f}"])
    return markdown(["variant", "held out?", "HID", "fluid", "best dpp", "best fixed",
                     "HID - fluid [95 % CI]", "HID - best fixed [95 % CI]",
                     "HID - best dpp [95 % CI]", "contention loss recovered, HID / fluid",
                     "stable, HID / fluid", "queue growth, HID / fluid",
                     "median decide ms, HID / fluid"], rows)


def generalist_learnt_bound() -> str:
    """Per cell, the generalist's shares with each group's bound drawn from the learnt
    group actor (the first shipped version, results/generalist/learnt_bound/) and taken by
    the model's value of the members' answers (today's)."""
    before = read_csv("generalist/learnt_bound/results.csv", COMMAND)
    after = read_csv(RESULTS_CSV, COMMAND)
    rows = []
    for cell, frame in after.groupby("cell", sort=False):
        old = before[before["cell"] == cell]
        means = frame.groupby("policy")["reward"].mean()
        worth = means["oracle"] - means["best-fixed"] > 1e-4 * abs(means["oracle"])
        shares = [_shares(f, "hid") for f in (old, frame)]
        rows.append([cell, *(share(float(np.mean(s[0]))) if worth else "(fixed = oracle)"
                             for s in shares),
                     *(share(float(np.mean(s[1]))) for s in shares)])
    return markdown(["cell", "fixed-to-oracle, learnt bound", "fixed-to-oracle, model's bound",
                     "random-to-oracle, learnt bound", "random-to-oracle, model's bound"],
                    rows)
