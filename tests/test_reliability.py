"""Nothing lost, ever: real commands racing, killed, pointed at the wrong places.

Every case runs the real CLI in its own process. Two writers are made to
overlap deterministically: the first is frozen with SIGSTOP the moment it holds
its output's lock, the second runs, then the first is thawed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")


def hybridnet(*args: str, cwd: Path, check_rc: int | None = None,
              **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "hybridnet", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, **kwargs)
    if check_rc is not None:
        assert done.returncode == check_rc, done.stderr
    return done


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(*args: str, cwd: Path) -> subprocess.Popen:
    """A hybridnet command in the background, with Ctrl-C's default action: a test run
    from a background job (``nohup pytest &``) inherits an ignored SIGINT, and so
    would the command, which then never sees the interrupt these tests send."""
    return subprocess.Popen([sys.executable, "-m", "hybridnet", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_default_sigint)


def wait_for(check, what: str, timeout_s: float = 120.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def lock_of(out: Path) -> Path:
    return out.with_name(f".{out.name}.hybridnet.lock")


def temporaries(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@contextmanager
def frozen_holder(*args: str, out: Path, cwd: Path) -> Iterator[subprocess.Popen]:
    """A command stopped (SIGSTOP) while it holds ``out``; thawed and finished on exit."""
    first = start(*args, cwd=cwd)
    try:
        wait_for(lambda: lock_of(out).exists() or first.poll() is not None, "the lock")
        assert first.poll() is None, first.communicate()
        os.kill(first.pid, signal.SIGSTOP)
        yield first
    finally:
        os.kill(first.pid, signal.SIGCONT)
        first.communicate(timeout=300)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


RUN = ("run", SMALL, "--policy", "oracle", "--slots", "40", "--no-plot")


def test_a_second_run_to_the_same_out_is_refused_and_the_first_is_kept(tmp_path):
    out = tmp_path / "run"
    with frozen_holder(*RUN, "--out", str(out), out=out, cwd=tmp_path) as first:
        second = hybridnet(*RUN, "--out", str(out), "--force", cwd=tmp_path)
        assert second.returncode == 1
        assert f"another hybridnet process (pid {first.pid})" in one_error_line(second)
    assert first.returncode == 0, first.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["slots"] == 40
    assert temporaries(tmp_path) == []


def test_two_trainings_to_the_same_out(tmp_path):
    out = tmp_path / "hid"
    train = ("train", SMALL, "--episodes", "3", "--out", str(out))
    with frozen_holder(*train, out=out, cwd=tmp_path) as first:
        second = hybridnet(*train, cwd=tmp_path)
        assert second.returncode == 1 and "another hybridnet process" in one_error_line(second)
    assert first.returncode == 0, first.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        ".hybridnet", "checkpoint.pt", "config.toml", "reward.png", "training.csv"]
    assert temporaries(tmp_path) == []


def test_force_never_touches_a_directory_hybridnet_did_not_write(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("years of work")
    done = hybridnet(*RUN, "--out", str(notes), "--force", cwd=tmp_path)
    assert done.returncode == 2
    assert "not a directory hybridnet wrote" in one_error_line(done)
    assert [p.name for p in notes.iterdir()] == ["thesis.tex"]
    assert temporaries(tmp_path) == []


@pytest.mark.parametrize("out", [".", "..", "sub/.."])
def test_force_on_the_working_directory_or_its_parents_is_refused(tmp_path, out):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    done = hybridnet(*RUN, "--out", out, "--force", cwd=work)
    assert done.returncode == 2 and "never writes" in one_error_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert [p.name for p in work.iterdir()] == ["sub"]


def test_an_out_under_a_file_fails_before_the_simulation(tmp_path):
    (tmp_path / "file").write_text("x")
    for command in (RUN, ("train", SMALL, "--episodes", "1")):
        done = hybridnet(*command, "--out", str(tmp_path / "file" / "run"), cwd=tmp_path)
        assert done.returncode == 2 and "is a file, not a directory" in one_error_line(done)
    done = hybridnet("prompts", "similarity", "semct", "--out",
                     str(tmp_path / "file" / "sim.csv"), cwd=tmp_path)
    assert done.returncode == 2 and "is a file, not a directory" in one_error_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@contextmanager
def tmpfs(path: Path, options: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                             capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=True)


def test_a_full_file_system_is_one_line_and_leaves_nothing(tmp_path):
    with tmpfs(tmp_path / "full", "size=64k") as full:
        done = hybridnet("run", SMALL, "--policy", "oracle", "--slots", "20",
                         "--out", str(full / "run"), cwd=tmp_path)
        assert done.returncode == 1
        assert "No space left on device; the disk is full" in one_error_line(done)
        assert list(full.iterdir()) == []


def test_a_read_only_file_system_is_refused_before_the_simulation(tmp_path):
    with tmpfs(tmp_path / "ro", "ro,size=64k") as read_only:
        for command in (RUN, ("train", SMALL, "--episodes", "1")):
            done = hybridnet(*command, "--out", str(read_only / "run"), cwd=tmp_path)
            assert done.returncode == 1 and "Read-only file system" in one_error_line(done)


@pytest.mark.parametrize("signum, code, word", [(signal.SIGINT, 130, "interrupted"),
                                                (signal.SIGTERM, 143, "terminated")])
def test_an_interrupted_run_leaves_nothing(tmp_path, signum, code, word):
    out = tmp_path / "run"
    run = start("run", SMALL, "--policy", "oracle", "--slots", "100000", "--out", str(out),
                cwd=tmp_path)
    wait_for(lambda: lock_of(out).exists(), "the lock")
    time.sleep(0.5)  # well inside the simulation
    run.send_signal(signum)
    _, stderr = run.communicate(timeout=60)
    assert run.returncode == code, stderr
    assert stderr.strip().splitlines()[-1] == word and "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []


def test_a_run_killed_while_writing_is_swept_by_the_next_writer(tmp_path):
    out = tmp_path / "run"
    run = start("run", SMALL, "--policy", "oracle", "--slots", "200", "--set",
                "network.num_ues=400", "--out", str(out), cwd=tmp_path)
    temp = wait_for(lambda: [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")],
                    "the temporary run directory")
    run.kill()
    run.wait()
    assert temp[0].exists() and not out.exists()
    hybridnet(*RUN, "--out", str(out), cwd=tmp_path, check_rc=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_training_is_saved_and_resumes(tmp_path, signum, code):
    out = tmp_path / "hid"
    train = start("train", SMALL, "--episodes", "4000", "--out", str(out), cwd=tmp_path)
    wait_for(lambda: (tmp_path / ".hid.partial" / "hid" / "checkpoint.pt").exists(),
             "the first checkpoint")
    train.send_signal(signum)
    _, stderr = train.communicate(timeout=120)
    assert train.returncode == code, stderr
    assert "continue with `hybridnet train --out" in stderr and "Traceback" not in stderr
    done = hybridnet("train", "--out", str(out), "--resume", "--episodes", "30", cwd=tmp_path,
                     check_rc=0)
    assert "30 episodes" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hid"]


def test_resume_to_fewer_episodes_than_done_is_refused_and_leaves_nothing(tmp_path):
    out = tmp_path / "hid"
    hybridnet("train", SMALL, "--episodes", "3", "--out", str(out), cwd=tmp_path, check_rc=0)
    done = hybridnet("train", "--out", str(out), "--resume", "--episodes", "2", cwd=tmp_path)
    assert done.returncode == 2 and "already trained for 3 episodes" in one_error_line(done)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hid"]


def test_a_run_config_reproduces_the_run_byte_for_byte(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    hybridnet("run", SMALL, "--policy", "fixed:3,2", "--slots", "5", "--seed", "7",
              "--engine", "closed", "--set", "network.num_ues=4", "--out", str(first),
              cwd=tmp_path, check_rc=0)
    hybridnet("run", str(first / "config.toml"), "--out", str(second), cwd=tmp_path,
              check_rc=0)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    config = (first / "config.toml").read_text()
    assert 'policy = "fixed:3,2"' in config and "slots = 5" in config
    assert 'engine = "closed"' in config and "seed = 7" in config
    assert "--set network.num_ues=4" in config.splitlines()[1]


def under_3_gb(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    limit = "ulimit -v 3000000 && exec \"$@\""
    return subprocess.run(["bash", "-c", limit, "bash", sys.executable, "-m", "hybridnet", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("policy", ["oracle", "local", "hid"])
def test_a_run_too_big_for_the_memory_is_refused_before_it_starts(tmp_path, policy):
    paper = str(ROOT / "scenarios" / "paper.toml")
    done = under_3_gb("run", paper, "--policy", policy, "--set", "network.num_ues=1000000",
                      "--out", str(tmp_path / "big"), cwd=tmp_path)
    assert done.returncode == 1
    line = one_error_line(done)
    assert "1,000,000 UEs x 20 slots need at least" in line
    assert "address-space limit (ulimit -v) of 2.9 GiB" in line
    assert list(tmp_path.iterdir()) == []


def test_running_out_of_memory_is_one_line(tmp_path):
    done = under_3_gb("train", SMALL, "--episodes", "1", "--set",
                      "train.hidden=[65536,65536,65536]", "--out", str(tmp_path / "hid"),
                      cwd=tmp_path)
    assert done.returncode == 1
    assert "out of memory" in one_error_line(done)
    assert list(tmp_path.iterdir()) == []
