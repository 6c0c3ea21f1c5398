"""What the experiment modules share: their command-line options, how a figure is made and
saved, and how a study scores HID and the oracle on a set of cells through the sweep
machinery.

Figures are built on matplotlib's object API (:class:`~matplotlib.figure.Figure`), never
through pyplot, so no display backend is chosen and nothing has to be set before an import.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from hybridnet.api import load_scenario
from hybridnet.rl.policy import train_cached
from hybridnet.scenario import read_scenario
from hybridnet.sweep import plan_sweep, read_results, run_sweep, value_text

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "experiments" / "results"


def evaluation_parser(doc: str, results: str, *, jobs: bool = True,
                      episodes: int | None = None) -> argparse.ArgumentParser:
    """Options of an experiment that trains controllers and evaluates them on fresh slots.

    ``doc`` is the script's docstring (its first paragraph describes the script);
    ``results`` is the default ``--out``, relative to experiments/results.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "paper.toml"))
    parser.add_argument("--episodes", type=int, default=episodes,
                        help="default: [train] episodes" if episodes is None else None)
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--eval-seed", type=int, default=2025)
    parser.add_argument("--eval-slots", type=int, default=100)
    if jobs:
        parser.add_argument("--jobs", type=int, default=2,
                            help="runs in parallel (worker processes of the embedded Dask "
                                 "cluster)")
    parser.add_argument("--out", type=Path, default=RESULTS / results)
    return parser


def subplots(*grid: int, figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Any]:
    """A new figure and its axes (``Figure.subplots``'s arguments), outside pyplot: the
    figure is freed with its last reference, however many a study draws."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*grid, **kwargs)


def save_figure(fig: Figure, out: Path) -> None:
    """Lay the figure out and write it."""
    fig.tight_layout()
    fig.savefig(out, dpi=120)


def evaluation_base(scenario_path: str, values: Mapping[str, Any],
                    eval_slots: int) -> dict[str, Any]:
    """``values`` plus the evaluation's ``sim.slots``, training's episode length kept.

    ``train.episode_slots`` defaults to ``sim.slots``, so it is pinned to what the
    scenario with ``values`` alone trains on: a controller is trained on the
    same episodes however many slots it is then evaluated on.
    """
    episode_slots = load_scenario(scenario_path, dict(values)).train.episode_slots
    return {**values, "sim.slots": eval_slots, "train.episode_slots": episode_slots}


def run_cells(scenario_path: str, base: Mapping[str, Any], grid: Mapping[str, Sequence[Any]],
              policy: str, out: Path, *, seeds: Sequence[int], workers: int) -> pd.DataFrame:
    """The sweep ``out`` of ``policy`` over ``grid`` on ``scenario_path`` + ``base``, run or
    resumed on an embedded Dask cluster of ``workers`` processes (closed form): its rows."""
    if policy == "hid":                  # a controller trained for each cell, as studied here
        base = {**base, "train.controller": "specialist"}
    plan = plan_sweep(read_scenario(scenario_path, dict(base)), grid, out, policy=policy,
                      engine="closed", seeds=seeds)
    report = run_sweep(plan, workers=workers)
    if report.failed:
        raise SystemExit(f"{report.failed} cells failed: see the error column of "
                         f"{report.results}, then rerun to retry them")
    return read_results(out)


def training_log(scenario_path: str, values: Mapping[str, Any]) -> pd.DataFrame:
    """The per-episode log (training.csv's columns) of the controller a HID sweep cell of
    ``values`` trained; found in the cache (HYBRIDNET_CACHE) that cell filled."""
    scenario = load_scenario(scenario_path, dict(values))
    return pd.DataFrame(train_cached(scenario, progress=False).training["history"])


def sweep_ways(scenario_path: str, key: str, values: Mapping[str, Any], ways: Sequence[str],
               sweeps: Path, *, train_seed: int, episodes: int | None, eval_seed: int,
               eval_slots: int, workers: int, fixed: Mapping[str, Any] | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every way (``hid-MODE``, ``oracle``) on every value of scenario ``key``.

    Each way is a sweep (:func:`run_cells`) in ``sweeps/{hid,oracle}``, so a
    rerun resumes and a trained controller is cached per cell: HID in each
    mode (``train.mode``) is trained with ``train.seed`` = ``train_seed``, on
    the scenario's own training episodes, then acts greedily on fresh
    evaluation slots (``[sim] seed`` = ``eval_seed``, ``eval_slots`` of them,
    closed form), where the oracle is scored too. ``values`` maps each label to
    the value of ``key``; ``fixed`` are keys every cell sets.

    Returns one row per label and way (``label``, ``way``, the evaluation
    reward and per-UE QoS, delay and energy, and for HID the converged reward
    of episodes 300-499 and ``train_s``, the cell's seconds: training plus
    evaluation, about 1 s when the controller was found cached) and the HID
    trainings' per-episode logs (``label``, ``way`` and training.csv's columns).
    """
    plain = {**(fixed or {}), "train.seed": train_seed}
    if episodes is not None:
        plain["train.episodes"] = episodes
    base = evaluation_base(scenario_path, plain, eval_slots)
    modes = [way.removeprefix("hid-") for way in ways if way.startswith("hid-")]
    grids = {"hid": {"train.mode": modes, key: list(values.values())}} if modes else {}
    if "oracle" in ways:
        grids["oracle"] = {key: list(values.values())}
    labels = {value_text(value): label for label, value in values.items()}
    rows = []
    for policy, grid in grids.items():
        frame = run_cells(scenario_path, base, grid, policy, sweeps / policy,
                          seeds=[eval_seed], workers=workers)
        way = "hid-" + frame["train.mode"] if policy == "hid" else pd.Series("oracle", frame.index)
        rows.append(pd.DataFrame({
            "label": frame[key].map(lambda text: labels[str(text)]), "way": way,
            "reward": frame["reward"], "qos": frame["qos_per_ue"],
            "delay_s": frame["delay_per_ue_s"], "energy_j": frame["energy_per_ue_j"],
            **({"converged_reward": frame["converged_reward"],
                "converged_oracle_reward": frame["converged_oracle_reward"],
                "train_s": frame["elapsed_s"]} if policy == "hid" else {}),
        }))
    logs = [training_log(scenario_path, {**base, key: value, "train.mode": mode}).assign(
                label=label, way=f"hid-{mode}")
            for mode in modes for label, value in values.items()]
    rank = {"way": {way: i for i, way in enumerate(ways)},
            "label": {label: i for i, label in enumerate(values)}}
    results = pd.concat(rows, ignore_index=True).sort_values(
        ["way", "label"], key=lambda column: column.map(rank[column.name]), kind="stable")
    results = results.reset_index(drop=True)
    return results, pd.concat(logs, ignore_index=True) if logs else pd.DataFrame()
