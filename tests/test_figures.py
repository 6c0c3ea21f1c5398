"""Figures a paper would print: what each figure shows, read back from the figure itself."""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection

import hybridnet.plots as plots
from hybridnet.api import load_scenario, simulate
from hybridnet.sweep.compare import COMPARED, compare_table

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every figure saved, kept to be read back."""
    figures: list = []
    save = plots.save_figure

    def keep(fig, out, **kwargs) -> None:
        figures.append(fig)
        save(fig, out, **kwargs)

    monkeypatch.setattr(plots, "save_figure", keep)
    return figures


@pytest.fixture(scope="module")
def busy():
    scenario = load_scenario(ROOT / "scenarios" / "dense.toml",
                             {"network.num_ues": 30, "network.num_groups": 3, "sim.slots": 6})
    return simulate(scenario, "fluid", seed=0)


def _bars(ax) -> list:
    return [c for c in ax.collections if isinstance(c, PolyCollection)]


def test_timeline_draws_waiting_on_its_own_lane_and_marks_the_slots(busy, drawn, tmp_path):
    starts = dict(zip(busy.queues["slot"], busy.queues["t_s"], strict=True))
    plots.plot_timeline(busy.events, busy.ues, tmp_path / "t.png", list(range(10)), [0, 1, 2],
                        slot_starts_s=starts)
    ax = drawn[0].axes[0]
    wait = mcolors.to_rgba(plots.PHASE_COLOURS["wait"])
    lanes = {True: set(), False: set()}
    for bars in _bars(ax):
        is_wait = np.allclose(bars.get_facecolor()[0], wait)
        for path in bars.get_paths():
            ys = path.vertices[:, 1]
            lanes[is_wait].add(round(float(ys.min() - np.floor(ys.min() + 0.5)), 3))
    assert lanes[True] and lanes[False] and not lanes[True] & lanes[False]
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert sorted(line.get_xdata()[0] for line in dashed) == [starts[0], starts[1], starts[2]]
    assert {t.get_text().strip() for t in ax.texts} == {"slot 0", "slot 1", "slot 2"}


def test_backlog_axes_start_at_zero_with_units_and_legends_beside(busy, drawn, tmp_path):
    plots.plot_backlog(busy.queues, busy.ues, tmp_path / "b.png")
    fig = drawn[0]
    panels = [ax for ax in fig.axes if ax.get_legend() is not None]
    assert len(panels) == 3
    for ax in fig.axes:
        assert ax.get_ylim()[0] == 0
        assert "(" in ax.get_ylabel()  # a unit
    fig.canvas.draw()
    for ax in panels:
        legend = ax.get_legend().get_window_extent()
        assert legend.x0 >= ax.get_window_extent().x1  # beside the panel, over no curve


def test_backlog_of_a_run_without_queues_is_one_panel_saying_so(drawn, tmp_path):
    quiet = simulate(load_scenario(ROOT / "scenarios" / "paper.toml"), "oracle", seed=0, slots=3)
    plots.plot_backlog(quiet.queues, quiet.ues, tmp_path / "b.png")
    (ax,) = drawn[0].axes
    assert "No queue formed in 3 slots" in ax.texts[0].get_text()


def test_sweep_axis_reaches_zero_and_the_title_reads(drawn, tmp_path):
    frame = pd.DataFrame({"network.num_ues": [10, 10, 50, 50], "seed": [0, 1, 0, 1],
                          "policy": "oracle", "delay_per_ue_s": [0.355, 0.357, 0.350, 0.352]})
    plots.plot_sweep(frame, "network.num_ues", "delay_per_ue_s", tmp_path / "s.png")
    ax = drawn[0].axes[0]
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] > 0.357
    assert ax.get_title() == "Delay per request (s) against network.num_ues"
    assert len(plots.axis_label("sim.policy").splitlines()) <= 2


def test_compare_panels_are_never_empty(drawn, tmp_path):
    runs = pd.DataFrame([{"policy": p, "seed": s, "reward": r + s / 100, "qos_per_ue": 0.3,
                          "delay_per_ue_s": 0.35, "energy_per_ue_j": 0.8, "t_wait_s": 0.0}
                         for p, r in (("oracle", 0.2), ("random", 0.1)) for s in range(3)])
    plots.plot_compare(compare_table(runs, "oracle"), COMPARED, tmp_path / "c.png")
    axes = drawn[0].axes
    assert len(axes) == len(COMPARED)
    assert axes[-1].texts[0].get_text() == "0 for every policy"
    assert all(ax.get_xlim()[0] <= 0 for ax in axes)


def _cli(args: list) -> int:
    from hybridnet.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def test_plot_redraws_the_run_s_own_figure_but_not_a_file_it_did_not_draw(tmp_path, capsys):
    run = tmp_path / "run"
    assert _cli(["run", ROOT / "scenarios" / "small.toml", "--policy", "oracle", "--out",
                 run]) == 0
    assert _cli(["plot", "backlog", run]) == 0            # the run's backlog.png, redrawn
    assert _cli(["plot", "timeline", run, "--ues", "0-3", "--slots", "0-1"]) == 0
    assert _cli(["plot", "timeline", run, "--ues", "0-3", "--slots", "0-1"]) == 0
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"a figure of the user's")
    assert _cli(["plot", "backlog", run, "--out", mine]) == 2
    assert _cli(["plot", "backlog", run, "--out", mine, "--force"]) == 2
    assert mine.read_bytes() == b"a figure of the user's"
    capsys.readouterr()
    assert _cli(["plot", "timeline", run, "--ues", "4-9", "--slots", "0"]) == 0
    err = capsys.readouterr().err
    assert "--ues 4-9: " in err and "has no 6, 7, 8, 9 (it has 0-5); drawing the 2 it has" in err
