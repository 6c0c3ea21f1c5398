"""Figures drawn from run outputs: the per-UE timeline (a Gantt chart of the phases).

Plots read the same tidy frames the run directory holds, so a figure can be
redrawn from the CSVs alone (``hybridnet plot timeline RUN_DIR``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

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
                  ue_ids: list[int] | None = None, slot_ids: list[int] | None = None) -> Path:
    """Per-UE Gantt chart: one row per UE, bars for common, ES, downlink, UE and waiting.

    Defaults to the first 20 UEs and the first 3 slots, which stays readable; the
    UE row shows when its common latent became available, then its own phases,
    with queueing drawn in red between a phase's ready and start times.
    """
    ue_ids = sorted(ues["ue"].unique())[:20] if ue_ids is None else ue_ids
    slot_ids = sorted(ues["slot"].unique())[:3] if slot_ids is None else slot_ids
    sel_ues = ues[ues["ue"].isin(ue_ids) & ues["slot"].isin(slot_ids)]
    sel_events = events[events["ue"].isin(ue_ids) & events["slot"].isin(slot_ids)]
    row = {ue: i for i, ue in enumerate(ue_ids)}
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(11, 1.2 + 0.28 * len(ue_ids)))
    bar_h = 0.7

    def bars(frame: pd.DataFrame, start: str, end: str, colour: str) -> None:
        for ue, group in frame.groupby("ue"):
            spans = [(s, e - s) for s, e in zip(group[start], group[end], strict=True) if e > s]
            if spans:
                ax.broken_barh(spans, (row[ue] - bar_h / 2, bar_h), facecolors=colour,
                               edgecolor="none")

    common = sel_ues.assign(t_common_end_s=sel_ues["t_request_s"] + sel_ues["t_common_s"])
    bars(common, "t_request_s", "t_common_end_s", PHASE_COLOURS["common"])
    for phase in ("es", "tx", "ue"):
        rows = sel_events[sel_events["phase"] == phase]
        bars(rows, "t_ready_s", "t_start_s", PHASE_COLOURS["wait"])
        bars(rows, "t_start_s", "t_end_s", PHASE_COLOURS[phase])
    ax.set_yticks(range(len(ue_ids)), [f"UE {u}" for u in ue_ids])
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    ax.set_ylabel("user equipment")
    slots_text = ", ".join(str(s) for s in slot_ids)
    ax.set_title(f"Per-UE timeline, slots {slots_text}")
    ax.legend(handles=[Patch(color=c, label=PHASE_LABELS[p]) for p, c in PHASE_COLOURS.items()],
              loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.6 / max(len(ue_ids), 1)),
              ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return out
