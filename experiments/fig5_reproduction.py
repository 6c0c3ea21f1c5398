"""Fig. 5 settled: which of the paper's undisclosed assumptions its scheme order depends on.

The paper reports HIS > PPGFIS > GFIS > IIS with HIS's reward gains over the
others in :mod:`experiments.paper`. Its result rests on choices it does not
disclose, so this maps the four schemes' rewards over every combination of them:

- ``qos_model`` (``qos.model``): the HIQM fitted on the authors' CLIP data, or
  the paper's own five Fig. 3 curves;
- ``phi_source`` (``prompts.phi_source``): phi drawn from the distributions
  calibrated per scheme, or computed from real prompts (eq. 10);
- ``reward_def``: ``normalised`` (each term over its all-on-UE reference, our
  default) or ``raw`` (``reward.qos_ref = reward.delay_ref_s =
  reward.energy_ref_j = 1``: eq. 17a as printed);
- ``weights`` (``reward.weights``): (0.6, 0.2, 0.2) and (0.2, 0.4, 0.4);

with every scheme (``prompts.scheme``) under three controllers: the exact
oracle on the whole grid (seeds 0-9), and the HID controller in paper mode
(the paper's IPPO) and default mode at the paper's weights with the
normalised reward (--hid-seeds). Every row is a sweep cell
(:mod:`hybridnet.sweep`, embedded Dask cluster or --scheduler), so the script
resumes after a kill: an oracle row is exactly ``hybridnet.simulate(paper.toml
+ the row's keys, policy="oracle", seed=seed, slots=100, engine="closed")``,
its reward the mean slot reward and its qos, delay_s, energy_j the means per
UE; a HID row of seed s is the controller trained with ``train.seed = s``
(500 episodes of 20 slots, cached per cell) acting greedily on the same 100
slots, with its converged training reward (episodes 300-499) beside it.

The public prompts' quality is not a scenario key: phi is drawn from the
calibrated distribution of each scheme (``hybridnet.prompts.synthetic``). The
sensitivity part (run with the oracle) shifts one scheme's phi by a constant,
so that its mean is each value of --phi-means, on the very slots of the
oracle rows, and scores the oracle on them; the unshifted case reproduces the
oracle rows exactly, which the script checks.

Writes into experiments/results/fig5_reproduction/:

- ``sweeps/{oracle-normalised,oracle-raw,hid-paper,hid-default}/``: the sweep
  directories (results.csv, sweep.toml), one per controller and reward;
- ``results.csv``: one row per cell (the columns above, then train_seed,
  converged_reward, converged_oracle_reward, train_episodes, elapsed_s);
- ``summary.csv``: per configuration, controller and measure, the mean reward
  of each scheme over seeds, the order, HIS's gain over each scheme and the
  offset-free spacing ``(R_HIS - R_X) / (R_HIS - R_IIS)``;
- ``sensitivity.csv`` (per shifted scheme, phi mean and seed, its oracle
  reward) and ``thresholds.csv`` (the phi means at which the order changes, and
  those nearest the paper's spacing);
- ``scheme_orders.png``: the map of scheme orders; ``phi_sensitivity.png``: the
  oracle's reward of HIS and PPGFIS against their public prompts' mean phi.

    python -m experiments.fig5_reproduction                  # everything
    python -m experiments.fig5_reproduction --policies oracle hid-paper
    python -m experiments.fig5_reproduction --policies hid-default --force
    python -m experiments.fig5_reproduction --policies        # tables, figure only

The axes run since the first map (each resumable like the rest; every command below
has run): the oracle on seeds 0-9 with GFIS's phi in the sensitivity and GFIS's
grouping; paper-mode HID under the raw reward and at (0.2, 0.4, 0.4), both HIQMs,
training seeds 0-4; both modes at the paper's setting on training seeds 0-9 with
synthetic phi (the embedding-phi cells have seeds 0 and 1):

    python -m experiments.fig5_reproduction --policies oracle --groupings 2 4 8
    python -m experiments.fig5_reproduction --policies hid-paper --hid-seeds 0 1 2 3 4 \
        --hid-reward-defs raw --hid-phi-sources synthetic --hid-qos-models paper fitted \
        --workers 2
    python -m experiments.fig5_reproduction --policies hid-paper --hid-seeds 0 1 2 3 4 \
        --hid-weights 0.2,0.4,0.4 --hid-phi-sources synthetic --hid-qos-models paper fitted \
        --workers 2
    python -m experiments.fig5_reproduction --policies hid-default hid-paper \
        --hid-seeds 0 1 2 3 4 5 6 7 8 9 --hid-phi-sources synthetic --workers 2

``--hid-reward-defs`` / ``--hid-weights`` train and score HID under the raw reward and at
(0.2, 0.4, 0.4), each in its own sweep directory (``hid-MODE-REWARD-WEIGHTS``);
``--hid-qos-models`` / ``--hid-phi-sources`` restrict (and order) the HID cells run;
``--shift-schemes`` names the schemes whose phi the sensitivity moves (all three sharing
schemes by default; GFIS's since the oracle ran on ten seeds); ``--groupings M ...``
scores every scheme under the oracle with M groups, GFIS both as the paper defines it (one
group of every UE) and, as a labelled departure, in PPGFIS's M balanced random groups
(``groupings.csv``, ``grouping_orders.csv``).

``--force`` drops every row of the named controllers (all phi sources and
seeds, whatever --hid-phi-sources says) and computes the ones asked for again,
training in a fresh temporary controller cache: the cache is keyed by the
scenario, not by the code, so after the controller's code changes a cached
controller would be stale. Resume an interrupted ``--force`` run without
``--force`` (which would drop the rows again), with HYBRIDNET_CACHE pointing
at a fresh directory.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from experiments.common import RESULTS, ROOT, evaluation_base, save_figure, subplots
from experiments.paper import PAPER_GAIN_PCT, PAPER_SPACING, SCHEME_LABELS, SCHEMES
from hybridnet.api import load_scenario, make_policy, policy_rng
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.prompts.synthetic import PHI_DISTRIBUTIONS
from hybridnet.scenario import read_scenario
from hybridnet.sim.conditions import Conditions
from hybridnet.sweep import (
    TRAINING_METRICS,
    plan_sweep,
    read_results,
    run_sweep,
)

COMMAND = "python -m experiments.fig5_reproduction"
SCENARIO = ROOT / "scenarios" / "paper.toml"
OUT = RESULTS / "fig5_reproduction"
SLOTS = 100
LABELS = SCHEME_LABELS
PAPER_ORDER = SCHEMES

QOS_MODELS = ("fitted", "paper")
PHI_SOURCES = ("synthetic", "embedding")
WEIGHTS = {"0.6,0.2,0.2": [0.6, 0.2, 0.2], "0.2,0.4,0.4": [0.2, 0.4, 0.4]}
PAPER_WEIGHTS = "0.6,0.2,0.2"
REWARD_DEFS: dict[str, dict[str, float]] = {
    "normalised": {},
    "raw": {"reward.qos_ref": 1.0, "reward.delay_ref_s": 1.0, "reward.energy_ref_j": 1.0},
}
"""reward_def -> the scenario keys it sets ("normalised" keeps the derived references)."""
CONFIG = ["qos_model", "phi_source", "reward_def", "weights"]
"""What a configuration is: one value of each; the schemes are compared within it."""
MEASURES = {"eval": "reward", "converged": "converged_reward"}
"""summary.csv's measures: the evaluation slots, and the HID training's converged reward."""


@dataclass(frozen=True)
class Part:
    """One sweep directory of the map: a controller under one reward definition."""

    name: str
    policy: str
    reward_def: str
    base: dict[str, Any]
    qos_models: Sequence[str] = QOS_MODELS
    phi_sources: Sequence[str] = PHI_SOURCES
    weights: Sequence[str] = tuple(WEIGHTS)
    train_mode: str | None = None

    def grid(self) -> dict[str, list[Any]]:
        """phi_source first: with one worker the cheap synthetic cells then finish first."""
        return {"prompts.phi_source": list(self.phi_sources), "qos.model": list(self.qos_models),
                "reward.weights": [WEIGHTS[w] for w in self.weights],
                "prompts.scheme": list(SCHEMES)}


def hid_part_name(mode: str, reward_def: str, weights: str) -> str:
    """The sweep directory of HID in ``mode`` under one reward and weighting: ``hid-MODE``
    at the normalised reward and the paper's weights (the map's first HID runs), else
    ``hid-MODE-REWARD-W1,W2,W3``."""
    if reward_def == "normalised" and weights == PAPER_WEIGHTS:
        return f"hid-{mode}"
    return f"hid-{mode}-{reward_def}-{weights}"


def parts() -> dict[str, Part]:
    """Every controller the map can run: the oracle under each reward, and HID in each mode
    under each reward and weighting (one sweep directory each, so a later axis never
    changes an earlier sweep's grid); :func:`assemble` gathers whichever have run."""
    out = {f"oracle-{name}": Part(f"oracle-{name}", "oracle", name,
                                  {"sim.slots": SLOTS, **values})
           for name, values in REWARD_DEFS.items()}
    for reward_def, refs in REWARD_DEFS.items():
        # 100 evaluation slots; training keeps the paper.toml's 20-slot episodes.
        base = evaluation_base(str(SCENARIO), refs, SLOTS)
        for weights in WEIGHTS:
            for mode in ("paper", "default"):
                name = hid_part_name(mode, reward_def, weights)
                out[name] = Part(name, "hid", reward_def, {**base, "train.mode": mode,
                                                           "train.controller": "specialist"},
                                 weights=(weights,), train_mode=mode)
    return out


def run_part(part: Part, seeds: Sequence[int], workers: int, scheduler: str | None,
             force: bool, phi_sources: Sequence[str] = PHI_SOURCES,
             qos_models: Sequence[str] = QOS_MODELS) -> None:
    """Run (or resume) one part's sweep.

    A HID part pairs each training seed with its own evaluation seed (``train.seed =
    seed``): one sweep call per phi source, HIQM and seed into the same directory, the
    synthetic phi's (three times faster to train) first, ``phi_sources`` and
    ``qos_models`` only, in the order given (so every seed of the first HIQM finishes
    before the second starts).
    """
    base = read_scenario(SCENARIO, part.base)
    out = OUT / "sweeps" / part.name
    if part.policy == "oracle":
        calls = [(part.grid(), list(seeds))]
    else:
        calls = [({**part.grid(), "prompts.phi_source": [p], "qos.model": [q],
                   "train.seed": [s]}, [s])
                 for p in part.phi_sources if p in phi_sources
                 for q in qos_models if q in part.qos_models for s in seeds]
    for i, (grid, cell_seeds) in enumerate(calls):
        plan = plan_sweep(base, grid, out, policy=part.policy, engine="closed", seeds=cell_seeds,
                          force=force and i == 0)
        print(f"{part.name}: {len(plan.pending)} of {len(plan.cells)} cells to run "
              f"(seeds {cell_seeds})", flush=True)
        report = run_sweep(plan, scheduler=scheduler, workers=workers,
                           on_row=lambda row: print(f"  {_row_label(row)}", flush=True))
        if report.failed:
            raise SystemExit(f"{part.name}: {report.failed} cells failed; see the error column "
                             f"of {report.results}, then rerun to retry them")


def _row_label(row: Mapping[str, str]) -> str:
    keys = ", ".join(f"{row[k]}" for k in ("prompts.phi_source", "qos.model", "prompts.scheme"))
    extra = f", converged {float(row['converged_reward']):+.4f}" if row.get(
        "converged_reward") else ""
    outcome = row["error"] or f"reward {float(row['reward']):+.4f}{extra}"
    return f"{keys}, seed {row['seed']}: {outcome} ({float(row['elapsed_s'] or 0):.0f} s)"


# --------------------------------------------------------------------------- assembling


def weights_text(value: str) -> str:
    """A sweep's "[0.6, 0.2, 0.2]" as results.csv's "0.6,0.2,0.2"."""
    return ",".join(f"{float(v):g}" for v in value.strip("[]").split(","))


def assemble(all_parts: Iterable[Part]) -> pd.DataFrame:
    """results.csv: every sweep row of the map under the map's column names."""
    frames = []
    for part in all_parts:
        path = OUT / "sweeps" / part.name
        if not (path / "results.csv").is_file():
            continue
        rows = read_results(path)
        policy = part.policy if part.train_mode is None else f"hid-{part.train_mode}"
        frame = pd.DataFrame({
            "qos_model": rows["qos.model"], "phi_source": rows["prompts.phi_source"],
            "reward_def": part.reward_def, "weights": rows["reward.weights"].map(weights_text),
            "scheme": rows["prompts.scheme"], "policy": policy, "seed": rows["seed"],
            "reward": rows["reward"], "qos": rows["qos_per_ue"],
            "delay_s": rows["delay_per_ue_s"], "energy_j": rows["energy_per_ue_j"],
            "train_seed": rows["train.seed"] if "train.seed" in rows else pd.NA,
            **{name: rows[name] if name in rows else np.nan for name in TRAINING_METRICS},
            "elapsed_s": rows["elapsed_s"],
        })
        frames.append(frame)
    if not frames:
        raise SystemExit(f"{OUT / 'sweeps'}: no sweep has run yet; run with --policies oracle")
    order = {"policy": ["oracle", "hid-paper", "hid-default"], "scheme": list(SCHEMES)}
    frame = pd.concat(frames, ignore_index=True)
    for column, values in order.items():
        frame[column] = pd.Categorical(frame[column], values, ordered=True)
    frame = frame.sort_values(["policy", *CONFIG, "scheme", "seed"], kind="stable")
    frame = frame.astype({"policy": str, "scheme": str}).reset_index(drop=True)
    return frame.astype({"train_seed": "Int64", "train_episodes": "Int64"})


def order_text(rewards: Mapping[str, float]) -> str:
    """The schemes best first, as "HIS > PPGFIS > GFIS > IIS"."""
    return " > ".join(LABELS[s] for s in sorted(rewards, key=rewards.__getitem__, reverse=True))


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per configuration, controller and measure: each scheme's mean reward over the seeds,
    the order, HIS's gains and the offset-free spacing, and in how many seeds the paper's
    order holds."""
    rows = []
    for (policy, *config), frame in results.groupby(["policy", *CONFIG], sort=False):
        for measure, column in MEASURES.items():
            if frame[column].isna().all():
                continue
            by_seed = frame.pivot_table(index="seed", columns="scheme", values=column)
            if list(by_seed.columns.sort_values()) != sorted(SCHEMES):
                continue  # a configuration still missing a scheme is not compared yet
            complete = by_seed.dropna()
            mean = complete.mean()
            paper = " > ".join(LABELS[s] for s in PAPER_ORDER)
            row: dict[str, Any] = dict(zip(["policy", *CONFIG], [policy, *config], strict=True))
            row.update({"measure": measure, "seeds": len(complete),
                        **{f"R_{s}": mean[s] for s in SCHEMES},
                        "order": order_text(mean.to_dict()),
                        "paper_order": order_text(mean.to_dict()) == paper,
                        "his_first": bool(mean.idxmax() == "his"),
                        "seeds_in_paper_order": sum(order_text(r.to_dict()) == paper
                                                    for _, r in complete.iterrows())})
            for other in SCHEMES[1:]:
                row[f"gain_{other}_pct"] = 100 * (mean["his"] - mean[other]) / abs(mean[other])
            for other in ("ppgfis", "gfis"):
                row[f"spacing_{other}"] = ((mean["his"] - mean[other])
                                           / (mean["his"] - mean["iis"]))
                row[f"paper_spacing_{other}"] = PAPER_SPACING[other]
            # Where the reward's zero lies, against the spread the schemes make: this, not
            # the schemes, sets the size of a gain in %; the paper's is 3.68 / 3.59 = 1.03.
            row["iis_offset_ratio"] = mean["iis"] / (mean["his"] - mean["iis"])
            # HIS's gains had the rewards been shifted by the constant that makes its gain
            # over IIS the paper's: only the spacing is left to tell them apart.
            shift = (mean["his"] - mean["iis"]) / (PAPER_GAIN_PCT["iis"] / 100) - mean["iis"]
            for other in ("ppgfis", "gfis"):
                row[f"gain_{other}_pct_at_paper_offset"] = (
                    100 * (mean["his"] - mean[other]) / (mean[other] + shift)
                    if mean["his"] > mean["iis"] else np.nan)
            rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- phi sensitivity


def shifted_oracle_rewards(values: Mapping[str, Any], seed: int, shifted: str,
                           means: Sequence[float | None]) -> list[float]:
    """The oracle's mean slot reward for ``values`` (a synthetic-phi cell of the map) when the
    phi of every UE of scheme ``shifted`` is moved by a constant so that the calibrated mean
    becomes each of ``means`` (None: unshifted), on the oracle rows' own slots.

    A UE whose own prompt is its group's public prompt (PPGFIS, GFIS) keeps phi = 1. The
    slots are those :func:`hybridnet.simulate` draws for ``seed`` (same conditions, same
    oracle, same eq. 1-17), so the unshifted reward is the oracle row's.
    """
    scenario = load_scenario(SCENARIO, dict(values))
    params = ModelParams.from_scenario(scenario)
    oracle = make_policy("oracle", scenario, policy_rng(seed))
    conditions = Conditions(scenario, seed)
    states = [conditions.slot(k) for k in range(SLOTS)]
    out = []
    for mean in means:
        total = 0.0
        for state in states:
            if mean is not None:
                phi = state.phi
                moved = np.where(phi < 1.0, np.clip(phi + mean - PHI_DISTRIBUTIONS[shifted].mean,
                                                    -1.0, 1.0), phi)
                state = replace(state, phi=moved)
            x, y = oracle.decide(state)
            total += float(evaluate(params, state, x, y).reward)
        out.append(total / SLOTS)
    return out


def sensitivity(results: pd.DataFrame, means: Sequence[float], seeds: Sequence[int],
                shifted_schemes: Sequence[str] = ("his", "ppgfis")) -> pd.DataFrame:
    """The oracle's reward of each of ``shifted_schemes`` (HIS and PPGFIS; GFIS too on
    request), each with its phi's mean moved to every value of ``means`` (synthetic phi,
    every qos_model, reward_def and weights)."""
    oracle = results[(results["policy"] == "oracle") & (results["phi_source"] == "synthetic")]
    rows = []
    for qos_model in QOS_MODELS:
        for reward_def, refs in REWARD_DEFS.items():
            for weights, triple in WEIGHTS.items():
                for shifted in shifted_schemes:
                    for seed in seeds:
                        values = {**refs, "qos.model": qos_model, "prompts.scheme": shifted,
                                  "reward.weights": triple, "prompts.phi_source": "synthetic"}
                        plain, *moved = shifted_oracle_rewards(values, seed, shifted,
                                                               [None, *means])
                        row = oracle[(oracle["qos_model"] == qos_model)
                                     & (oracle["reward_def"] == reward_def)
                                     & (oracle["weights"] == weights)
                                     & (oracle["scheme"] == shifted) & (oracle["seed"] == seed)]
                        if len(row) != 1 or abs(row["reward"].iloc[0] - plain) > 1e-12:
                            raise SystemExit(f"sensitivity: the unshifted oracle of {values}, "
                                             f"seed {seed} ({plain}) is not its results.csv row")
                        rows += [{"qos_model": qos_model, "reward_def": reward_def,
                                  "weights": weights, "shifted": shifted, "phi_mean": m,
                                  "seed": seed, "reward": r}
                                 for m, r in zip(means, moved, strict=True)]
    return pd.DataFrame(rows)


def phi_ranges(holds: pd.Series) -> str:
    """The phi means where ``holds`` (indexed by phi mean, ascending) is true, as "0.35-0.95"
    (several ranges joined by "; "), or "none"."""
    ranges, start, last = [], None, None
    for phi, ok in holds.items():
        if ok and start is None:
            start = phi
        if not ok and start is not None:
            ranges.append((start, last))
            start = None
        last = phi
    if start is not None:
        ranges.append((start, last))
    return "; ".join(f"{a:.2f}-{b:.2f}" if a != b else f"{a:.2f}" for a, b in ranges) or "none"


def thresholds(results: pd.DataFrame, sens: pd.DataFrame) -> pd.DataFrame:
    """What the public prompts' phi must be for the paper's order, per configuration.

    Synthetic phi under the oracle, rewards averaged over the seeds. R_HIS(a) is HIS's reward
    with its mean phi moved to a, R_PPGFIS(b) PPGFIS's with its mean moved to b; GFIS and IIS
    keep their calibrated phi. Neither curve depends on the other's phi, so the paper's order
    holds exactly where R_HIS(a) > R_PPGFIS(b) > R_GFIS > R_IIS. Recorded: where HIS is first,
    where PPGFIS beats GFIS, the least (b, then a) giving the paper's order, and the (a, b) of
    the grid whose spacings come nearest the paper's 0.21 / 0.39, with the gains they give.
    Where the sensitivity moved GFIS's phi too (``--shift-schemes ... gfis``), also where
    GFIS stays first and where the paper's order holds as GFIS's phi alone moves.
    """
    oracle = results[(results["policy"] == "oracle") & (results["phi_source"] == "synthetic")]
    base = oracle.groupby(["qos_model", "reward_def", "weights", "scheme"])["reward"].mean()
    curves = sens.groupby(["qos_model", "reward_def", "weights", "shifted", "phi_mean"])[
        "reward"].mean()
    rows = []
    for key, _ in sens.groupby(["qos_model", "reward_def", "weights"], sort=False):
        his, ppgfis = curves[(*key, "his")], curves[(*key, "ppgfis")]
        gfis, iis = base[(*key, "gfis")], base[(*key, "iis")]
        rivals = max(base[(*key, s)] for s in SCHEMES if s != "his")
        row: dict[str, Any] = dict(zip(["qos_model", "reward_def", "weights"], key, strict=True))
        row.update({"his_phi_calibrated": PHI_DISTRIBUTIONS["his"].mean,
                    "ppgfis_phi_calibrated": PHI_DISTRIBUTIONS["ppgfis"].mean,
                    "gfis_phi_calibrated": PHI_DISTRIBUTIONS["gfis"].mean,
                    "his_first_at": phi_ranges(his > rivals),
                    "ppgfis_over_gfis_at": phi_ranges((ppgfis > gfis) & (ppgfis > iis))})
        if (*key, "gfis") in curves:
            # GFIS's own phi moved, HIS and PPGFIS at their calibrated phi: where GFIS stays
            # first, and where the paper's order holds
            moved = curves[(*key, "gfis")]
            his_0, ppgfis_0 = base[(*key, "his")], base[(*key, "ppgfis")]
            row.update({"gfis_first_at_gfis_phi": phi_ranges(
                            moved > max(his_0, ppgfis_0, iis)),
                        "paper_order_at_gfis_phi": phi_ranges(
                            (his_0 > ppgfis_0) & (ppgfis_0 > moved) & (moved > iis))})
        ok_b = ppgfis[(ppgfis > gfis) & (gfis > iis)]
        b = ok_b.index.min() if len(ok_b) else np.nan
        ok_a = his[his > ppgfis[b]] if len(ok_b) else his.iloc[:0]
        row.update({"paper_order_ppgfis_phi": b,
                    "paper_order_his_phi": ok_a.index.min() if len(ok_a) else np.nan})
        best = None
        for a, r_his in his.items():
            for b, r_ppgfis in ppgfis.items():
                if not r_his > r_ppgfis > gfis > iis:
                    continue
                spread = r_his - iis
                s_p, s_g = (r_his - r_ppgfis) / spread, (r_his - gfis) / spread
                miss = abs(s_p - PAPER_SPACING["ppgfis"]) + abs(s_g - PAPER_SPACING["gfis"])
                if best is None or miss < best[0]:
                    best = (miss, a, b, s_p, s_g, r_his, r_ppgfis)
        if best is not None:
            _, a, b, s_p, s_g, r_his, r_ppgfis = best
            row.update({"paper_spacing_his_phi": a, "paper_spacing_ppgfis_phi": b,
                        "spacing_ppgfis": s_p, "spacing_gfis": s_g,
                        **{f"gain_{s}_pct": 100 * (r_his - r) / abs(r)
                           for s, r in (("ppgfis", r_ppgfis), ("gfis", gfis), ("iis", iis))}})
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- GFIS's grouping

GROUPINGS = {"gfis": "one group of every UE (the paper)",
             "gfis-m": "M balanced random groups (a departure)"}
"""How GFIS groups its UEs: as the paper defines it, and as PPGFIS does (a sensitivity)."""


def oracle_states(values: Mapping[str, Any], seed: int, slots: int) -> list[Any]:
    """The slots :func:`hybridnet.simulate` draws for ``seed`` on paper.toml + ``values``."""
    conditions = Conditions(load_scenario(SCENARIO, dict(values)), seed)
    return [conditions.slot(k) for k in range(slots)]


def gfis_in_m_groups(values: Mapping[str, Any], seed: int, slots: int) -> list[Any]:
    """GFIS's slots had it formed M groups: PPGFIS's balanced random groups, each with a
    random member's prompt as its public one (phi = 1 for that member), every other UE's
    phi drawn from GFIS's calibrated distribution instead of PPGFIS's. Synthetic phi only;
    the draw is seeded by (``seed``, slot), so a rerun gives the same slots."""
    states = oracle_states({**values, "prompts.scheme": "ppgfis"}, seed, slots)
    out = []
    for k, state in enumerate(states):
        rng = np.random.default_rng([seed, k])
        drawn = PHI_DISTRIBUTIONS["gfis"].draw(rng, state.num_ues)
        out.append(replace(state, phi=np.where(state.phi < 1.0, drawn, state.phi)))
    return out


def oracle_mean_reward(values: Mapping[str, Any], seed: int, states: Sequence[Any]) -> float:
    """The oracle's mean slot reward on ``states`` (as in :func:`shifted_oracle_rewards`)."""
    scenario = load_scenario(SCENARIO, dict(values))
    params = ModelParams.from_scenario(scenario)
    oracle = make_policy("oracle", scenario, policy_rng(seed))
    total = 0.0
    for state in states:
        x, y = oracle.decide(state)
        total += float(evaluate(params, state, x, y).reward)
    return total / len(states)


def groupings(num_groups: Sequence[int], seeds: Sequence[int], slots: int = SLOTS,
              configs: Sequence[tuple[str, str, str]] | None = None) -> pd.DataFrame:
    """Every scheme's oracle reward, GFIS both as one group and as M groups (``gfis-m``),
    for each M of ``num_groups`` (``network.num_groups``), seed and configuration
    (qos_model, reward_def, weights; synthetic phi; default: all of the map's)."""
    configs = configs or [(q, r, w) for q in QOS_MODELS for r in REWARD_DEFS for w in WEIGHTS]
    rows = []
    for qos_model, reward_def, weights in configs:
        for m in num_groups:
            for seed in seeds:
                values = {**REWARD_DEFS[reward_def], "qos.model": qos_model,
                          "reward.weights": WEIGHTS[weights], "network.num_groups": m,
                          "prompts.phi_source": "synthetic", "sim.slots": slots}
                for scheme in (*SCHEMES, "gfis-m"):
                    if scheme == "gfis-m":
                        states = gfis_in_m_groups(values, seed, slots)
                        reward = oracle_mean_reward({**values, "prompts.scheme": "gfis"}, seed,
                                                    states)
                    else:
                        cell = {**values, "prompts.scheme": scheme}
                        reward = oracle_mean_reward(cell, seed, oracle_states(cell, seed, slots))
                    rows.append({"qos_model": qos_model, "reward_def": reward_def,
                                 "weights": weights, "num_groups": m, "scheme": scheme,
                                 "seed": seed, "slots": slots, "reward": reward})
    return pd.DataFrame(rows)


def grouping_orders(frame: pd.DataFrame) -> pd.DataFrame:
    """Per configuration and M: the order of the means with GFIS as the paper defines it and
    as M groups, and in how many seeds each is the paper's order."""
    paper = " > ".join(LABELS[s] for s in PAPER_ORDER)
    rows = []
    keys = ["qos_model", "reward_def", "weights", "num_groups"]
    for key, cell in frame.groupby(keys, sort=False):
        by_seed = cell.pivot_table(index="seed", columns="scheme", values="reward")
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row["seeds"] = len(by_seed)
        for grouping in GROUPINGS:
            schemes = by_seed[["his", "ppgfis", grouping, "iis"]].rename(
                columns={grouping: "gfis"})
            tag = "one" if grouping == "gfis" else "m"
            row[f"order_gfis_{tag}"] = order_text(schemes.mean().to_dict())
            row[f"seeds_in_paper_order_gfis_{tag}"] = sum(
                order_text(r.to_dict()) == paper for _, r in schemes.iterrows())
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the figure

ORDER_CLASSES = ("the paper's order", "HIS > PPGFIS > GFIS, IIS elsewhere",
                 "HIS first, another order", "HIS not first")


def order_class(row: pd.Series) -> int:
    """Where a summary row's order stands against the paper's, as an index of ORDER_CLASSES."""
    if row["paper_order"]:
        return 0
    if row["R_his"] > row["R_ppgfis"] > row["R_gfis"]:
        return 1
    return 2 if row["his_first"] else 3


def short_order(order: str) -> str:
    """"HIS > PPGFIS > GFIS > IIS" -> "H>P>G>I"."""
    return ">".join(part.strip()[0] for part in order.split(">"))


def plot_orders(summary: pd.DataFrame, out: Path) -> None:
    """The map: one row per (qos_model, phi_source, reward_def), one column per weights and
    controller/measure, coloured by how the scheme order compares with the paper's."""
    summary = summary.assign(column=summary["weights"].map(lambda w: f"({w})") + "\n"
                             + summary["policy"] + ", " + summary["measure"])
    summary["row"] = (summary["qos_model"] + " HIQM, " + summary["phi_source"] + " phi, "
                      + summary["reward_def"])
    rows = list(dict.fromkeys(summary.sort_values(["qos_model", "phi_source",
                                                   "reward_def"])["row"]))
    columns = list(dict.fromkeys(summary.sort_values(["weights", "policy", "measure"],
                                                     ascending=[False, False, False])["column"]))
    grid = np.full((len(rows), len(columns)), np.nan)
    fig, (ax, key) = subplots(2, 1, figsize=(max(9.0, 1.4 * len(columns) + 4.0),
                                                 0.55 * len(rows) + 2.6),
                                  gridspec_kw={"height_ratios": [len(rows), 1.2]})
    for _, r in summary.iterrows():
        i, j = rows.index(r["row"]), columns.index(r["column"])
        grid[i, j] = order_class(r)
        ax.text(j, i, short_order(r["order"]), ha="center", va="center", fontsize=8)
    colours = ListedColormap(["#4daf4a", "#80b1d3", "#ffd92f", "#e41a1c"])
    ax.imshow(np.ma.masked_invalid(grid), cmap=colours, vmin=-0.5, vmax=len(ORDER_CLASSES) - 0.5,
              aspect="auto", alpha=0.75)
    ax.set_xticks(range(len(columns)), columns, fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    ax.set_title("Fig. 5's scheme order per configuration (mean reward over seeds, best first)\n"
                 "H = HIS, P = PPGFIS, G = GFIS, I = IIS; the paper: H>P>G>I", fontsize=10)
    key.axis("off")
    handles = [Rectangle((0, 0), 1, 1, color=c, alpha=0.75) for c in colours.colors]
    key.legend(handles, ORDER_CLASSES, loc="center", ncol=len(ORDER_CLASSES), fontsize=8,
               frameon=False)
    save_figure(fig, out)


def plot_sensitivity(results: pd.DataFrame, sens: pd.DataFrame, out: Path) -> None:
    """The oracle's reward of HIS and of PPGFIS against their mean phi, GFIS's as a line:
    one panel per HIQM, reward definition and weights (synthetic phi, means over seeds)."""
    oracle = results[(results["policy"] == "oracle") & (results["phi_source"] == "synthetic")]
    gfis = oracle[oracle["scheme"] == "gfis"].groupby(["qos_model", "reward_def",
                                                       "weights"])["reward"].mean()
    curves = sens.groupby(["qos_model", "reward_def", "weights", "shifted", "phi_mean"])[
        "reward"].mean()
    panels = list(gfis.index)
    fig, axes = subplots(2, len(panels) // 2, figsize=(3.4 * len(panels) // 2, 6.4),
                         squeeze=False)
    for ax, key in zip(axes.flat, panels, strict=True):
        for scheme, colour in (("his", "#377eb8"), ("ppgfis", "#ff7f00")):
            curve = curves[(*key, scheme)]
            ax.plot(curve.index, curve.to_numpy(), color=colour, label=f"{LABELS[scheme]}, "
                    "phi moved")
            ax.axvline(PHI_DISTRIBUTIONS[scheme].mean, color=colour, linestyle=":",
                       linewidth=1)
        ax.axhline(gfis[key], color="#4daf4a", linestyle="--", label="GFIS, as calibrated")
        ax.set_title(f"{key[0]} HIQM, {key[1]}, ({key[2]})", fontsize=8)
        ax.set_xlabel("mean phi of the scheme's public prompts", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0, 0].set_ylabel("oracle reward per slot", fontsize=8)
    axes[1, 0].set_ylabel("oracle reward per slot", fontsize=8)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("How good must the public prompts be? (dotted: the calibrated mean phi)",
                 fontsize=10)
    save_figure(fig, out)


# --------------------------------------------------------------------------- main


def arguments() -> argparse.ArgumentParser:
    """The command line: which controllers and axes to run, on which seeds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policies", nargs="*", default=["oracle", "hid-paper", "hid-default"],
                        choices=["oracle", "hid-paper", "hid-default"],
                        help="controllers to run, in this order (none: assemble the CSVs and "
                             "the figure from what has run); oracle includes the sensitivity")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10)),
                        help="evaluation seeds of the oracle")
    parser.add_argument("--hid-seeds", nargs="+", type=int, default=[0, 1],
                        help="seeds of HID: train.seed and evaluation seed alike")
    parser.add_argument("--hid-phi-sources", nargs="+", default=list(PHI_SOURCES),
                        choices=PHI_SOURCES, help="phi sources of the HID rows to run")
    parser.add_argument("--hid-qos-models", nargs="+", default=list(QOS_MODELS),
                        choices=QOS_MODELS, help="HIQMs of the HID rows to run, in this order")
    parser.add_argument("--hid-reward-defs", nargs="+", default=["normalised"],
                        choices=list(REWARD_DEFS), help="rewards HID is trained and scored on")
    parser.add_argument("--hid-weights", nargs="+", default=[PAPER_WEIGHTS],
                        choices=list(WEIGHTS), help="weightings HID is trained and scored at")
    parser.add_argument("--shift-schemes", nargs="+", default=["his", "ppgfis", "gfis"],
                        choices=["his", "ppgfis", "gfis"],
                        help="schemes whose phi the sensitivity moves (with --policies oracle)")
    parser.add_argument("--groupings", nargs="*", type=int, metavar="M",
                        help="also score, under the oracle, every scheme with M groups for "
                             "each M given, GFIS both as one group (the paper) and as M "
                             "groups (a departure): groupings.csv, grouping_orders.csv")
    parser.add_argument("--phi-means", nargs="+", type=float,
                        default=[round(v, 2) for v in np.arange(0.10, 0.951, 0.05)],
                        help="mean phi values of the sensitivity")
    parser.add_argument("--workers", type=int, default=1, help="embedded Dask workers")
    parser.add_argument("--scheduler", help="a running Dask scheduler instead")
    parser.add_argument("--force", action="store_true",
                        help="drop the named controllers' rows and compute them again, "
                             "training every controller anew (fresh cache)")
    return parser


def main() -> None:
    parser = arguments()
    args = parser.parse_args()
    if args.force and not args.policies:
        parser.error("--force needs --policies: it drops and recomputes only those")
    if args.force and any(p.startswith("hid") for p in args.policies):
        os.environ["HYBRIDNET_CACHE"] = tempfile.mkdtemp(prefix="hybridnet-fig5-cache-")

    all_parts = parts()
    for policy in args.policies:
        names = (["oracle-normalised", "oracle-raw"] if policy == "oracle" else
                 [hid_part_name(policy.removeprefix("hid-"), r, w)
                  for r in args.hid_reward_defs for w in args.hid_weights])
        for name in names:
            seeds = args.seeds if policy == "oracle" else args.hid_seeds
            run_part(all_parts[name], seeds, args.workers, args.scheduler, args.force,
                     args.hid_phi_sources, args.hid_qos_models)

    results = assemble(all_parts.values())
    results.to_csv(OUT / "results.csv", index=False)
    summary = summarise(results)
    summary.to_csv(OUT / "summary.csv", index=False)
    if "oracle" in args.policies or not (OUT / "sensitivity.csv").is_file():
        sens = sensitivity(results, args.phi_means, args.seeds, args.shift_schemes)
        sens.to_csv(OUT / "sensitivity.csv", index=False)
    sens = pd.read_csv(OUT / "sensitivity.csv", dtype={"weights": str})
    thresholds(results, sens).to_csv(OUT / "thresholds.csv", index=False)
    if args.groupings:
        grouped = groupings(args.groupings, args.seeds)
        grouped.to_csv(OUT / "groupings.csv", index=False)
        grouping_orders(grouped).to_csv(OUT / "grouping_orders.csv", index=False)
    plot_orders(summary, OUT / "scheme_orders.png")
    plot_sensitivity(results, sens, OUT / "phi_sensitivity.png")
    shown = summary[["policy", *CONFIG, "measure", "order", "gain_ppgfis_pct", "gain_gfis_pct",
                     "gain_iis_pct", "spacing_ppgfis", "spacing_gfis"]]
    print(shown.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
