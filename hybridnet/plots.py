"""Figures drawn from run outputs: the per-UE timeline (a Gantt chart of the phases),
the queues over a run, metrics of a sweep against a grid key, policies compared,
training curves, and the schemes compared.

Plots read the same tidy frames the run, sweep and training directories hold,
so a figure can be redrawn from the CSVs alone (``hybridnet plot timeline
RUN_DIR``, ``hybridnet plot sweep DIR``, ...). They take the data, not the
modules that produce it: whoever reads a directory (the CLI, a script) passes
its frames, so this module sits below the run directory and the sweeps.
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from hybridnet.errors import HybridnetError  # noqa: E402
from hybridnet.model.hiqm import PaperHIQM, QosModel  # noqa: E402
from hybridnet.outputs import FIGURE_SIGNATURE  # noqa: E402
from hybridnet.scenario import SECTIONS  # noqa: E402
from hybridnet.sim.trace import QUEUE_COLUMNS  # noqa: E402
from hybridnet.tables import read_table  # noqa: E402

_METADATA_KEY = {"png": "Software", "pdf": "Creator", "svg": "Creator"}


def save_figure(fig: Figure, out: str | Path, *, fmt: str | None = None, dpi: int = 120) -> None:
    """Save ``fig`` signed as hybridnet's, so that ``--force`` knows it may replace it.

    The format follows ``fmt`` or the suffix of ``out``.
    """
    fmt = (fmt or Path(out).suffix.lstrip(".") or "png").lower()
    key = _METADATA_KEY.get(fmt)
    metadata = {key: FIGURE_SIGNATURE.decode()} if key else None
    fig.savefig(out, format=fmt, dpi=dpi, bbox_inches="tight", metadata=metadata)


PHASE_COLOURS = {
    "common": "#8c8c8c",
    "es": "#1f77b4",
    "tx": "#ff7f0e",
    "ue": "#2ca02c",
    "wait": "#d62728",
}
PHASE_LABELS = {
    "common": "common phase (ES, shared by the group)",
    "es": "personalized phase I (ES)",
    "tx": "downlink",
    "ue": "personalized phase II (UE)",
    "wait": "waiting for a resource",
}


def plot_timeline(events: pd.DataFrame, ues: pd.DataFrame, out: str | Path,
                  ue_ids: list[int] | None = None, slot_ids: list[int] | None = None,
                  slot_starts_s: Mapping[int, float] | None = None) -> Path:
    """Per-UE Gantt chart: one row per UE, its phases on one lane and its waiting beneath.

    Defaults to the first 20 UEs and the first 3 slots, which stays readable.
    Each UE row has two lanes: the phases (common, ES, downlink, UE) on the
    upper one, the time spent waiting for a resource (between a phase's ready
    and start times) on a thin lower one, so a wait never hides the compute it
    overlaps (a UE CPU still busy with the previous slot's request). Bars of
    alternate slots are hatched, so consecutive requests of one UE part where
    they touch; ``slot_starts_s`` (slot -> decision epoch, queues.csv's
    ``t_s``) adds each slot's start as a dashed line with its label.
    """
    ue_ids = sorted(ues["ue"].unique())[:20] if ue_ids is None else ue_ids
    slot_ids = sorted(ues["slot"].unique())[:3] if slot_ids is None else slot_ids
    sel_ues = ues[ues["ue"].isin(ue_ids) & ues["slot"].isin(slot_ids)]
    sel_events = events[events["ue"].isin(ue_ids) & events["slot"].isin(slot_ids)]
    row = {ue: i for i, ue in enumerate(ue_ids)}
    hatched = {slot for i, slot in enumerate(sorted(slot_ids)) if i % 2 == 1}
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.32 * len(ue_ids)))
    phase_h, wait_h = 0.55, 0.18
    phase_y, wait_y = -0.12, 0.3   # lane centres relative to the row

    def bars(frame: pd.DataFrame, start: str, end: str, colour: str, centre: float,
             height: float) -> None:
        for (ue, slot), group in frame.groupby(["ue", "slot"]):
            spans = [(a, b - a) for a, b in zip(group[start], group[end], strict=True) if b > a]
            if spans:
                ax.broken_barh(spans, (row[ue] + centre - height / 2, height),
                               facecolors=colour, edgecolor="white", linewidth=0.4,
                               hatch="////" if slot in hatched else None)

    common = sel_ues.assign(t_common_end_s=sel_ues["t_request_s"] + sel_ues["t_common_s"])
    bars(common, "t_request_s", "t_common_end_s", PHASE_COLOURS["common"], phase_y, phase_h)
    for phase in ("es", "tx", "ue"):
        rows = sel_events[sel_events["phase"] == phase]
        bars(rows, "t_start_s", "t_end_s", PHASE_COLOURS[phase], phase_y, phase_h)
        bars(rows, "t_ready_s", "t_start_s", PHASE_COLOURS["wait"], wait_y, wait_h)
    ax.set_yticks(range(len(ue_ids)), [f"UE {u}" for u in ue_ids])
    ax.set_ylim(len(ue_ids) - 0.4, -0.9)
    _mark_slot_starts(ax, slot_ids, slot_starts_s or {})
    ax.set_xlabel("time (s)")
    ax.set_ylabel("user equipment")
    slots_text = ", ".join(str(s) for s in slot_ids)
    ax.set_title(f"Per-UE timeline, slots {slots_text}")
    ax.legend(handles=_timeline_handles(hatched, bool(slot_starts_s)), loc="upper center",
              bbox_to_anchor=(0.5, -0.1 - 0.6 / max(len(ue_ids), 1)), ncol=3, fontsize=8,
              frameon=False)
    return _save(fig, out)


def _mark_slot_starts(ax: Axes, slot_ids: list[int], slot_starts_s: Mapping[int, float]
                      ) -> None:
    """Each drawn slot's decision epoch as a dashed line labelled with the slot."""
    for slot in sorted(slot_ids):
        if slot in slot_starts_s:
            t = float(slot_starts_s[slot])
            ax.axvline(t, color="black", linestyle="--", linewidth=0.9, zorder=1)
            ax.text(t, -0.75, f" slot {slot}", fontsize=8, va="center", ha="left")


def _timeline_handles(hatched: set[int], with_starts: bool) -> list[Artist]:
    """The timeline's legend: the phases, which slots are hatched, the slot-start line."""
    handles: list[Artist] = [Patch(color=c, label=PHASE_LABELS[p])
                             for p, c in PHASE_COLOURS.items()]
    if hatched:
        handles.append(Patch(facecolor="#bbbbbb", edgecolor="white", hatch="////",
                             label="hatched: slot " + ", ".join(map(str, sorted(hatched)))))
    if with_starts:
        handles.append(Line2D([], [], color="black", linestyle="--", linewidth=0.9,
                              label="a slot's start (decision epoch)"))
    return handles


# --------------------------------------------------------------------------- sweeps, training

UNIT_SUFFIXES = {"_hz": "Hz", "_s": "s", "_j": "J", "_m": "m", "_w": "W", "_db": "dB",
                 "_bps": "bit/s", "_dbm_hz": "dBm/Hz"}
METRIC_LABELS = {
    "reward": "reward per slot (eq. 17a, normalised)",
    "qos": "QoS per slot, sum over UEs",
    "delay_s": "delay per slot, sum over UEs (s)",
    "energy_j": "energy per slot (J)",
    "qos_per_ue": "QoS per request",
    "delay_per_ue_s": "delay per request (s)",
    "delay_p95_s": "95th percentile delay per request (s)",
    "energy_per_ue_j": "energy per request (J)",
    "t_wait_s": "queueing time per request (s)",
    "elapsed_s": "wall-clock time per run (s)",
}


def plot_backlog(queues: pd.DataFrame, ues: pd.DataFrame, out: str | Path,
                 title: str = "") -> Path:
    """The queues over a run: is the cell stable under this policy?

    Three panels against the decision epochs: the ES backlog per compute
    unit; the distribution of the UEs' CPU backlogs (median, 90th percentile,
    maximum, and the 10-90 % band) with the mean waiting of each slot's
    requests; the downlink's transmissions in flight and the bits they still
    carry. A stable cell has every curve level off; a backlog that climbs
    slot after slot is a queue the policy overloads. Every axis starts at 0
    and names its unit; legends sit beside the panels, over no curve. A run in
    which no queue ever formed (dedicated resources, synchronous requests) is
    one panel saying so, not three flat lines.
    """
    _require(queues, list(QUEUE_COLUMNS), "queues")
    _require(ues, ["slot", "backlog_s", "t_wait_s"], "ues")
    sns.set_theme(style="whitegrid")
    measured = [c for c in QUEUE_COLUMNS if c not in ("slot", "t_s")]
    if not (queues[measured].to_numpy(dtype=float).any()
            or ues[["backlog_s", "t_wait_s"]].to_numpy(dtype=float).any()):
        return _no_queue_figure(len(queues), out, title)
    per_slot = ues.groupby("slot")["backlog_s"]
    t_s = queues.set_index("slot")["t_s"]
    low, mid, high = (per_slot.quantile(q).reindex(t_s.index) for q in (0.1, 0.5, 0.9))
    wait = ues.groupby("slot")["t_wait_s"].mean().reindex(t_s.index)
    fig, axes = plt.subplots(3, 1, figsize=(10, 8), sharex=True)
    axes[0].plot(queues["t_s"], queues["es_backlog_s"], color=PHASE_COLOURS["es"],
                 label="ES backlog per compute unit")
    axes[0].set_ylabel("ES backlog (s)")
    axes[1].fill_between(t_s, low, high, color=PHASE_COLOURS["ue"], alpha=0.25,
                         label="UE backlog, 10-90 %")
    axes[1].plot(t_s, mid, color=PHASE_COLOURS["ue"], label="UE backlog, median")
    axes[1].plot(queues["t_s"], queues["ue_backlog_max_s"], color=PHASE_COLOURS["ue"],
                 linestyle=":", label="UE backlog, max")
    axes[1].plot(t_s, wait, color=PHASE_COLOURS["wait"], label="mean waiting of the slot")
    axes[1].set_ylabel("UE CPU backlog,\nwaiting (s)")
    axes[2].plot(queues["t_s"], queues["downlink_in_flight"], color=PHASE_COLOURS["tx"],
                 label="transmissions in flight")
    axes[2].set_ylabel("downlink: in flight\n(transmissions)", color=PHASE_COLOURS["tx"])
    bits = axes[2].twinx()
    bits.plot(queues["t_s"], queues["downlink_bits"] / 1e6, color="#7f7f7f", linestyle="--",
              label="bits still to send")
    bits.set_ylabel("still to send (Mbit)", color="#7f7f7f")
    bits.grid(False)
    bits.set_ylim(bottom=0)
    for ax in axes:
        ax.set_ylim(bottom=0)
        if not ax.get_ylim()[1] > 0:
            ax.set_ylim(0, 1)
    _legends_beside(axes, bits)
    axes[2].set_xlabel("decision epoch t_k (s)")
    axes[0].set_title(title or "queues at each decision epoch")
    return _save(fig, out)


def _no_queue_figure(slots: int, out: str | Path, title: str) -> Path:
    """One panel saying no queue formed, instead of three flat lines at 0."""
    fig, ax = plt.subplots(figsize=(8, 2.2))
    ax.text(0.5, 0.5, f"No queue formed in {slots} slots: the ES, the UE CPUs and "
            "the downlink were idle\nat every decision epoch and no request waited.",
            transform=ax.transAxes, ha="center", va="center", fontsize=10)
    ax.set_axis_off()
    ax.set_title(title or "queues at each decision epoch")
    return _save(fig, out)


def _legends_beside(axes: np.ndarray, bits: Axes) -> None:
    """Each panel's legend right of it, over no curve; the downlink's with its twin axis'."""
    handles = axes[2].get_legend_handles_labels()
    extra = bits.get_legend_handles_labels()
    for ax, (lines, labels) in ((axes[0], axes[0].get_legend_handles_labels()),
                                (axes[1], axes[1].get_legend_handles_labels()),
                                (axes[2], (handles[0] + extra[0], handles[1] + extra[1]))):
        ax.legend(lines, labels, fontsize="small", loc="upper left", bbox_to_anchor=(1.08, 1.0),
                  frameon=False)


def axis_label(column: str) -> str:
    """An axis label with its unit: a metric's by name, a scenario key's from its declared doc.

    Scenario docs state their unit ("ES CPU frequency per task f^ES, Hz"), so a
    grid key's axis reads as the schema explains it; anything else falls back to
    the unit its name ends in.
    """
    if column in METRIC_LABELS:
        return METRIC_LABELS[column]
    section, _, key = column.partition(".")
    if section in SECTIONS:
        docs = {f.name: f.metadata["doc"] for f in dataclasses.fields(SECTIONS[section])}
        if key in docs:
            return _short_doc_label(column, docs[key])
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if column.endswith(suffix):
            return f"{column} ({UNIT_SUFFIXES[suffix]})"
    return column


def _short_doc_label(column: str, doc: str, width: int = 60, lines: int = 2) -> str:
    """``column: doc`` in at most ``lines`` lines: a long doc is cut at its first clause.

    A key's doc can run to a paragraph (a list of every allowed value); an axis
    label needs only what the key is and its unit, which open the doc.
    """
    text = f"{column}: {doc}"
    if len(textwrap.wrap(text, width)) > lines:
        head = doc
        for stop in ("; ", ": ", " ("):
            head = head.split(stop, 1)[0]
        text = f"{column}: {head}"
    wrapped = textwrap.wrap(text, width)
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1:]), width)]
    return "\n".join(wrapped)


def _save(fig: plt.Figure, out: str | Path) -> Path:
    fig.tight_layout()
    out = Path(out)
    save_figure(fig, out)
    plt.close(fig)
    return out


def _require(frame: pd.DataFrame, columns: list[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise HybridnetError(
            f"{where}: no column {', '.join(missing)}; it has {', '.join(map(str, frame.columns))}"
        )


def plot_sweep(results: pd.DataFrame, x: str, y: str, out: str | Path,
               hue: str | None = None) -> Path:
    """A metric of a sweep against one grid key: the mean over seeds, with a 95 % CI band.

    ``results`` is a sweep's results.csv as a frame
    (:func:`hybridnet.sweep.read_results`); failed rows, should it still have
    them, are left out. The band is a bootstrap over the seeds of each cell
    (fixed bootstrap seed, so redrawing gives the same figure); with one seed
    per cell it is simply absent.
    """
    frame = results[results["error"].isna()] if "error" in results else results
    _require(frame, [c for c in (x, y, hue) if c is not None], "sweep results")
    seeds = frame["seed"].nunique() if "seed" in frame else 1
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    policy = ", ".join(map(str, frame["policy"].unique())) if "policy" in frame else "runs"
    band = f"mean of {seeds} seeds, 95 % CI" if seeds > 1 else "1 seed"
    if hue:
        sns.lineplot(data=frame, x=x, y=y, hue=hue, marker="o", errorbar=("ci", 95), seed=0,
                     ax=ax)
        ax.legend(title=f"{hue} ({band})")
    else:
        sns.lineplot(data=frame, x=x, y=y, marker="o", errorbar=("ci", 95), seed=0, ax=ax,
                     label=f"{policy} ({band})")
    ax.set_xlabel(axis_label(x))
    ax.set_ylabel(axis_label(y))
    # Honest scale: the axis reaches 0, so a 1 % difference looks like one; the band says
    # how far the seeds agree.
    low, high = min(ax.get_ylim()[0], 0.0), max(ax.get_ylim()[1], 0.0)
    margin = 0.05 * (high - low)
    ax.set_ylim(low - (margin if low < 0 else 0.0), high + (margin if high > 0 else 0.0))
    ax.axhline(0.0, color="black", linewidth=0.8)
    what = METRIC_LABELS.get(y, y)
    ax.set_title(textwrap.fill(f"{what[:1].upper()}{what[1:]} against {x}"
                               + (f", by {hue}" if hue else ""), 70), fontsize=11)
    return _save(fig, out)


def plot_compare(table: pd.DataFrame, metrics: Mapping[str, str], out: str | Path,
                 title: str = "") -> Path:
    """Policies side by side, one panel per metric: a bar from 0 to the mean, the interval on it.

    ``table`` is a comparison's table.csv (:func:`hybridnet.sweep.compare_table`);
    ``metrics`` maps the metrics drawn, in order, to their axis labels. Bars
    start at 0, so a 1 % difference looks like one; the whiskers are the
    intervals over seeds. Policies run down the shared vertical axis, where
    long names (``fixed:5,0``, ``mine.py:Half``) stay readable.
    """
    _require(table, ["policy", "metric", "mean", "ci_low", "ci_high"], "comparison table")
    policies = list(dict.fromkeys(table["policy"]))
    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics) + 1.5,
                                                       1.2 + 0.45 * len(policies)),
                             sharey=True, squeeze=False)
    colours = sns.color_palette(n_colors=len(policies))
    for ax, (metric, label) in zip(axes[0], metrics.items(), strict=True):
        rows = table[table["metric"] == metric].set_index("policy").reindex(policies)
        mean = rows["mean"].to_numpy(dtype=float)
        err = np.vstack([mean - rows["ci_low"].to_numpy(dtype=float),
                         rows["ci_high"].to_numpy(dtype=float) - mean])
        ypos = np.arange(len(policies))
        ax.barh(ypos, mean, color=colours, alpha=0.8,
                xerr=np.nan_to_num(err), error_kw={"capsize": 3, "elinewidth": 1})
        ax.axvline(0, color="black", linewidth=0.8)
        if not np.any(np.nan_to_num(np.vstack([mean, err]))):
            # Nothing to draw (no queueing anywhere): say so rather than plot an empty axis.
            ax.set_xlim(0, 1)
            ax.text(0.5, 0.5, "0 for every policy", transform=ax.transAxes, ha="center",
                    va="center", fontsize=9, color="#555555")
        ax.set_title(label, fontsize=10)
        ax.tick_params(axis="x", labelsize=8)
    axes[0][0].set_yticks(np.arange(len(policies)), policies)
    axes[0][0].invert_yaxis()
    if title:
        fig.suptitle(title, fontsize=11)
    return _save(fig, out)


def plot_training(run_dirs: list[str | Path], out: str | Path, window: int = 10) -> Path:
    """Training reward per episode of one or more runs overlaid (Fig. 4(b), 5(a) style).

    Each run's raw curve is drawn faintly with its ``window``-episode moving
    average on top, and its oracle reward (the per-episode optimum, where
    training.csv has it) dashed in the same colour, so the gap to the optimum
    is visible and not only the reward.
    """
    paths = [Path(d) for d in run_dirs]
    names = [p.name for p in paths]
    if len(set(names)) < len(names):
        names = [str(p) for p in paths]
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(8, 4.5))
    colours = sns.color_palette(n_colors=len(paths))
    for path, name, colour in zip(paths, names, colours, strict=True):
        frame = read_table(path / "training.csv", columns=["episode", "reward"],
                           numeric=["episode", "reward"],
                           hint=f"is {path} a directory of `hybridnet train`?")
        smooth = frame["reward"].rolling(window, min_periods=1).mean()
        ax.plot(frame["episode"], frame["reward"], color=colour, alpha=0.25, linewidth=0.8)
        ax.plot(frame["episode"], smooth, color=colour, label=f"{name} ({window}-episode mean)")
        if "oracle_reward" in frame:
            ax.plot(frame["episode"], frame["oracle_reward"], color=colour, linestyle="--",
                    linewidth=1, label=f"{name}: oracle")
    ax.set_xlabel("training episode")
    ax.set_ylabel("reward per slot (eq. 17a, normalised)")
    ax.set_title("Training reward")
    ax.legend(fontsize=8)
    return _save(fig, out)


SCHEME_METRICS = {"qos": "QoS", "delay_s": "delay", "energy_j": "energy"}


def plot_schemes(frame: pd.DataFrame, out: str | Path) -> Path:
    """Fig. 5(b)-style grouped bars: QoS, delay and energy per prompt scheme, each ÷ its max.

    ``frame`` has a ``scheme`` column (or ``prompts.scheme``, as in a sweep over
    the schemes) and ``qos``, ``delay_s``, ``energy_j``. Several rows per scheme
    (seeds) are averaged, with a 95 % CI whisker; each metric is divided by its
    largest scheme mean so the three fit one axis.
    """
    if "error" in frame:
        frame = frame[frame["error"].isna()]
    scheme = "scheme" if "scheme" in frame or "prompts.scheme" not in frame else "prompts.scheme"
    _require(frame, [scheme, *SCHEME_METRICS], "scheme results")
    metrics = list(SCHEME_METRICS)
    maxima = frame.groupby(scheme, sort=False)[metrics].mean().max()
    normalised = frame[metrics] / maxima.where(maxima != 0, 1.0)
    normalised[scheme] = frame[scheme].to_numpy()
    long = normalised.melt(id_vars=scheme, var_name="metric", value_name="value")
    long["metric"] = long["metric"].map(SCHEME_METRICS)
    several = frame.groupby(scheme)[metrics[0]].count().max() > 1
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(7, 4.5))
    sns.barplot(data=long, x=scheme, y="value", hue="metric", seed=0, ax=ax,
                errorbar=("ci", 95) if several else None)
    ax.set_xlabel("prompt scheme")
    ax.set_ylabel("normalised value (÷ largest scheme mean)")
    ax.set_title("QoS, delay and energy per scheme")
    ax.legend(title="metric")
    return _save(fig, out)


def plot_hiqm(binned: pd.DataFrame, model: QosModel, out: str | Path, *, model_label: str,
              paper_curves: bool = False) -> Path:
    """Fig. 3-style plot: binned measured means (dots), ``model`` (lines), paper (dashed).

    One colour per similarity bin; each bin's model curve is drawn at the
    bin's mean similarity, so dots and line describe the same prompts. With
    ``paper_curves`` the paper's table curves are drawn dashed in the colour
    of the bin whose centre they belong to. ``binned`` is
    :func:`hybridnet.model.hiqm_fit.binned_means` of the measurements.
    """
    out = Path(out)
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    with sns.axes_style("whitegrid"):
        ax = fig.subplots()
    centres = sorted(binned["phi_bin"].unique())
    colours = dict(zip(centres, sns.color_palette("viridis", len(centres)), strict=True))
    x_grid = np.linspace(binned["common_steps"].min(), binned["common_steps"].max(), 200)
    for centre, group in binned.groupby("phi_bin"):
        colour = colours[centre]
        ax.scatter(group["common_steps"], group["clip_score"], color=colour, s=14)
        ax.plot(x_grid, model.qos(x_grid, group["similarity"].iloc[0]), color=colour,
                label=f"phi ~ {centre:.1f}")
    if paper_curves:
        paper = PaperHIQM()
        for phi in paper.PHI:
            match = [c for c in centres if np.isclose(c, phi)]
            if match:
                ax.plot(x_grid, paper.qos(x_grid, phi), color=colours[match[0]], linestyle="--")
    ax.add_artist(ax.legend(title="similarity bin", loc="lower left", fontsize="small"))
    styles = [Line2D([], [], color="grey", marker="o", linestyle="", label="measured mean"),
              Line2D([], [], color="grey", label=model_label)]
    if paper_curves:
        styles.append(Line2D([], [], color="grey", linestyle="--", label="paper Fig. 3"))
    ax.legend(handles=styles, loc="upper right", fontsize="small")
    ax.set_xlabel("common steps x_n")
    ax.set_ylabel("QoS (CLIP score)")
    save_figure(fig, out, dpi=150)
    return out
