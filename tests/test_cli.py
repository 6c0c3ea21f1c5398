"""The command line end to end: run directories checked against the paper's equations."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runs import run_cli

from hybridnet.cli import main

ROOT = Path(__file__).resolve().parents[1]
PAPER = str(ROOT / "scenarios" / "paper.toml")


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "paper"
    main(["run", PAPER, "--policy", "random", "--slots", "5", "--seed", "4", "--out", str(out)])
    return out


def test_run_directory_has_every_file(paper_run):
    names = {p.name for p in paper_run.iterdir()}
    assert {"config.toml", "ues.csv", "slots.csv", "events.csv", "summary.json",
            "timeline.png"} <= names
    summary = json.loads((paper_run / "summary.json").read_text())
    assert summary["policy"] == "random" and summary["slots"] == 5 and summary["seed"] == 4


def test_ues_csv_follows_the_equations_with_table_one(paper_run):
    ues = pd.read_csv(paper_run / "ues.csv")
    assert len(ues) == 5 * 50
    assert (ues.x + ues.y + ues.z == 28).all()
    rel = {"rtol": 1e-6}
    np.testing.assert_allclose(ues.t_es_s, ues.y * 15e6 / 2e9, **rel)                  # (3)
    np.testing.assert_allclose(ues.e_es_j, 1e-27 * ues.y * 15e6 * 2e9**2, **rel)       # (4)
    np.testing.assert_allclose(ues.t_ue_s, ues.z * 14e6 / ues.f_ue_hz, **rel)          # (8)
    np.testing.assert_allclose(ues.e_ue_j, 1e-27 * ues.z * 14e6 * ues.f_ue_hz**2, **rel)  # (9)
    gain = 10 ** (-(128.1 + 37.6 * np.log10(ues.distance_m / 1000)) / 10)
    noise = 10 ** ((-174 + 9 - 30) / 10)
    rate = 1e6 * np.log2(1 + 0.5 * gain / (noise * 1e6))                               # (6)
    np.testing.assert_allclose(ues.rate_bps, rate, **rel)
    assert (ues.payload_bits == 128 * 128 * 16 * 16 / 4).all()
    np.testing.assert_allclose(ues.t_tx_s, ues.payload_bits / rate, **rel)             # (5)
    np.testing.assert_allclose(ues.e_tx_j, 0.5 * ues.t_tx_s, **rel)                    # (7)
    x_max = ues.groupby(["slot", "group"]).x.transform("max")
    np.testing.assert_allclose(ues.t_common_s, x_max * 15e6 / 2e9, **rel)              # (1)
    assert (ues.t_wait_s == 0).all()
    np.testing.assert_allclose(ues.delay_s, ues.t_common_s + ues.t_es_s + ues.t_tx_s
                               + ues.t_ue_s, **rel)                                    # (13)
    assert ues.f_ue_hz.between(1.4e9, 1.6e9).all()


def test_slots_csv_sums_the_records(paper_run):
    ues = pd.read_csv(paper_run / "ues.csv")
    slots = pd.read_csv(paper_run / "slots.csv")
    groups = pd.read_csv(paper_run / "groups.csv")
    np.testing.assert_allclose(groups.e_common_j, 1e-27 * groups.common_steps * 15e6 * 4e18,
                               rtol=1e-6)                                              # (2)
    per = ues.groupby("slot")
    np.testing.assert_allclose(slots.qos, per.qos.sum(), rtol=1e-9)                    # (15)
    np.testing.assert_allclose(slots.delay_s, per.delay_s.sum(), rtol=1e-9)            # (15)
    energy = groups.groupby("slot").e_common_j.sum() + per.e_es_j.sum() + per.e_tx_j.sum() \
        + per.e_ue_j.sum()
    np.testing.assert_allclose(slots.energy_j, energy, rtol=1e-9)                      # (16)


def test_summary_per_ue_energy_includes_the_share_of_the_common_phase(paper_run):
    """Per-UE energies add up to eq. (16): their mean is E / N, as a sweep records it."""
    summary = json.loads((paper_run / "summary.json").read_text())
    ues = pd.read_csv(paper_run / "ues.csv")
    groups = pd.read_csv(paper_run / "groups.csv").set_index(["slot", "group"])
    share = groups.e_common_j / groups.members
    energy = ues.e_es_j + ues.e_tx_j + ues.e_ue_j + share.loc[list(zip(ues.slot, ues.group,
                                                                        strict=True))].to_numpy()
    stats = summary["per_ue"]["energy_j"]
    assert stats["mean"] == pytest.approx(energy.mean(), rel=1e-12)
    assert stats["max"] == pytest.approx(energy.max(), rel=1e-12)
    per_ue = summary["totals"]["energy_j"] / (summary["slots"] * summary["num_ues"])
    assert summary["metrics"]["energy_per_ue_j"] == pytest.approx(per_ue, rel=1e-15)
    assert stats["mean"] == pytest.approx(per_ue, rel=1e-12)


def test_events_are_in_order_and_wait_for_the_common_phase(paper_run):
    events = pd.read_csv(paper_run / "events.csv")
    assert set(events.phase) <= {"common", "es", "tx", "ue"}
    assert (events.t_start_s >= events.t_ready_s).all()
    assert (events.t_end_s >= events.t_start_s).all()
    own = events[events.ue >= 0].assign(order=events.phase.map({"es": 0, "tx": 1, "ue": 2}))
    own = own.sort_values(["slot", "ue", "order"])
    previous_end = own.groupby(["slot", "ue"]).t_end_s.shift()          # the UE's phase before
    assert (own.t_start_s >= previous_end - 1e-12)[previous_end.notna()].all()
    first = own.groupby(["slot", "ue"]).head(1)
    common_end = events[events.phase == "common"].set_index(["slot", "group"]).t_end_s
    ready = common_end.reindex(pd.MultiIndex.from_frame(first[["slot", "group"]])).to_numpy()
    assert (first.t_start_s.to_numpy() >= ready - 1e-12)[~np.isnan(ready)].all()


def test_same_seed_gives_identical_bytes(tmp_path, capsys):
    for name in ("a", "b"):
        code, _, _ = run_cli(capsys, "run", PAPER, "--policy", "random", "--slots", "3",
                             "--out", str(tmp_path / name), "--no-plot", "--set",
                             "network.num_ues=8")
        assert code == 0
    for name in ("config.toml", "ues.csv", "slots.csv", "events.csv", "groups.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_config_toml_reruns_bit_for_bit(paper_run, tmp_path, capsys):
    code, _, _ = run_cli(capsys, "run", str(paper_run / "config.toml"), "--policy", "random",
                         "--slots", "5", "--seed", "4", "--out", str(tmp_path / "again"),
                         "--no-plot")
    assert code == 0
    assert (tmp_path / "again" / "ues.csv").read_bytes() == (paper_run / "ues.csv").read_bytes()


def test_existing_run_dir_needs_force(paper_run, capsys):
    before = (paper_run / "ues.csv").read_bytes()
    code, _, err = run_cli(capsys, "run", PAPER, "--policy", "local", "--out", str(paper_run))
    assert code == 2 and "--force" in err
    assert (paper_run / "ues.csv").read_bytes() == before


@pytest.mark.parametrize("text,needle", [
    ("[edge]\nfreq_hz = -1.0\n", "freq_hz"),
    ("[edge]\nfrequency = 1e9\n", "frequency"),
    ("[edge\nfreq_hz = 1e9\n", "invalid TOML"),
    ("[steps]\ny_min = 20\n", "y_min"),
])
def test_bad_scenarios_give_one_line_and_write_nothing(tmp_path, capsys, text, needle):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    out = tmp_path / "never"
    code, stdout, err = run_cli(capsys, "run", str(bad), "--policy", "local", "--out", str(out))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err and str(bad) in err
    assert "Traceback" not in err and not out.exists()


def test_bad_override_and_policy(capsys, tmp_path):
    code, _, err = run_cli(capsys, "run", PAPER, "--set", "edge.scheduler=lifo",
                           "--out", str(tmp_path / "x"))
    assert code == 2 and "scheduler" in err
    code, _, err = run_cli(capsys, "run", PAPER, "--policy", "greedy", "--out",
                           str(tmp_path / "y"))
    assert code == 2 and "unknown policy" in err and not (tmp_path / "y").exists()


def test_dense_shows_waiting(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "run", str(ROOT / "scenarios" / "dense.toml"), "--policy",
                           "oracle", "--slots", "10", "--out", str(tmp_path / "dense"),
                           "--no-plot")
    assert code == 0
    ues = pd.read_csv(tmp_path / "dense" / "ues.csv")
    assert ues.t_wait_s.max() > 0 and ues.t_wait_s.mean() > 1e-3
    np.testing.assert_allclose(ues.delay_s, ues.t_common_s + ues.t_wait_s + ues.t_es_s
                               + ues.t_tx_s + ues.t_ue_s, rtol=1e-9)


def test_plot_timeline_and_scenario_show(paper_run, tmp_path, capsys):
    png = tmp_path / "t.png"
    code, out, _ = run_cli(capsys, "plot", "timeline", str(paper_run), "--ues", "0-9",
                           "--slots", "0-1", "--out", str(png))
    assert code == 0 and png.stat().st_size > 10_000
    code, _, err = run_cli(capsys, "plot", "timeline", str(paper_run), "--ues", "200-210")
    assert code == 2 and "select nothing" in err
    code, out, _ = run_cli(capsys, "scenario", "show", PAPER, "--set", "network.num_ues=7")
    assert code == 0 and "num_ues = 7" in out
    assert not math.isnan(float(out.split("qos_ref = ")[1].split()[0]))


def test_embedding_prompts_are_kept_with_the_run(tmp_path, capsys):
    out = tmp_path / "emb"
    code, _, _ = run_cli(capsys, "run", PAPER, "--policy", "oracle", "--slots", "2", "--no-plot",
                         "--set", "prompts.phi_source=embedding", "--set", "network.num_ues=12",
                         "--out", str(out))
    assert code == 0
    prompts = pd.read_csv(out / "prompts.csv")
    ues = pd.read_csv(out / "ues.csv")
    assert len(prompts) == 12 and prompts.personal_prompt.str.len().min() > 5
    first = ues[ues.slot == 0].set_index("ue")
    np.testing.assert_allclose(prompts.set_index("ue").phi, first.phi, rtol=1e-12)


def test_cli_reference_is_current():
    """Rendered by the regeneration command itself, in a fresh interpreter: click keeps the
    help option a command first built, so a command another test invoked on its own
    would render its help differently in this process."""
    rendered = subprocess.run([sys.executable, "-m", "hybridnet.cli.reference"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    assert (ROOT / "docs" / "cli.md").read_text() == rendered, (
        "regenerate: python -m hybridnet.cli.reference > docs/cli.md")
