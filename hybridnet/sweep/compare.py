"""Comparing policies: every policy run on the same seeds, summed up with 95 % intervals.

A comparison is a sweep whose one axis is the policy: each (policy, seed) is
one :func:`~hybridnet.sweep.cell.run_cell`, exactly ``hybridnet run SCENARIO
--policy P --seed S``, run in this process or, when asked (``workers`` or a
``scheduler``), on Dask like a sweep's cells.

The runs are *paired*: a policy draws from its own random stream
(:func:`hybridnet.api.policy_rng`), and every other stream (UE positions and
frequencies, fading, prompts, arrivals) comes from the seed alone, so under
one seed every policy faces the very same slots. The difference of two
policies is then measured seed by seed, and its interval is that of the
per-seed differences: the world's variation between seeds cancels, which
makes it much narrower than the two policies' own intervals would suggest.

Intervals are Student-t intervals over the seeds (``mean +- t(0.975, K-1) *
sd / sqrt(K)``), each seed's run counting once: the slots of one run share a
world and are not independent draws.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from hybridnet.errors import HybridnetError
from hybridnet.metrics import METRICS
from hybridnet.outputs import Claim
from hybridnet.policies.plugin import FILE_SPEC, plugin_kind
from hybridnet.registry import ENGINES
from hybridnet.scenario import Scenario, to_dict, to_toml, toml_value
from hybridnet.sweep.cell import check_policy, run_cell

KIND = "compare"
"""The kind of output a comparison directory is, in its marker and its claim."""
RUNS = "runs.csv"
"""One row per policy and seed: every metric of the run (the CSV behind the table)."""
TABLE = "table.csv"
"""One row per policy and compared metric: mean, interval, paired difference."""
FIGURE = "compare.png"
SETTINGS = "compare.toml"

COMPARED: Mapping[str, str] = {
    "reward": "reward per slot (eq. 17a)",
    "qos_per_ue": "QoS per request",
    "delay_per_ue_s": "delay per request (s)",
    "energy_per_ue_j": "energy per request (J)",
    "t_wait_s": "waiting per request (s)",
}
"""The metrics the table and the figure compare (:data:`~hybridnet.metrics.METRICS` names),
with the label each is shown under."""

CONFIDENCE = 0.95
MIN_SEEDS = 2
"""An interval over seeds needs at least two of them."""

TABLE_COLUMNS = ("policy", "metric", "seeds", "mean", "ci_low", "ci_high", "baseline",
                 "diff_mean", "diff_ci_low", "diff_ci_high")


@dataclass(frozen=True)
class ComparePlan:
    """A validated comparison: what runs, nothing written yet."""

    scenario: Scenario
    """The scenario every run simulates, unresolved (each run resolves its "auto" keys)."""
    policies: tuple[str, ...]
    seeds: tuple[int, ...]
    engine: str
    baseline: str
    """The policy every other one is differenced against, seed by seed."""

    @property
    def runs(self) -> list[tuple[str, int]]:
        """Every (policy, seed) to simulate, policy by policy."""
        return [(policy, seed) for policy in self.policies for seed in self.seeds]


def plan_compare(scenario: Scenario, policies: Sequence[str], seeds: Sequence[int], *,
                 engine: str = "des", baseline: str | None = None) -> ComparePlan:
    """Check a comparison before anything runs: every policy is built once for the scenario.

    A misspelt policy, a policy given twice, a baseline that is not among the
    policies, or too few seeds is one line here, not a failure after minutes of
    simulation. ``hid`` is not built (that would train it): each of its runs
    trains or finds its controller, as ``hybridnet run`` does.
    """
    policies = tuple(policies)
    seeds = tuple(seeds)
    if len(policies) < 2:
        raise HybridnetError("--policy: give at least two policies to compare (repeat --policy)")
    repeated = next((p for p in policies if policies.count(p) > 1), None)
    if repeated is not None:
        raise HybridnetError(f"--policy {repeated}: given twice; give each policy once")
    if len(seeds) < MIN_SEEDS:
        raise HybridnetError(f"--seeds: give at least {MIN_SEEDS} seeds; a confidence interval "
                             "over seeds needs two")
    if engine not in ENGINES:
        raise HybridnetError(f"unknown engine '{engine}'; allowed: {', '.join(ENGINES)}")
    baseline = policies[0] if baseline is None else baseline
    if baseline not in policies:
        raise HybridnetError(f"--baseline {baseline}: not among the policies compared "
                             f"({', '.join(policies)}); give it with --policy too")
    scenario = scenario.with_values({})
    for policy in policies:
        check_policy(scenario, policy)
    return ComparePlan(scenario, policies, seeds, engine, baseline)


def _run_local(plan: ComparePlan, on_run: Callable[[str, int], None] | None
               ) -> list[dict[str, float]]:
    base_toml = to_toml(plan.scenario)
    rows = []
    for policy, seed in plan.runs:
        rows.append(run_cell(base_toml, plan.scenario.source, {}, seed, policy, plan.engine,
                             None))
        if on_run is not None:
            on_run(policy, seed)
    return rows


def _run_dask(plan: ComparePlan, scheduler: str | None, workers: int | None,
              on_run: Callable[[str, int], None] | None) -> list[dict[str, float]]:
    from distributed import as_completed

    from hybridnet.sweep.run import dask_client

    base_toml = to_toml(plan.scenario)
    with dask_client(scheduler, workers) as client:
        futures = {client.submit(run_cell, base_toml, plan.scenario.source, {}, seed, policy,
                                 plan.engine, None, pure=False): i
                   for i, (policy, seed) in enumerate(plan.runs)}
        rows: list[dict[str, float] | None] = [None] * len(futures)
        for future in as_completed(futures):
            i = futures[future]
            rows[i] = future.result()
            future.release()
            if on_run is not None:
                on_run(*plan.runs[i])
    return [row for row in rows if row is not None]


def _train_hid(plan: ComparePlan) -> None:
    """Train (or find cached) ``hid``'s specialist here, once, before the runs load it (the
    shipped generalist needs no training).

    Every run of ``hid`` would otherwise train it silently, and on Dask several
    workers would train the same controller at once. Here its training is
    announced and followed (:mod:`hybridnet.rl.progress`), then cached for the runs.
    """
    from hybridnet.model.reference import resolve_references
    from hybridnet.rl.policy import controller_kind, train_cached

    resolved = resolve_references(plan.scenario)
    if controller_kind(resolved) == "specialist":
        train_cached(resolved, progress=True)


def run_compare(plan: ComparePlan, *, scheduler: str | None = None, workers: int | None = None,
                on_run: Callable[[str, int], None] | None = None) -> pd.DataFrame:
    """Simulate every (policy, seed) of ``plan``; one row each: policy, seed, the metrics.

    In this process unless ``workers`` or ``scheduler`` asks for Dask (then as
    a sweep's cells are run: :func:`hybridnet.sweep.dask_client`); ``hid``'s
    controller is trained (or found cached) here first. A run that
    fails stops the comparison with its error: a table with a hole in it would
    compare policies on different seeds. ``on_run`` sees every finished run.
    """
    if "hid" in plan.policies:
        _train_hid(plan)
    rows = (_run_dask(plan, scheduler, workers, on_run) if scheduler or workers
            else _run_local(plan, on_run))
    return pd.DataFrame([{"policy": policy, "seed": seed, "engine": plan.engine,
                          **{name: row[name] for name in METRICS}, "elapsed_s": row["elapsed_s"]}
                         for (policy, seed), row in zip(plan.runs, rows, strict=True)])


def interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and Student-t :data:`CONFIDENCE` interval of ``values`` (one per seed)."""
    arr = np.asarray(values, dtype=float)
    mean = float(arr.mean())
    if arr.size < 2:
        return mean, math.nan, math.nan
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, arr.size - 1) * arr.std(ddof=1)
                 / math.sqrt(arr.size))
    return mean, mean - half, mean + half


def compare_table(runs: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """:data:`TABLE_COLUMNS` for every policy and :data:`COMPARED` metric.

    ``diff_*`` is the policy minus the baseline, paired by seed (the baseline's
    own row holds 0 with no interval). Seeds one policy lacks are left out of
    its difference, so each difference is over the seeds both ran.
    """
    base = runs[runs["policy"] == baseline].set_index("seed")
    rows = []
    for policy, group in runs.groupby("policy", sort=False):
        mine = group.set_index("seed")
        shared = mine.index.intersection(base.index)
        for metric in COMPARED:
            mean, low, high = interval(mine[metric])
            if policy == baseline:
                diff = (0.0, math.nan, math.nan)
            else:
                diff = interval(mine.loc[shared, metric] - base.loc[shared, metric])
            rows.append({"policy": policy, "metric": metric, "seeds": len(mine),
                         "mean": mean, "ci_low": low, "ci_high": high, "baseline": baseline,
                         "diff_mean": diff[0], "diff_ci_low": diff[1], "diff_ci_high": diff[2]})
    return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))


def short_label(policy: str) -> str:
    """A policy as a table row or an axis shows it: a file's name, not its whole path."""
    if plugin_kind(policy) == FILE_SPEC:
        where, _, attr = policy.rpartition(":")
        return f"{Path(where).name}:{attr}"
    path = Path(policy)
    return str(Path(*path.parts[-2:])) if len(path.parts) > 2 else policy


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with :func:`short_label` policies, unless two would then read the same."""
    labels = {p: short_label(p) for p in table["policy"].unique()}
    if len(set(labels.values())) < len(labels):
        return table
    return table.assign(policy=table["policy"].map(labels), baseline=table["baseline"].map(
        lambda b: labels.get(b, b)))


def format_table(table: pd.DataFrame) -> str:
    """The table as a reader wants it on screen: one line per policy, ``mean +- half-width``."""
    def cell(mean: float, low: float, high: float) -> str:
        if math.isnan(low):
            return f"{mean:.4g}"
        return f"{mean:.4g} ± {(high - low) / 2:.2g}"

    table = _shown(table)
    wide: dict[str, dict[str, str]] = {}
    for row in table.itertuples():
        wide.setdefault(row.policy, {})[row.metric] = cell(row.mean, row.ci_low, row.ci_high)
    names = {"reward": "reward", "qos_per_ue": "QoS", "delay_per_ue_s": "delay (s)",
             "energy_per_ue_j": "energy (J)", "t_wait_s": "waiting (s)"}
    frame = pd.DataFrame.from_dict(wide, orient="index")[list(COMPARED)].rename(columns=names)
    frame.index.name = "policy"
    baseline = table["baseline"].iloc[0]
    diffs = table[(table["metric"] == "reward") & (table["policy"] != baseline)]
    lines = [frame.to_string(), "", f"reward minus {baseline}'s, paired by seed "
             f"(mean, {CONFIDENCE * 100:.0f} % interval):"]
    for row in diffs.itertuples():
        lines.append(f"  {row.policy}: {row.diff_mean:+.4g} "
                     f"[{row.diff_ci_low:+.4g}, {row.diff_ci_high:+.4g}]")
    return "\n".join(lines)


def settings_toml(plan: ComparePlan) -> str:
    """compare.toml: what the comparison ran, and the scenario every run simulated."""
    lines = ["# hybridnet compare: runs.csv holds one row per policy and seed, each the",
             "# [scenario] below simulated as `hybridnet run --policy P --seed S` would;",
             "# table.csv sums them up (95 % Student-t intervals over the seeds, and each",
             "# policy minus the baseline, paired by seed: every policy saw the same slots).",
             "[compare]",
             f"source = {toml_value(plan.scenario.source)}",
             f"policies = {toml_value(list(plan.policies))}",
             f"baseline = {toml_value(plan.baseline)}",
             f"engine = {toml_value(plan.engine)}",
             f"seeds = {toml_value(list(plan.seeds))}"]
    for section, table in to_dict(plan.scenario).items():
        lines += ["", f"[scenario.{section}]"]
        lines += [f"{key} = {toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def default_compare_dir(scenario: Path | str, root: str = "comparisons") -> Path:
    """``comparisons/{scenario}__{time}``: claim it with :func:`hybridnet.outputs.claim_fresh`."""
    stem = re.sub(r"[^A-Za-z0-9_.+-]+", "-", Path(scenario).stem) or "scenario"
    return Path(root) / f"{stem}__{time.strftime('%Y%m%d-%H%M%S')}"


def write_compare(held: Claim, plan: ComparePlan, runs: pd.DataFrame, table: pd.DataFrame,
                  *, plot: bool = True) -> Path:
    """Write runs.csv, table.csv, compare.toml and the figure into ``held``'s directory.

    All of it lands at once (a temporary sibling renamed into place), so an
    interrupted comparison leaves the old directory or the new one.
    """
    from hybridnet.plots import plot_compare

    with held.write_dir() as tmp:
        runs.to_csv(tmp / RUNS, index=False, float_format="%.17g")
        table.to_csv(tmp / TABLE, index=False, float_format="%.17g")
        (tmp / SETTINGS).write_text(settings_toml(plan), encoding="utf-8")
        if plot:
            title = (f"{Path(plan.scenario.source).name}, {plan.engine} engine: mean of "
                     f"{len(plan.seeds)} seeds, {CONFIDENCE * 100:.0f} % interval")
            plot_compare(_shown(table), COMPARED, tmp / FIGURE, title=title)
    return held.target
