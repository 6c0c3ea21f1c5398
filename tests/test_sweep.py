"""Sweeps on Dask: the grid syntax, resumption, failing cells, a real external cluster, figures.

Also the sweep directory's reliability: one writer at a time (two real
commands on one --out), one row per cell, and every mistake caught before
anything is written.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cli_runs import exit_code as _cli

import hybridnet.sweep as sweep_module
import hybridnet.sweep.run as sweep_run
from hybridnet.api import load_scenario, simulate
from hybridnet.cli import main
from hybridnet.errors import HybridnetError
from hybridnet.metrics import METRICS
from hybridnet.outputs import MARKER, write_marker
from hybridnet.rundir import summarise
from hybridnet.scenario import read_scenario, to_dict
from hybridnet.sweep import RESULTS, expand_grid, parse_grid, plan_sweep, run_sweep
from hybridnet.sweep.plan import changed_settings

SMALL = Path(__file__).resolve().parents[1] / "scenarios" / "small.toml"
GRID = ["network.num_ues=4,6", "reward.weights=[0.2,0.4,0.4];[0.6,0.2,0.2]"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HYBRIDNET = [sys.executable, "-m", "hybridnet"]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# --------------------------------------------------------------------------- grid syntax


def test_grid_values_split_on_commas_or_on_semicolons_around_lists() -> None:
    grid = parse_grid([
        "network.num_ues=10,50, 100",
        "reward.weights=[0.2,0.4,0.4];[0.6, 0.2, 0.2]",
        "train.hidden=[64,64]",
        "prompts.scheme=his,gfis",
        "edge.freq_hz=1e9;2e9",
    ])
    assert grid == {
        "network.num_ues": [10, 50, 100],
        "reward.weights": [[0.2, 0.4, 0.4], [0.6, 0.2, 0.2]],
        "train.hidden": [[64, 64]],
        "prompts.scheme": ["his", "gfis"],
        "edge.freq_hz": [1e9, 2e9],
    }


@pytest.mark.parametrize("items, message", [
    (["network.num_ues"], "must look like"),
    (["=1,2"], "must look like"),
    (["network.num_ues=1,,3"], "empty value"),
    (["network.num_ues=1", "network.num_ues=2"], "given twice"),
])
def test_malformed_grid_is_refused(items: list[str], message: str) -> None:
    with pytest.raises(HybridnetError, match=message):
        parse_grid(items)


@pytest.mark.parametrize("items, message", [
    (["network.bogus=1,2"], "unknown key 'network.bogus'"),
    (["steps.x_max=3,2000"], r"\[steps\] x_max = 2000 is not allowed"),
    (["reward.weights=[0.2,0.4];[0.6,0.2,0.2]"], r"\[reward\] weights = \[0.2, 0.4\]"),
    (["network.num_ues=4,4"], "network.num_ues: the value 4 is given twice"),
    (["sim.seed=1,2"], "--seeds"),
    (["sim.policy=oracle,random"], "hybridnet compare"),
    (["sim.engine=des,closed"], "one --engine"),
    (["steps.x_max=13,29"], "x_max = 29 must be <= total = 28"),
])
def test_every_cell_is_validated_up_front(items: list[str], message: str) -> None:
    with pytest.raises(HybridnetError, match=message):
        expand_grid(read_scenario(SMALL), parse_grid(items), [0])


def test_cli_bad_grid_key_is_one_line_and_exit_2(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    code = _cli(["sweep", SMALL, "--grid", "network.num_uez=4,6", "--policy", "oracle",
                 "--engine", "closed", "--out", out])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "network.num_uez" in err
    assert not out.exists()


# --------------------------------------------------------------------------- the embedded cluster


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2 x 2 grid x 2 seeds of the small scenario, run on an embedded 2-worker cluster."""
    out = tmp_path_factory.mktemp("sweep") / "weights"
    plan = plan_sweep(read_scenario(SMALL), parse_grid(GRID), out, policy="oracle",
                      engine="closed", seeds=[0, 1])
    rows: list[dict[str, str]] = []
    report = run_sweep(plan, workers=2, on_row=rows.append)
    assert (report.ran, report.failed, report.skipped) == (8, 0, 0)
    assert len(rows) == 8
    return out


def test_every_cell_and_seed_is_one_row(swept: Path) -> None:
    rows = _rows(swept / RESULTS)
    keys = {(r["network.num_ues"], r["reward.weights"], r["seed"]) for r in rows}
    assert keys == {(n, w, s) for n in ("4", "6") for w in ("[0.2, 0.4, 0.4]", "[0.6, 0.2, 0.2]")
                    for s in ("0", "1")}
    assert all(r["error"] == "" and r["policy"] == "oracle" and r["slots"] == "4" for r in rows)
    assert all(np.isfinite(float(r[m])) for r in rows for m in METRICS)


def test_a_cell_is_the_run_with_its_grid_values_set(swept: Path) -> None:
    row = next(r for r in _rows(swept / RESULTS) if r["network.num_ues"] == "4"
               and r["reward.weights"] == "[0.2, 0.4, 0.4]" and r["seed"] == "1")
    scenario = load_scenario(SMALL, {"network.num_ues": 4, "reward.weights": [0.2, 0.4, 0.4]})
    result = simulate(scenario, "oracle", seed=1, engine="closed")
    assert float(row["reward"]) == pytest.approx(result.slots["reward"].mean(), rel=1e-12)
    assert float(row["energy_j"]) == pytest.approx(result.slots["energy_j"].mean(), rel=1e-12)
    # The row holds exactly the numbers `hybridnet run` writes to summary.json for the cell.
    metrics = summarise(result, scenario, "oracle", 1, "closed")["metrics"]
    assert {name: row[name] for name in METRICS} == {n: repr(v) for n, v in metrics.items()}


def test_rerun_submits_nothing(swept: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_cluster(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a cluster was started for a finished sweep")

    monkeypatch.setattr(sweep_run, "dask_client", no_cluster)
    plan = plan_sweep(read_scenario(SMALL), parse_grid(GRID), swept, policy="oracle",
                      engine="closed", seeds=[0, 1])
    assert plan.pending == ()
    report = run_sweep(plan)
    assert (report.ran, report.skipped) == (0, 8)
    assert len(_rows(swept / RESULTS)) == 8


def test_a_wider_grid_only_adds_its_new_cells(swept: Path) -> None:
    grid = parse_grid(["network.num_ues=4,6,8", GRID[1]])
    plan = plan_sweep(read_scenario(SMALL), grid, swept, policy="oracle", engine="closed",
                      seeds=[0, 1, 2])
    assert len(plan.cells) == 18 and len(plan.pending) == 10
    assert plan.recorded_grid["network.num_ues"] == [4, 6, 8]


def test_a_key_that_became_auto_is_no_change_where_it_derives_the_same() -> None:
    """A sweep recorded when train.gamma defaulted to 0.0 resumes now that it is "auto"
    (0.0 where no queues form); a value "auto" does not derive is still a change."""
    base = to_dict(read_scenario(SMALL))
    recorded = {"scenario": {s: dict(v) for s, v in base.items()}, "policy": "oracle",
                "engine": "closed", "checkpoint": ""}
    recorded["scenario"]["train"].update(gamma=0.0, engine="closed", bound_exploration=0.5,
                                         shared_samples=512)
    now = {"scenario": base, "policy": "oracle", "engine": "closed", "checkpoint": ""}
    assert base["train"]["gamma"] == "auto"
    assert changed_settings(recorded, now) == []
    recorded["scenario"]["train"]["gamma"] = 0.9
    assert changed_settings(recorded, now) == ["scenario key train.gamma"]


def test_another_base_scenario_needs_force(swept: Path) -> None:
    other = read_scenario(SMALL, {"edge.freq_hz": 3e9})
    with pytest.raises(HybridnetError, match="scenario key edge.freq_hz.*--force"):
        plan_sweep(other, parse_grid(GRID), swept, policy="oracle", engine="closed")
    with pytest.raises(HybridnetError, match="policy.*--force"):
        plan_sweep(read_scenario(SMALL), parse_grid(GRID), swept, policy="local",
                   engine="closed")
    with pytest.raises(HybridnetError, match="sweep over network.num_ues, reward.weights"):
        plan_sweep(read_scenario(SMALL), parse_grid(["network.num_ues=4"]), swept,
                   policy="oracle", engine="closed")
    plan = plan_sweep(other, parse_grid(GRID), swept, policy="oracle", engine="closed",
                      force=True)
    assert plan.fresh and len(plan.pending) == len(plan.cells) == 4


def test_a_rerun_cuts_a_torn_row_and_replaces_the_failure_rows_of_its_cells(
        tmp_path: Path) -> None:
    out = tmp_path / "torn"
    plan = plan_sweep(read_scenario(SMALL), parse_grid(["network.num_ues=4,6"]), out,
                      policy="oracle", engine="closed")
    header = ",".join(plan.columns) + "\n"
    done = "4,0,oracle,closed,4," + ",".join(["0.5"] * 10) + ",\n"
    failed = "6,0,oracle,closed,4" + "," * 10 + ",RuntimeError: boom\n"
    before = header + done + failed + failed + "6,0,orac"
    out.mkdir()
    (out / RESULTS).write_text(before, encoding="utf-8")
    (out / "sweep.toml").write_text(sweep_module.settings_toml(plan), encoding="utf-8")
    (out / ".results.csv.hybridnet-99999999-0123abcd.tmp.csv").write_text("killed mid-write")
    again = plan_sweep(read_scenario(SMALL), parse_grid(["network.num_ues=4,6"]), out,
                       policy="oracle", engine="closed")
    assert [c.overrides for c in again.pending] == [{"network.num_ues": 6}]
    assert (out / RESULTS).read_text(encoding="utf-8") == before  # planning writes nothing
    report = run_sweep(again, workers=1)
    assert (report.ran, report.succeeded, report.failed, report.skipped) == (1, 1, 0, 1)
    text = (out / RESULTS).read_text(encoding="utf-8")
    assert text.startswith(header + done) and text.count("\n") == 3
    rows = _rows(out / RESULTS)
    assert [r["network.num_ues"] for r in rows] == ["4", "6"] and rows[1]["error"] == ""
    assert sorted(p.name for p in out.iterdir()) == [MARKER, RESULTS, "sweep.toml"]


def test_read_results_counts_each_cell_once(tmp_path: Path) -> None:
    """A file an older version wrote a cell twice into, read while a row is being appended."""
    columns = sweep_module.result_columns(["network.num_ues"], "oracle")
    ok = "4,0,oracle,closed,4," + ",".join(["0.5"] * 10) + ","
    failed = "6,0,oracle,closed,4" + "," * 10 + ",RuntimeError: boom"
    (tmp_path / RESULTS).write_text("\n".join([",".join(columns), ok, failed, ok, "6,0,or"]),
                                    encoding="utf-8")
    frame = sweep_module.read_results(tmp_path)
    assert frame["network.num_ues"].tolist() == [4]


# --------------------------------------------------------------------------- an external cluster


@pytest.fixture
def bare_scheduler(tmp_path: Path) -> Iterator[tuple[str, Callable[[], None]]]:
    """A real Dask scheduler on 127.0.0.1 with no worker yet, and what starts one (a process)."""
    file = tmp_path / "scheduler.json"
    log = (tmp_path / "dask.log").open("w")
    procs = [subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
        stdout=log, stderr=subprocess.STDOUT)]

    def start_worker() -> None:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(file),
             "--nthreads", "1", "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"],
            stdout=log, stderr=subprocess.STDOUT))

    try:
        deadline = time.monotonic() + 30
        while not file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        yield json.loads(file.read_text(encoding="utf-8"))["address"], start_worker
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


@pytest.fixture
def scheduler(bare_scheduler: tuple[str, Callable[[], None]]) -> str:
    """A real Dask scheduler and one worker, as separate processes on 127.0.0.1."""
    address, start_worker = bare_scheduler
    start_worker()
    return address


@pytest.mark.timeout(120)
def test_external_cluster_records_a_failing_cell_and_runs_the_others(
        scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "xmax"
    # fixed:5,0 is a well-formed policy, infeasible only where x_max = 3: that cell fails.
    code = _cli(["sweep", SMALL, "--grid", "steps.x_max=3,13", "--policy", "fixed:5,0",
                 "--engine", "closed", "--out", out, "--scheduler", scheduler])
    err = capsys.readouterr().err
    assert code == 1 and "1 of 2 runs failed" in err
    rows = {r["steps.x_max"]: r for r in _rows(out / RESULTS)}
    assert "infeasible" in rows["3"]["error"] and rows["3"]["reward"] == ""
    assert rows["13"]["error"] == "" and np.isfinite(float(rows["13"]["reward"]))
    assert len(sweep_module.read_results(out)) == 1


# --------------------------------------------------------------------------- one writer, one row


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


@pytest.mark.timeout(180)
def test_a_second_sweep_of_the_same_directory_is_refused_at_once(
        bare_scheduler: tuple[str, Callable[[], None]], tmp_path: Path) -> None:
    """Two real commands overlap for sure: the first holds the directory, its cluster workerless."""
    address, start_worker = bare_scheduler
    out = tmp_path / "shared"
    args = [*HYBRIDNET, "sweep", str(SMALL), "--grid", "network.num_ues=4,6,8", "--seeds", "2",
            "--policy", "oracle", "--engine", "closed", "--out", str(out)]
    first = subprocess.Popen([*args, "--scheduler", address], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None and "6 to run" in first.stdout.readline()
        second = subprocess.run(args, capture_output=True, text=True, timeout=120)
        start_worker()
        stdout, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    line = _one_line(second.stderr)
    assert second.returncode == 1 and second.stdout == ""
    assert f"{out}: another hybridnet process (pid {first.pid})" in line
    assert first.returncode == 0, stderr
    assert "wrote 6 rows" in stdout and "6 succeeded, 0 failed" in stdout
    keys = [(r["network.num_ues"], r["seed"]) for r in _rows(out / RESULTS)]
    assert sorted(keys) == [(n, s) for n in ("4", "6", "8") for s in ("0", "1")]


@pytest.mark.timeout(120)
def test_a_failing_cell_keeps_one_row_and_the_summary_counts_it(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "xmax"
    # fixed:9,0 is well formed, infeasible only where x_max = 3: that cell fails, every time.
    args = ["sweep", SMALL, "--grid", "steps.x_max=3,13", "--policy", "fixed:9,0", "--engine",
            "closed", "--workers", "1", "--out", out]
    assert _cli(args) == 1
    captured = capfd.readouterr()
    assert f"wrote 2 rows to {out / RESULTS}: 1 succeeded, 1 failed" in captured.out
    assert "1 of 2 runs failed" in _one_line(captured.err) and "error column" in captured.err
    assert _cli(args) == 1
    captured = capfd.readouterr()
    assert f"wrote 1 row to {out / RESULTS}: 0 succeeded, 1 failed" in captured.out
    assert "1 of 1 runs failed" in _one_line(captured.err)
    rows = _rows(out / RESULTS)
    assert sorted(r["steps.x_max"] for r in rows) == ["13", "3"]
    assert "infeasible" in next(r["error"] for r in rows if r["steps.x_max"] == "3")
    assert len(sweep_module.read_results(out)) == 1


@pytest.mark.parametrize("force", [False, True])
def test_a_directory_of_the_users_is_never_written(
        force: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.txt").write_text("years of work", encoding="utf-8")
    code = _cli(["sweep", SMALL, "--grid", "network.num_ues=4,6", "--policy", "oracle",
                 "--engine", "closed", "--out", out, *(["--force"] if force else [])])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and f"{out}: not a sweep directory" in line
    assert [p.name for p in out.iterdir()] == ["thesis.txt"]
    assert (out / "thesis.txt").read_text(encoding="utf-8") == "years of work"
    assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_force_never_resets_a_sweep_holding_a_file_of_the_users(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "sweep"
    out.mkdir()
    write_marker(out, "sweep")
    (out / "thesis.txt").write_text("years of work", encoding="utf-8")
    code = _cli(["sweep", SMALL, "--grid", "network.num_ues=4,6", "--policy", "oracle",
                 "--engine", "closed", "--out", out, "--force"])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and "thesis.txt: was not written by hybridnet" in line
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "thesis.txt"]


@pytest.mark.timeout(60)
def test_an_unreachable_scheduler_leaves_nothing_behind(tmp_path: Path) -> None:
    """A real process: a failed Dask client would print a traceback as the process exits."""
    out = tmp_path / "new" / "sweep"
    done = subprocess.run(
        [*HYBRIDNET, "sweep", str(SMALL), "--grid", "network.num_ues=4,6", "--policy", "oracle",
         "--engine", "closed", "--out", str(out), "--scheduler", "tcp://127.0.0.1:1",
         "--connect-timeout", "1"], capture_output=True, text=True, timeout=60)
    line = _one_line(done.stderr)
    assert done.returncode == 1 and "--scheduler tcp://127.0.0.1:1: cannot connect" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("policy, checkpoint, message", [
    ("hid", "missing.pt", "missing.pt: no such checkpoint file"),
    ("corrupt.pt", None, "corrupt.pt: not a readable hybridnet checkpoint"),
    ("oracle", "corrupt.pt", "--checkpoint applies only to --policy hid"),
])
def test_a_bad_checkpoint_is_refused_before_anything_is_written(
        policy: str, checkpoint: str | None, message: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("corrupt.pt").write_bytes(b"not a checkpoint at all")
    code = _cli(["sweep", SMALL, "--grid", "network.num_ues=4,6", "--policy", policy,
                 "--engine", "closed", "--out", "new/sweep",
                 *(["--checkpoint", checkpoint] if checkpoint else [])])
    line = _one_line(capsys.readouterr().err)
    assert code == 2 and message in line
    assert [p.name for p in tmp_path.iterdir()] == ["corrupt.pt"]


@pytest.mark.parametrize("policy, message", [
    ("oracel", "unknown policy 'oracel'"),
    ("fixed:20,0", "policy fixed:20,0 is infeasible"),
    ("fixed:a,b", "fixed:X,Y with integers"),
])
def test_a_policy_the_base_scenario_cannot_run_is_refused_up_front(
        policy: str, message: str, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    with pytest.raises(HybridnetError, match=message):
        plan_sweep(read_scenario(SMALL), parse_grid(["network.num_ues=4,6"]), out,
                   policy=policy, engine="closed")
    assert not out.exists()


# --------------------------------------------------------------------------- figures


def _is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC


def test_plot_sweep_draws_and_never_overwrites(swept: Path, tmp_path: Path) -> None:
    out = tmp_path / "reward.png"
    args = ["plot", "sweep", swept, "--x", "network.num_ues", "--y", "reward",
            "--hue", "reward.weights", "--out", out]
    assert _cli(args) == 0 and _is_png(out)
    assert _cli(args) == 2
    assert _cli([*args, "--force"]) == 0
    assert _cli(["plot", "sweep", swept, "--x", "network.num_uez", "--out", out, "--force"]) == 2


def test_plot_training_overlays_runs(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for name in ("hid", "hid-paper"):
        run = tmp_path / name
        run.mkdir()
        episodes = np.arange(50)
        reward = 1 - np.exp(-episodes / 10) + rng.normal(0, 0.05, 50)
        pd.DataFrame({"episode": episodes, "reward": reward, "qos": reward, "delay_s": 1.0,
                      "energy_j": 2.0, "oracle_reward": 1.0}).to_csv(run / "training.csv",
                                                                     index=False)
    out = tmp_path / "training.png"
    assert _cli(["plot", "training", tmp_path / "hid", tmp_path / "hid-paper",
                 "--out", out]) == 0
    assert _is_png(out)
    assert _cli(["plot", "training", tmp_path, "--out", tmp_path / "x.png"]) == 2


def test_plot_schemes_draws_normalised_bars(tmp_path: Path) -> None:
    csv_path = tmp_path / "schemes.csv"
    pd.DataFrame({
        "scheme": ["his", "his", "ppgfis", "ppgfis", "gfis", "gfis", "iis", "iis"],
        "qos": [1.9, 2.0, 1.8, 1.7, 1.5, 1.6, 1.2, 1.1],
        "delay_s": [2.0, 2.1, 2.2, 2.1, 2.4, 2.3, 3.0, 3.1],
        "energy_j": [5.0, 5.1, 5.4, 5.5, 5.9, 6.0, 7.0, 7.2],
    }).to_csv(csv_path, index=False)
    assert _cli(["plot", "schemes", csv_path]) == 0
    assert _is_png(tmp_path / "schemes.png")


def test_every_cell_derives_its_own_references_from_a_resolved_base(tmp_path):
    """A resolved base (as ``load_scenario`` gives) must not lend its references to the cells.

    The fitted and the paper HIQM have different QoS references; a cell over
    ``qos.model`` must score like a run of that model read from the file.
    """
    from hybridnet.metrics import run_metrics
    from hybridnet.sweep import read_results

    base = load_scenario(SMALL, {"sim.slots": 3})
    assert "reward.qos_ref" in base.derived
    plan = plan_sweep(base, {"qos.model": ["fitted", "paper"]}, tmp_path / "sweep",
                      policy="oracle", engine="closed")
    run_sweep(plan, workers=1)
    rows = read_results(tmp_path / "sweep").set_index("qos.model")
    for model in ("fitted", "paper"):
        alone = simulate(load_scenario(SMALL, {"sim.slots": 3, "qos.model": model}), "oracle",
                         engine="closed")
        assert rows.loc[model, "reward"] == run_metrics(alone)["reward"]
    assert rows.loc["fitted", "reward"] != rows.loc["paper", "reward"]


def test_an_empty_policy_is_refused_not_replaced_by_the_default(tmp_path, capsys):
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as stop:
        main(["sweep", str(SMALL), "--policy", "", "--grid", "network.num_ues=2,3",
              "--out", str(out)])
    assert stop.value.code == 2
    assert "policy must not be empty" in capsys.readouterr().err
    assert not out.exists()


# --------------------------------------------------------------------------- cells that train HID

HID_TRAIN = {"train.hidden": [16, 16], "train.episodes": 5, "train.batch_size": 16,
             "sim.slots": 3, "train.controller": "specialist"}


def test_converged_reward_is_the_mean_over_episodes_300_to_499_of_500() -> None:
    history = [{"episode": e, "reward": float(e), "oracle_reward": 2.0 * e} for e in range(500)]
    assert sweep_module.converged_metrics(history) == {
        "converged_reward": float(np.mean(range(300, 500))),
        "converged_oracle_reward": 2.0 * float(np.mean(range(300, 500))),
        "train_episodes": 500.0,
    }
    assert sweep_module.converged_metrics(history[:5])["converged_reward"] == 3.5  # episodes 3, 4


def test_only_a_hid_controller_has_training_columns() -> None:
    assert sweep_module.trains_hid("hid") and sweep_module.trains_hid("runs/x/checkpoint.pt")
    assert not any(sweep_module.trains_hid(p) for p in ("oracle", "local", "random", "fixed:3,0"))
    assert "converged_reward" not in sweep_module.result_columns(["qos.model"], "oracle")
    columns = sweep_module.result_columns(["qos.model"], "hid")
    assert columns[-5:] == (*sweep_module.TRAINING_METRICS, "elapsed_s", "error")


@pytest.mark.timeout(300)
def test_a_hid_cell_trains_once_and_reports_its_converged_reward(tmp_path: Path) -> None:
    """Each grid cell trains (or finds cached) its own controller; every seed of it reuses it.

    The row's reward is the greedy controller on the cell's evaluation slots, as
    ``simulate`` gives it, and its converged reward the tail of that very
    controller's training log.
    """
    from hybridnet.rl.policy import train_cached

    base = read_scenario(SMALL, HID_TRAIN)
    plan = plan_sweep(base, {"train.mode": ["paper", "default"]}, tmp_path / "sweep",
                      policy="hid", engine="closed", seeds=[0, 1])
    report = run_sweep(plan, workers=1)
    assert (report.ran, report.failed) == (4, 0)
    rows = sweep_module.read_results(tmp_path / "sweep")
    assert list(rows.columns[-4:]) == [*sweep_module.TRAINING_METRICS, "elapsed_s"]
    for _, row in rows.iterrows():
        cell = base.with_values({"train.mode": row["train.mode"]})
        trained = train_cached(load_scenario(SMALL, {**HID_TRAIN, "train.mode": row["train.mode"]}))
        history = trained.training["history"]  # found in the cache the sweep filled: no training
        assert len(history) == row["train_episodes"] == 5
        assert row["converged_reward"] == np.mean([h["reward"] for h in history[3:]])
        assert row["converged_oracle_reward"] == np.mean([h["oracle_reward"] for h in history[3:]])
        alone = simulate(cell, "hid", seed=int(row["seed"]), engine="closed")
        assert row["reward"] == pytest.approx(alone.slots["reward"].mean(), abs=1e-12)
    assert rows.groupby("train.mode")["converged_reward"].nunique().eq(1).all()


@pytest.mark.timeout(300)
def test_a_checkpoint_cell_reports_the_training_of_that_checkpoint(tmp_path: Path) -> None:
    from hybridnet.rl.checkpoint import save_checkpoint
    from hybridnet.rl.policy import train_cached

    scenario = load_scenario(SMALL, {**HID_TRAIN, "train.episodes": 3})
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, train_cached(scenario, progress=False))
    plan = plan_sweep(read_scenario(SMALL, {"sim.slots": 3}),
                      {"reward.weights": [[0.6, 0.2, 0.2]]}, tmp_path / "sweep", policy="hid",
                      checkpoint=path, engine="closed")
    run_sweep(plan, workers=1)
    row = sweep_module.read_results(tmp_path / "sweep").iloc[0]
    assert row["train_episodes"] == 3
    history = train_cached(scenario).training["history"]
    assert row["converged_reward"] == np.mean([h["reward"] for h in history[1:]])
