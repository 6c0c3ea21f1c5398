"""The shipped generalist HID controller, zero-shot, on cells it never saw.

``--policy hid`` runs the generalist (hybridnet.rl.generalist) without training on
any closed-form cell of its action space. This scores it, untouched, on cells
that are in no scenario file and that its training never drew: ten inside its
training distribution, chosen at its corners (N from 10 to 2,000, each weight
dominating in turn, the UEs' CPUs from 0.3 to 3 GHz, both HIQMs, the raw reward,
one group of every UE, early hand-off, fading) and two outside it (N = 5,000;
an ES and UEs faster than any it saw), next to the exact ``oracle``, ``fluid``,
``dpp``, ``local``, ``random`` and the best ``fixed:X,Y`` (the best of every
feasible constant split on the evaluation slots themselves), and on three cells
next to specialists trained for the cell by ``hybridnet train``'s defaults and
to the generalist fine-tuned on the cell (``hybridnet train --from-generalist
300``), 3 training seeds each. Every policy runs through :func:`hybridnet.simulate` as
``hybridnet run`` does (closed form, ``SLOTS`` slots, evaluation seeds
``EVAL_SEEDS``); the best fixed split is found by evaluating every split on the
same slots in closed form (``model.objective.evaluate``), and its reward is
then checked against ``simulate``'s.

Also measured, in the same process: the median time of one ``decide`` of
``make_policy(NAME, ...)`` against N (paper.toml, N/50 groups), and a sweep of
paper.toml over N and the two weightings with ``--policy hid`` from an empty
controller cache, timed.

    python -m experiments.generalist --specialists   # the specialists, about 20 min
    python -m experiments.generalist                 # the rest, about 20 min on 2 cores
    python -m experiments.generalist --no-training --skip-timing   # the cells only

results.csv is written after every cell, and a rerun skips the cells it holds.

Also twenty cells drawn from the generalist's own distribution with a seed its
training never used (each weight at least 0.1), against the oracle, random and
the best fixed split.

Writes experiments/results/generalist/: ``results.csv`` (one row per cell,
policy, training seed and evaluation seed), ``specialists.csv`` (the same for
the specialists), ``random_cells.csv``,
``timing.csv`` (decide time per N and policy), ``sweep_timing.csv`` and
``sweeps/hid`` (the sweep).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.common import RESULTS, ROOT
from hybridnet.api import load_scenario, make_policy, policy_rng, simulate
from hybridnet.model.actions import action_mask
from hybridnet.model.objective import evaluate
from hybridnet.model.params import ModelParams
from hybridnet.model.slot import SlotState
from hybridnet.rl.generalist.cells import cell_slots
from hybridnet.rl.generalist.checkpoint import save_generalist
from hybridnet.rl.generalist.distribution import outside, sample_scenario
from hybridnet.rl.generalist.policy import shipped_checkpoint
from hybridnet.rl.generalist.train import fine_tune
from hybridnet.rl.policy import cached_path, train_cached
from hybridnet.scenario import Scenario
from hybridnet.sweep import read_results

COMMAND = "python -m experiments.generalist"
BASE = str(ROOT / "scenarios" / "paper.toml")
DENSE = str(ROOT / "scenarios" / "dense.toml")
OUT = RESULTS / "generalist"
SLOTS = 20
EVAL_SEEDS = (100, 101, 102)
TRAIN_SEEDS = (0, 1, 2)
WIDE = {"ue.freq_min_hz": 0.6e9, "ue.freq_max_hz": 2.4e9, "channel.fading": "rayleigh"}
CELLS: dict[str, dict[str, Any]] = {
    "paper": {},
    "paper (0.2, 0.4, 0.4)": {"reward.weights": [0.2, 0.4, 0.4]},
    "N=10 fast UEs": {"network.num_ues": 10, "network.num_groups": 2,
                      "ue.freq_min_hz": 2.0e9, "ue.freq_max_hz": 3.0e9,
                      "reward.weights": [0.5, 0.25, 0.25]},
    "N=2000 slow UEs": {"network.num_ues": 2000, "network.num_groups": 40,
                        "ue.freq_min_hz": 0.3e9, "ue.freq_max_hz": 0.8e9,
                        "qos.model": "paper", "reward.weights": [0.3, 0.4, 0.3]},
    "quality first": {**WIDE, "network.num_ues": 300, "network.num_groups": 6,
                      "reward.weights": [0.8, 0.1, 0.1]},
    "delay first": {**WIDE, "network.num_ues": 300, "network.num_groups": 6,
                    "reward.weights": [0.1, 0.8, 0.1]},
    "energy first": {**WIDE, "network.num_ues": 300, "network.num_groups": 6,
                     "ue.kappa": 3e-27, "reward.weights": [0.1, 0.1, 0.8]},
    "weights (0.4, 0.3, 0.3)": {**WIDE, "network.num_ues": 300, "network.num_groups": 6,
                                "reward.weights": [0.4, 0.3, 0.3]},
    "raw reward": {"reward.qos_ref": 1.0, "reward.delay_ref_s": 1.0,
                   "reward.energy_ref_j": 1.0, "network.num_ues": 100},
    "GFIS, one group": {**WIDE, "prompts.scheme": "gfis", "network.num_ues": 500,
                        "reward.weights": [0.5, 0.3, 0.2]},
    "early hand-off, slow ES": {**WIDE, "sim.early_handoff": True, "edge.freq_hz": 1e9,
                                "network.num_ues": 100, "network.num_groups": 4,
                                "qos.model": "paper"},
    "outside: N=5000": {**WIDE, "network.num_ues": 5000, "network.num_groups": 50},
    "outside: fast ES and UEs": {"edge.freq_hz": 12e9, "ue.freq_min_hz": 3.0e9,
                                 "ue.freq_max_hz": 4.0e9, "network.num_ues": 200,
                                 "network.num_groups": 4, "reward.weights": [0.4, 0.3, 0.3]},
}
"""Every cell: paper.toml with these keys. The two named "outside" lie outside the
generalist's training distribution (``hybridnet.rl.generalist.distribution``)."""
SPECIALIST_CELLS = ("paper", "raw reward", "early hand-off, slow ES")
"""Cells of at most 100 UEs: a specialist's training time grows with N (about 70 s at 50)."""
TUNE_STEPS = 300
RANDOM_CELLS = 20
RANDOM_CELLS_SEED = 20261206
"""Not a seed the generalist's training derives its cells from (those come from
``derive_seed(0, "cells", step)``)."""
BASELINES = ("oracle", "fluid", "dpp", "local", "random")
TIMING_SIZES = (10, 50, 300, 2000, 5000, 20000)
DES_TIMING_SIZES = (300, 1000)
SWEEP_GRID = {"network.num_ues": [50, 300, 1000],
              "reward.weights": [[0.6, 0.2, 0.2], [0.2, 0.4, 0.4]]}


def cell_scenario(values: Mapping[str, Any], **more: Any) -> Scenario:
    return load_scenario(BASE, {**values, "sim.slots": SLOTS, **more})


def mean_reward(scenario: Scenario, policy: str, seed: int) -> float:
    result = simulate(scenario, policy, seed=seed, slots=SLOTS, engine="closed")
    return float(result.slots["reward"].mean())


def best_fixed(scenario: Scenario) -> tuple[str, dict[int, float]]:
    """The constant split with the best mean reward over the evaluation seeds, and its
    reward per seed, every split evaluated in closed form on the very slots."""
    params = ModelParams.from_scenario(scenario)
    states = {seed: cell_slots(scenario, seed, SLOTS) for seed in EVAL_SEEDS}
    best_name, best = "", {}
    allows = all(state.allows_common_phase for state in states.values())   # not under IIS
    for x, y in zip(*np.nonzero(action_mask(scenario.steps, allows)), strict=True):
        by_seed = {seed: float(evaluate(params, state, np.full(state.phi.shape, x),
                                        np.full(state.phi.shape, y)).reward.mean())
                   for seed, state in states.items()}
        if not best or np.mean(list(by_seed.values())) > np.mean(list(best.values())):
            best_name, best = f"fixed:{x},{y}", by_seed
    check = mean_reward(scenario, best_name, EVAL_SEEDS[0])
    if abs(check - best[EVAL_SEEDS[0]]) > 1e-9 * max(1.0, abs(check)):
        raise SystemExit(f"{best_name}: simulate gives {check}, the grid {best[EVAL_SEEDS[0]]}")
    return best_name, best


def _row(name: str, scenario: Scenario, policy: str, seed: int, reward: float,
         **extra: Any) -> dict[str, Any]:
    return {"cell": name, "inside": not outside(scenario),
            "num_ues": scenario.network.num_ues, "policy": policy, "eval_seed": seed,
            "reward": reward, "train_seed": np.nan, "train_s": np.nan, "detail": "", **extra}


def score_cell(name: str, values: Mapping[str, Any], trained: bool, tuned_dir: Path
               ) -> list[dict[str, Any]]:
    """Every row of one cell: the generalist and the baselines on each evaluation seed,
    the best fixed split, and (``trained``, on SPECIALIST_CELLS) the generalist
    fine-tuned on the cell, per training seed."""
    scenario = cell_scenario(values)
    rows = []
    for seed in EVAL_SEEDS:
        start = time.perf_counter()
        reward = mean_reward(scenario, "hid", seed)
        rows.append(_row(name, scenario, "hid", seed, reward,
                         run_s=time.perf_counter() - start))
        rows += [_row(name, scenario, policy, seed, mean_reward(scenario, policy, seed))
                 for policy in BASELINES]
    fixed, by_seed = best_fixed(scenario)
    rows += [_row(name, scenario, "best-fixed", seed, reward, detail=fixed)
             for seed, reward in by_seed.items()]
    if trained and name in SPECIALIST_CELLS:
        rows += tuned_rows(name, scenario, tuned_dir)
    print(f"{name}: " + ", ".join(
        f"{p} {np.mean([r['reward'] for r in rows if r['policy'] == p]):+.5f}"
        for p in dict.fromkeys(r["policy"] for r in rows)), flush=True)
    return rows


def specialist_rows(name: str, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A specialist per training seed, trained by ``hybridnet train``'s defaults (cached)."""
    rows = []
    for train_seed in TRAIN_SEEDS:
        trained = cell_scenario(values, **{"train.controller": "specialist",
                                           "train.seed": train_seed})
        start = time.perf_counter()
        cached = cached_path(trained).is_file()
        train_cached(trained, progress=False)
        train_s = np.nan if cached else time.perf_counter() - start
        rows += [_row(name, trained, "specialist", seed, mean_reward(trained, "hid", seed),
                      train_seed=train_seed, train_s=train_s) for seed in EVAL_SEEDS]
    return rows


def tuned_rows(name: str, scenario: Scenario, tuned_dir: Path) -> list[dict[str, Any]]:
    """The generalist fine-tuned on the cell (``hybridnet train --from-generalist``'s
    library call, TUNE_STEPS steps), per training seed."""
    rows = []
    for train_seed in TRAIN_SEEDS:
        start = time.perf_counter()
        tuned = fine_tune(scenario, shipped_checkpoint(), TUNE_STEPS, seed=train_seed)
        train_s = time.perf_counter() - start
        path = tuned_dir / f"{name.replace(' ', '_').replace(',', '')}-{train_seed}.pt"
        save_generalist(path, tuned)
        rows += [_row(name, scenario, "fine-tuned", seed, mean_reward(scenario, str(path), seed),
                      train_seed=train_seed, train_s=train_s) for seed in EVAL_SEEDS]
    return rows


def random_cells(count: int, seed: int = RANDOM_CELLS_SEED) -> pd.DataFrame:
    """``count`` cells drawn from the generalist's own distribution with a seed its training
    never uses, kept where every weight is at least 0.1 (the issue's held-out region); per
    cell and evaluation seed, the reward of hid, oracle, random and the best fixed split."""
    rng = np.random.default_rng(seed)
    rows = []
    while len({r["cell"] for r in rows}) < count:
        scenario = sample_scenario(rng)
        if min(scenario.reward.weights) < 0.1:
            continue
        scenario = scenario.with_values({"sim.slots": SLOTS})
        name = f"random {len({r['cell'] for r in rows}) + 1}"
        fixed, by_seed = best_fixed(scenario)
        for seed in EVAL_SEEDS:
            rows += [_row(name, scenario, p, seed, mean_reward(scenario, p, seed))
                     for p in ("hid", "oracle", "random")]
            rows.append(_row(name, scenario, "best-fixed", seed, by_seed[seed], detail=fixed))
        for row in rows[-4 * len(EVAL_SEEDS):]:
            row.update({"scheme": scenario.prompts.scheme, "qos_model": scenario.qos.model,
                        "weights": ",".join(f"{w:.3f}" for w in scenario.reward.weights),
                        "early_handoff": scenario.sim.early_handoff,
                        "raw_reward": scenario.reward.qos_ref == 1.0})
        print(f"{name}: N = {scenario.network.num_ues}, {scenario.prompts.scheme}, "
              f"{scenario.qos.model}", flush=True)
    return pd.DataFrame(rows)


def des_slots(scenario: Scenario, slots: int, seed: int = 0) -> list[SlotState]:
    """The first ``slots`` slots of a DES run of ``scenario`` (``seed``) under the fluid
    policy, as a controller sees them, queues included."""
    states: list[SlotState] = []
    fluid = make_policy("fluid", scenario, policy_rng(0))

    class Recorder:
        name = "recorder"

        def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
            states.append(state)
            return fluid.decide(state)

    simulate(scenario, Recorder(), seed=seed, slots=slots)
    return states


def decide_times(sizes: tuple[int, ...], des_sizes: tuple[int, ...], rounds: int = 5,
                 slots: int = 5) -> pd.DataFrame:
    """Median seconds of one decide per policy at each N, the policies taking turns slot
    by slot: closed form on paper.toml (N/50 groups), and DES on dense.toml (N/25
    groups, slots of a fluid run, queues included; HID there prices the capacities)."""
    cells = [("closed", n, load_scenario(BASE, {"network.num_ues": n,
                                                "network.num_groups": max(2, n // 50)}))
             for n in sizes]
    cells += [("des", n, load_scenario(DENSE, {"network.num_ues": n,
                                               "network.num_groups": max(2, n // 25)}))
              for n in des_sizes]
    rows = []
    for engine, n, scenario in cells:
        states = ([cell_slots(scenario, 0, slots).take(k) for k in range(slots)]
                  if engine == "closed" else des_slots(scenario, slots))
        named = {p: make_policy(p, scenario, policy_rng(0)) for p in ("hid", "oracle",
                                                                      "fluid", "dpp")}
        times: dict[str, list[float]] = {p: [] for p in named}
        for policy in named.values():
            policy.decide(states[0])
        for _ in range(rounds):
            for state in states:
                for p, policy in named.items():
                    start = time.perf_counter()
                    policy.decide(state)
                    times[p].append(time.perf_counter() - start)
        rows += [{"engine": engine, "num_ues": n, "policy": p,
                  "median_ms": 1e3 * statistics.median(t), "calls": len(t),
                  "load_average": os.getloadavg()[0]}
                 for p, t in times.items()]
        print(f"decide, {engine}, N = {n}: " + ", ".join(
            f"{r['policy']} {r['median_ms']:.2f} ms" for r in rows[-4:]), flush=True)
    return pd.DataFrame(rows)


def timed_sweep(out: Path) -> pd.DataFrame:
    """``hybridnet sweep paper.toml --policy hid`` over SWEEP_GRID from an empty controller
    cache, as a user types it (a fresh process, its embedded Dask cluster), timed."""
    grid = [f"network.num_ues={','.join(map(str, SWEEP_GRID['network.num_ues']))}",
            "reward.weights=" + ";".join(str(w).replace(" ", "")
                                         for w in SWEEP_GRID["reward.weights"])]
    command = [sys.executable, "-m", "hybridnet", "sweep", BASE, "--policy", "hid",
               "--engine", "closed", "--out", str(out), "--force"]
    for item in grid:
        command += ["--grid", item]
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        subprocess.run(command, check=True, env={**os.environ, "HYBRIDNET_CACHE": cache})
        elapsed = time.perf_counter() - start
        trained = any(Path(cache).iterdir())
    cells = len(read_results(out))
    print(f"sweep of {cells} cells with --policy hid from an empty cache: {elapsed:.1f} s "
          f"(a controller trained: {trained})", flush=True)
    return pd.DataFrame([{"cells": cells, "elapsed_s": elapsed, "trained": trained}])


def timed_dense_run(out: Path) -> pd.DataFrame:
    """``hybridnet run scenarios/dense.toml`` (300 UEs, queues, its 30 slots) from an empty
    controller cache, as a user types it (a fresh process), timed."""
    with tempfile.TemporaryDirectory() as cache:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hybridnet", "run", DENSE, "--out", str(out),
                        "--force"], check=True, env={**os.environ, "HYBRIDNET_CACHE": cache})
        elapsed = time.perf_counter() - start
        trained = any(Path(cache).iterdir())
    print(f"hybridnet run dense.toml from an empty cache: {elapsed:.1f} s "
          f"(a controller trained: {trained})", flush=True)
    return pd.DataFrame([{"elapsed_s": elapsed, "trained": trained}])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-training", action="store_true",
                        help="neither specialists nor fine-tuned generalists")
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--specialists", action="store_true",
                        help="only the specialists (specialists.csv), which need no generalist")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.specialists:
        rows = [row for name in SPECIALIST_CELLS for row in specialist_rows(name, CELLS[name])]
        pd.DataFrame(rows).to_csv(args.out / "specialists.csv", index=False)
        return
    results = args.out / "results.csv"
    done = pd.read_csv(results) if results.is_file() else pd.DataFrame(columns=["cell"])
    with tempfile.TemporaryDirectory() as tuned_dir:
        for name in args.cells:
            if name in set(done["cell"]):
                continue
            rows = pd.DataFrame(score_cell(name, CELLS[name], not args.no_training,
                                           Path(tuned_dir)))
            done = rows if done.empty else pd.concat([done, rows], ignore_index=True)
            done.to_csv(results, index=False)          # after every cell: a rerun resumes
    if not (args.out / "random_cells.csv").is_file():
        random_cells(RANDOM_CELLS).to_csv(args.out / "random_cells.csv", index=False)
    if not args.skip_timing:
        decide_times(TIMING_SIZES, DES_TIMING_SIZES).to_csv(args.out / "timing.csv", index=False)
        timed_sweep(args.out / "sweeps" / "hid").to_csv(args.out / "sweep_timing.csv",
                                                        index=False)
        with tempfile.TemporaryDirectory() as runs:
            timed_dense_run(Path(runs) / "dense").to_csv(args.out / "dense_run_timing.csv",
                                                         index=False)


if __name__ == "__main__":
    main()
