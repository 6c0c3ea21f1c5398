"""Hostile input, second pass (issue 24): every case one clear line, nothing lost.

The cases that are about the process itself (what ``--force`` deletes, a full
disk, a memory limit, a signal, a closed stderr) run the real CLI in its own
process; the others call its entry point in this process, which takes the same
path from the argument list to the exit code.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from cli_runs import run_cli as in_process

from hybridnet.cli import main
from hybridnet.errors import HybridnetError, InvalidArgument

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")
RUN = ("run", SMALL, "--policy", "oracle", "--slots", "2", "--no-plot")


def hybridnet(*args: str, cwd: Path, shell_prefix: str = "", **kwargs
              ) -> subprocess.CompletedProcess:
    """The real command in its own process; ``shell_prefix`` runs before it (ulimit, 2>&-)."""
    command = [sys.executable, "-m", "hybridnet", *args]
    if shell_prefix:
        command = ["bash", "-c", f"{shell_prefix} \"$@\"", "bash", *command]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300,
                          **kwargs)


def one_line(err: str) -> str:
    """The error line: the last, the only one saying "error:", no traceback.

    Lines before it are what the command told on its way (a training's notice
    and progress), not part of the failure.
    """
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert errors == lines[-1:], err
    assert "Traceback" not in err
    return lines[-1]


def listing(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished training of small.toml (2 episodes), for the tests that need one."""
    out = tmp_path_factory.mktemp("trained") / "hid"
    main(["train", SMALL, "--episodes", "2", "--out", str(out)])
    return out


# --------------------------------------------------------------------------- data loss


def test_force_deletes_only_what_the_manifest_proves_hybridnet_wrote(tmp_path: Path) -> None:
    """D1 and D2 in real processes: a user's CSV in a run directory, a directory that only
    looks like an old run; then figures hybridnet drew into a run are its own to replace."""
    run = tmp_path / "r2"
    assert hybridnet(*RUN, "--out", str(run), cwd=tmp_path).returncode == 0
    (run / "mydata.csv").write_text("a,b\n")
    done = hybridnet(*RUN, "--force", "--out", str(run), cwd=tmp_path)
    assert done.returncode == 2 and "mydata.csv: was not written by hybridnet" in \
        one_line(done.stderr)
    assert (run / "mydata.csv").read_text() == "a,b\n"

    lookalike = tmp_path / "r17"
    lookalike.mkdir()
    for name in ("config.toml", "summary.json", "ues.csv"):
        (lookalike / name).touch()
    (lookalike / "precious.csv").write_text("x\n")
    done = hybridnet(*RUN, "--force", "--out", str(lookalike), cwd=tmp_path)
    assert done.returncode == 2 and "remove it yourself" in one_line(done.stderr)
    assert (lookalike / "precious.csv").read_text() == "x\n"

    (run / "mydata.csv").unlink()
    assert hybridnet("plot", "backlog", str(run), cwd=tmp_path).returncode == 0
    done = hybridnet(*RUN, "--force", "--out", str(run), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "backlog.png" not in listing(run)  # drawn by hybridnet, recorded, replaced


def test_a_sweep_or_training_holding_an_edited_file_is_never_reset(tmp_path: Path,
                                                                   capsys) -> None:
    sweep = tmp_path / "sweep"
    args = ("sweep", SMALL, "--grid", "network.num_ues=4", "--policy", "local", "--engine",
            "closed", "--workers", "1", "--out", str(sweep))
    assert in_process(capsys, *args)[0] == 0
    manifest = json.loads((sweep / ".hybridnet").read_text())["files"]
    assert sorted(manifest) == ["results.csv", "sweep.toml"]  # every appended row recorded
    code, _, err = in_process(capsys, "plot", "sweep", str(sweep), "--x", "../../escape/x")
    assert code == 2 and "--x '../../escape/x': not a column" in one_line(err)
    assert not (tmp_path / "escape").exists()
    results = sweep / "results.csv"
    results.write_text(results.read_text() + "my own row\n")
    code, _, err = in_process(capsys, *args, "--force")
    assert code == 2 and "results.csv: changed since hybridnet wrote it" in one_line(err)
    assert results.read_text().endswith("my own row\n")


def test_a_resume_from_a_non_finite_training_state_is_refused(tmp_path: Path,
                                                             trained: Path) -> None:
    """D3: the scalers' variance NaN in the checkpoint; before, resuming wrote NaN weights."""
    out = tmp_path / "hid"
    shutil.copytree(trained, out)
    payload = torch.load(out / "checkpoint.pt", weights_only=True)
    payload["training"]["scalers"]["ue"]["var"][:] = float("nan")
    torch.save(payload, out / "checkpoint.pt")
    before = (out / "checkpoint.pt").read_bytes()
    done = hybridnet("train", "--out", str(out), "--resume", "--episodes", "3", cwd=tmp_path)
    assert done.returncode == 2
    assert "'training.scalers.ue.var' has non-finite values" in one_line(done.stderr)
    assert (out / "checkpoint.pt").read_bytes() == before
    assert listing(tmp_path) == ["hid"]


def test_a_non_finite_checkpoint_is_never_written(tmp_path: Path) -> None:
    from hybridnet.rl.checkpoint import Checkpoint, save_checkpoint
    from hybridnet.rl.train import Trainer
    from hybridnet.scenario import read_scenario

    checkpoint = Checkpoint.from_trainer(Trainer(read_scenario(SMALL)))
    name = next(iter(checkpoint.weights))
    checkpoint.weights[name][...] = float("inf")
    target = tmp_path / "never-written.pt"
    with pytest.raises(HybridnetError, match=f"'weights.{name}' has non-finite values"):
        save_checkpoint(target, checkpoint)
    assert not target.exists()


def test_a_run_with_non_finite_traces_is_never_written(tmp_path: Path) -> None:
    import hybridnet
    from hybridnet.outputs import claimed
    from hybridnet.rundir import write_run_dir

    scenario = hybridnet.load_scenario(SMALL)
    result = hybridnet.simulate(scenario, "oracle", slots=2)
    result.ues.loc[3, "delay_s"] = float("nan")
    out = tmp_path / "run"
    with pytest.raises(HybridnetError, match="ues.csv column delay_s"), \
            claimed(out, kind="run") as held:
        write_run_dir(held, scenario, result, "oracle", 0, plot=False)
    assert listing(tmp_path) == []


# --------------------------------------------------------------------------- the process


def tmpfs(path: Path, size: str) -> bool:
    path.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


def test_a_full_disk_while_a_checkpoint_is_written_is_one_line_and_leaves_nothing(
        tmp_path: Path) -> None:
    """B4: torch's writer said `[enforce fail at inline_container.cc]` and left a .partial."""
    full = tmp_path / "full"
    if not tmpfs(full, "64k"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        done = hybridnet("train", SMALL, "--episodes", "2", "--out", str(full / "hid"),
                         cwd=tmp_path)
        assert done.returncode == 1
        assert "No space left on device; the disk is full" in one_line(done.stderr)
        assert listing(full) == []
        cache = hybridnet("run", SMALL, "--slots", "2", "--no-plot", "--out",
                          str(tmp_path / "run"), "--set", "train.episodes=2",
                          "--set", "train.controller=specialist", cwd=tmp_path,
                          env={**os.environ, "HYBRIDNET_CACHE": str(full / "cache")})
        assert cache.returncode == 1
        assert "No space left on device" in one_line(cache.stderr)
        assert not (tmp_path / "run").exists()
    finally:
        subprocess.run(["umount", str(full)], check=True)


def test_a_sweep_cell_too_big_for_the_memory_is_refused_before_dispatch(tmp_path: Path) -> None:
    """B5: the cell reached a Dask worker, which died of it and was restarted, for minutes."""
    out = tmp_path / "big"
    done = hybridnet("sweep", SMALL, "--policy", "local", "--grid", "network.num_ues=4,1000000",
                     "--slots", "20", "--workers", "1", "--out", str(out), cwd=tmp_path,
                     shell_prefix="ulimit -v 3000000 &&")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "grid cell network.num_ues=1000000: 1,000,000 UEs x 20 slots need at least" in line
    assert listing(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_once_the_output_is_written_exits_0(tmp_path: Path, signum: int) -> None:
    """B16: after "wrote ..." the output is complete; a signal no longer changes the exit."""
    out = tmp_path / "hid"
    train = subprocess.Popen([sys.executable, "-m", "hybridnet", "train", SMALL, "--episodes",
                              "1", "--out", str(out)], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert train.stdout is not None
    for line in train.stdout:
        if "wrote" in line:
            train.send_signal(signum)
            break
    _, stderr = train.communicate(timeout=120)
    assert train.returncode == 0, stderr
    assert "Traceback" not in stderr and (out / "checkpoint.pt").is_file()


def test_with_stderr_or_stdout_closed_the_run_is_still_written(tmp_path: Path) -> None:
    """B17: stderr closed made the progress bar fail and exit 1 with nothing written."""
    done = hybridnet(*RUN, "--out", str(tmp_path / "run"), cwd=tmp_path, shell_prefix="exec 2>&-;")
    assert done.returncode == 0 and "wrote" in done.stdout
    assert "summary.json" in listing(tmp_path / "run")
    again = hybridnet(*RUN, "--out", str(tmp_path / "run"), cwd=tmp_path,
                      shell_prefix="exec 2>&-;")
    assert again.returncode == 2  # refused: no one sees why, the exit code says it
    quiet = hybridnet(*RUN, "--out", str(tmp_path / "quiet"), cwd=tmp_path,
                      shell_prefix="exec 1>&-;")
    assert quiet.returncode == 0 and "summary.json" in listing(tmp_path / "quiet")


# --------------------------------------------------------------------------- bad input


def test_deep_nesting_is_one_line_everywhere(tmp_path: Path, capsys) -> None:
    """B1: 5,000 nested arrays were a 3,000-line RecursionError."""
    deep = "[" * 5000 + "]" * 5000
    bad = tmp_path / "deep.toml"
    bad.write_text(f"[network]\nnum_ues = {deep}\n")
    for args in (("scenario", "check", str(bad)), ("scenario", "show", str(bad)),
                 ("run", str(bad), "--out", str(tmp_path / "r")),
                 ("run", SMALL, "--set", f"reward.weights={deep}", "--out", str(tmp_path / "r"))):
        code, _, err = in_process(capsys, *args)
        assert code == 2 and "nested more than 32 deep" in one_line(err), args
    code, _, err = in_process(capsys, "sweep", SMALL, "--grid", f"reward.weights={deep}",
                              "--out", str(tmp_path / "s"))
    assert code == 2 and "nested more than 32 deep" in one_line(err)
    sweep_toml = tmp_path / "sweep.toml"
    sweep_toml.write_text(f"[sweep]\nseeds = {deep}\n")
    from hybridnet.sweep.files import read_settings

    with pytest.raises(HybridnetError, match="nested more than 32 deep"):
        read_settings(tmp_path)
    sweep_toml.unlink()
    assert listing(tmp_path) == ["deep.toml"]


def test_long_strings_and_floats_for_counts_are_refused(tmp_path: Path, capsys) -> None:
    """B2: a 300-character corpus blamed --out; B20: 1e7 slots was taken as a count."""
    code, _, err = in_process(capsys, *RUN, "--set", f"prompts.corpus={'a' * 300}",
                              "--out", str(tmp_path / "r"))
    line = one_line(err)
    assert code == 2 and "[prompts] corpus 'aaaa" in line and "--out" not in line
    code, _, err = in_process(capsys, *RUN, "--set", f"prompts.corpus={'a' * 5000}",
                              "--out", str(tmp_path / "r"))
    assert code == 2 and "5,000 characters long; at most 4,096" in one_line(err)
    for item in ("sim.slots=1e7", "network.num_ues=4.0", "train.hidden=[64.0,64.0]"):
        code, _, err = in_process(capsys, *RUN, "--set", item, "--out", str(tmp_path / "r"))
        assert code == 2 and "is a float; expected an integer" in one_line(err), item
    assert listing(tmp_path) == []


def test_oversized_files_are_refused_before_they_are_read(tmp_path: Path, capsys) -> None:
    big = tmp_path / "big.toml"
    big.write_text("#" * 2_000_000)
    code, _, err = in_process(capsys, "scenario", "check", str(big))
    assert code == 2 and "2,000,000 bytes; a scenario file has at most 1,048,576" in one_line(err)
    field = tmp_path / "field.csv"
    field.write_text("text\n" + "x" * 200_000 + "\n")
    code, _, err = in_process(capsys, "prompts", "similarity", str(field))
    assert code == 2 and "not a readable CSV (field larger than field limit" in one_line(err)


def test_a_sweep_is_bounded_in_runs(tmp_path: Path, capsys) -> None:
    code, _, err = in_process(capsys, "sweep", SMALL, "--grid", "network.num_ues=4,5,6",
                              "--seeds", "40000", "--out", str(tmp_path / "s"))
    assert code == 2 and "120,000 runs; a sweep runs at most 100,000" in one_line(err)
    code, _, err = in_process(capsys, "sweep", SMALL, "--grid", "network.num_ues=4",
                              "--seeds", "100000000", "--out", str(tmp_path / "s"))
    assert code == 2 and "--seeds" in err and "Traceback" not in err
    code, _, err = in_process(capsys, "prompts", "group", "bundled", "--groups", "3",
                              "--seed", "-5")
    assert code == 2 and "--seed" in err and "Traceback" not in err
    assert listing(tmp_path) == []


@pytest.mark.parametrize("error, code, needle", [
    (RuntimeError("[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed "
                  "writing file data/0: file write failed"), 1, "is the disk full?"),
    ("pandas", 2, "a CSV file could not be read (Error tokenizing data"),
])
def test_torch_and_pandas_errors_that_escape_are_one_line_at_the_boundary(
        tmp_path: Path, capsys, monkeypatch, error, code, needle) -> None:
    """The backstop in the entry point, for errors no check closer to them caught."""
    import pandas as pd

    import hybridnet.cli.plot as plot_cli

    if error == "pandas":
        error = pd.errors.ParserError("Error tokenizing data. C error: EOF inside string")

    def fail(*args):
        raise error

    monkeypatch.setattr(plot_cli, "read_results", fail)
    got, _, err = in_process(capsys, "plot", "sweep", str(tmp_path), "--x", "a")
    assert got == code and needle in one_line(err)


def test_a_symlink_loop_as_out_is_one_line(tmp_path: Path, capsys) -> None:
    """B3: `RuntimeError: Symlink loop`."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    code, _, err = in_process(capsys, *RUN, "--force", "--out", str(loop))
    assert code == 2 and "symbolic link that loops" in one_line(err)
    assert loop.is_symlink()


@pytest.mark.parametrize("text, needle", [
    (b"PK\x03\x04 truncated zip", "not a readable hybridnet checkpoint"),
    (b"", "not a readable hybridnet checkpoint"),
])
def test_an_unreadable_checkpoint_never_echoes_torch(tmp_path: Path, capsys, text, needle):
    """B12: torch advised loading with weights_only=False, i.e. running the file's code."""
    bad = tmp_path / "bad.pt"
    bad.write_bytes(text)
    code, _, err = in_process(capsys, *RUN[:2], "--policy", str(bad), "--out",
                              str(tmp_path / "r"))
    line = one_line(err)
    assert code == 2 and needle in line
    assert "weights_only" not in line and "miniz" not in line


def test_a_pickle_holding_code_is_refused_without_torchs_advice(tmp_path: Path, capsys):
    bad = tmp_path / "code.pt"
    torch.save({"format": "hybridnet.hid_checkpoint/2", "evil": Path("x")}, bad)
    code, _, err = in_process(capsys, *RUN[:2], "--policy", str(bad), "--out",
                              str(tmp_path / "r"))
    line = one_line(err)
    assert code == 2 and "never loaded" in line and "weights_only" not in line


def test_plot_selections_are_bounded_and_damaged_tables_named(tmp_path: Path, capsys) -> None:
    """B6: --ues 0-999999999 grew to 24 GB; B7: damaged queues.csv gave pandas tracebacks."""
    run = tmp_path / "run"
    assert in_process(capsys, *RUN, "--out", str(run))[0] == 0
    code, out, _ = in_process(capsys, "plot", "timeline", str(run), "--ues", "0-999999999",
                              "--slots", "0-99999", "--out", str(tmp_path / "t.png"))
    assert code == 0 and "wrote" in out  # what exists of the selection: 6 UEs x 2 slots
    code, _, err = in_process(capsys, "plot", "timeline", str(run), "--ues", "5-2")
    assert code == 2 and "backwards" in one_line(err)
    code, _, err = in_process(capsys, "plot", "timeline", str(run), "--ues",
                              ",".join(map(str, range(2000))))
    assert code == 2 and "at most 1,000" in one_line(err)
    queues = run / "queues.csv"
    header = queues.read_text().splitlines()[0]
    for text, needle in (('slot,t_s\n"1,2\n', "not a readable CSV"), ("", "empty"),
                         (header + "\n", "has no rows"), ("a,b\n1,2\n", "no column slot"),
                         (header + "\n" + ",".join(["x"] * len(header.split(","))) + "\n",
                          "column slot holds something other than numbers")):
        queues.write_text(text)
        code, _, err = in_process(capsys, "plot", "backlog", str(run), "--out",
                                  str(tmp_path / "b.png"))
        assert code == 2 and f"queues.csv: {needle}" in one_line(err), text
    assert not (tmp_path / "b.png").exists()


@pytest.mark.parametrize("text, needle", [
    ('episode,reward\n"1,2\n', "not a readable CSV"), ("", "empty"),
    ("episode,reward\n", "has no rows"), ("a,b\n1,2\n", "no column episode"),
    ("episode,reward\n0,x\n", "column reward holds something other than numbers"),
])
def test_damaged_csvs_of_trainings_and_schemes_are_named(tmp_path: Path, capsys, text,
                                                         needle) -> None:
    """More of B7: every CSV a figure reads back, not only a run's."""
    (tmp_path / "hid").mkdir()
    (tmp_path / "hid" / "training.csv").write_text(text)
    code, _, err = in_process(capsys, "plot", "training", str(tmp_path / "hid"))
    assert code == 2 and f"training.csv: {needle}" in one_line(err)
    schemes = tmp_path / "schemes.csv"
    schemes.write_text(text.replace("episode", "scheme").replace("reward", "qos"))
    code, _, err = in_process(capsys, "plot", "schemes", str(schemes))
    assert code == 2 and one_line(err)
    assert sorted(p.name for p in tmp_path.rglob("*.png")) == []


def test_timeline_draws_at_most_a_legible_number_of_rows(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    assert in_process(capsys, "run", SMALL, "--policy", "local", "--slots", "3", "--no-plot",
                      "--set", "network.num_ues=2000", "--engine", "closed",
                      "--out", str(run))[0] == 0
    code, _, err = in_process(capsys, "plot", "timeline", str(run), "--ues", "0-1999",
                              "--slots", "0-2")
    assert code == 2 and "select 2,000 UEs x 3 slots; a timeline draws at most 5,000" in \
        one_line(err)


def test_a_sweep_checks_its_checkpoint_against_each_cell(tmp_path: Path, capsys) -> None:
    """B8: a checkpoint for 4 UEs was refused against the base scenario's 6."""
    hid = tmp_path / "hid"
    assert in_process(capsys, "train", SMALL, "--episodes", "1", "--set", "network.num_ues=4",
                      "--out", str(hid))[0] == 0
    common = ("sweep", SMALL, "--policy", "hid", "--checkpoint", str(hid / "checkpoint.pt"),
              "--engine", "closed", "--workers", "1")
    code, out, err = in_process(capsys, *common, "--grid", "network.num_ues=4",
                                "--out", str(tmp_path / "s4"))
    assert code == 0, err
    code, _, err = in_process(capsys, *common, "--grid", "network.num_ues=5,6",
                              "--out", str(tmp_path / "s56"))
    assert code == 2 and "no grid cell can run the policy" in one_line(err)
    assert "trained for 4 UEs" in err and not (tmp_path / "s56").exists()


def test_a_run_config_reproduces_a_sampled_run_from_anywhere(tmp_path: Path,
                                                            trained: Path) -> None:
    """B9: --sample was not in config.toml; B10: a relative checkpoint path in it broke
    a rerun from another directory."""
    hid = tmp_path / "hid"
    shutil.copytree(trained, hid)
    first = hybridnet("run", SMALL, "--policy", "hid", "--checkpoint", "hid/checkpoint.pt",
                      "--sample", "--slots", "2", "--no-plot", "--out", "e1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    config = (tmp_path / "e1" / "config.toml").read_text()
    assert "sample = true" in config and f'policy = "{hid / "checkpoint.pt"}"' in config
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    second = hybridnet("run", str(tmp_path / "e1" / "config.toml"), "--no-plot", "--out", "e2",
                       cwd=elsewhere)
    assert second.returncode == 0, second.stderr
    for name in listing(tmp_path / "e1"):
        if name != ".hybridnet":
            assert (tmp_path / "e1" / name).read_bytes() == \
                (elsewhere / "e2" / name).read_bytes(), name
    assert json.loads((elsewhere / "e2" / "summary.json").read_text())["actions"] == "sampled"


def test_scenario_check_refuses_what_run_refuses(tmp_path: Path, capsys) -> None:
    """B11."""
    for text, needle in (('[sim]\npolicy = "garbage"\n', "unknown policy 'garbage'"),
                         ('[prompts]\ncorpus = "missing.csv"\n', "corpus 'missing.csv'")):
        path = tmp_path / "s.toml"
        path.write_text(text)
        code, _, err = in_process(capsys, "scenario", "check", str(path))
        assert code == 2 and needle in one_line(err)
        code, _, err = in_process(capsys, "run", str(path), "--out", str(tmp_path / "r"))
        assert code == 2 and needle in one_line(err)


def test_a_policy_too_big_for_the_memory_is_named(tmp_path: Path) -> None:
    """B13: huge HID layers were blamed on network.num_ues and the slots."""
    done = hybridnet("run", SMALL, "--policy", "hid", "--set",
                     "train.hidden=[65536,65536,65536]", "--out", str(tmp_path / "r"),
                     cwd=tmp_path, shell_prefix="ulimit -v 3000000 &&")
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "reduce train.hidden" in line and "num_ues" not in line
    assert listing(tmp_path) == []


def test_a_training_that_fails_before_its_first_checkpoint_leaves_nothing_to_resume(
        tmp_path: Path) -> None:
    """B14: "pass --resume" after an out-of-memory training led to "nothing to resume"."""
    out = tmp_path / "hid"
    done = hybridnet("train", SMALL, "--episodes", "1", "--set",
                     "train.hidden=[65536,65536,65536]", "--out", str(out), cwd=tmp_path,
                     shell_prefix="ulimit -v 3000000 &&")
    assert done.returncode == 1 and "resume" not in done.stderr
    assert listing(tmp_path) == []
    # A checkpoint-less partial an older version left behind is no obstacle either.
    work = tmp_path / ".hid.partial" / "hid"
    work.mkdir(parents=True)
    (work / ".hybridnet").write_text('{"kind": "train", "written_by": "hybridnet 0.1"}')
    done = hybridnet("train", SMALL, "--episodes", "1", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert listing(tmp_path) == ["hid"]


def test_hiqm_refuses_a_file_it_did_not_write_before_fitting(tmp_path: Path, capsys,
                                                            monkeypatch) -> None:
    """B15: the whole fit ran before the refusal."""
    import hybridnet.cli.hiqm as hiqm_cli

    (tmp_path / "mine.json").write_text("{}")
    (tmp_path / "mine.png").write_bytes(b"\x89PNG mine")
    work = []
    monkeypatch.setattr(hiqm_cli, "fit_hiqm", lambda *a: work.append("fit"))
    monkeypatch.setattr(hiqm_cli, "read_clip_scores", lambda *a: work.append("read"))
    data = str(ROOT / "hybridnet" / "data" / "semct_clip_scores.csv")
    for args in (("fit", data, "--out", str(tmp_path / "mine.json")),
                 ("fit", data, "--plot", str(tmp_path / "mine.png")),
                 ("show", "--out", str(tmp_path / "mine.png"))):
        code, _, err = in_process(capsys, "hiqm", *args, "--force")
        assert code == 2 and "not a file hybridnet wrote" in one_line(err), args
    assert work == []
    assert (tmp_path / "mine.json").read_text() == "{}"


# --------------------------------------------------------------------------- Python API


@pytest.mark.parametrize("call, needle", [
    (lambda h: h.simulate(SMALL, "oracle", slots="2"), "slots = '2' (str)"),
    (lambda h: h.simulate(SMALL, "oracle", slots=2.0), "slots = 2.0 (float)"),
    (lambda h: h.simulate(SMALL, "oracle", slots=0), "slots = 0: expected an integer >= 1"),
    (lambda h: h.simulate(SMALL, "oracle", seed=-1), "seed = -1"),
    (lambda h: h.simulate(SMALL, None), "policy = None"),
    (lambda h: h.simulate(SMALL, "oracle", engine=["des"]), "unknown engine ['des']"),
    (lambda h: h.load_scenario(SMALL, ["network.num_ues=4"]), "overrides = ["),
    (lambda h: h.load_scenario(42), "path = 42"),
    (lambda h: h.simulate(SMALL, "hid", checkpoint=7), "checkpoint = 7"),
    (lambda h: h.simulate(SMALL, "oracle", sample="yes"), "sample = 'yes'"),
    (lambda h: importlib.import_module("hybridnet.api").make_policy(None, h.load_scenario(),
                                                                     None),
     "make_policy(None, Scenario)"),
    (lambda h: h.parallel_env(SMALL, overrides=[1]), "overrides = [1]"),
])
def test_the_api_refuses_what_the_cli_refuses(call, needle) -> None:
    """B19: internal errors (TypeError, SimPy's) got through."""
    import hybridnet

    with pytest.raises(InvalidArgument) as caught:
        call(hybridnet)
    assert needle in str(caught.value)


def test_a_policy_deciding_garbage_is_named() -> None:
    import hybridnet

    class Talker:
        name = "talker"

        def decide(self, state):
            return "x, y"

    with pytest.raises(HybridnetError, match="policy talker in slot 0: decide\\(\\) returned str"):
        hybridnet.simulate(SMALL, Talker(), slots=1)
    with pytest.raises(HybridnetError, match="policy talker in slot 0"):
        Talker.decide = lambda self, state: (np.zeros(6, dtype=int),)
        hybridnet.simulate(SMALL, Talker(), slots=1)
