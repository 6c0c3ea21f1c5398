"""Training is never a surprise: announced with its expected time, followed, and cached by
``train --out`` so that the next ``run`` finds it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_runs import exit_code as _cli

import hybridnet.rl.progress as progress
from hybridnet.api import load_scenario
from hybridnet.rl.policy import cached_path, train_cached
from hybridnet.rl.progress import episode_progress, expected_training_s, untrained_notice

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "scenarios" / "small.toml"
TINY = ["--set", "train.hidden=[16,16]", "--set", "train.batch_size=16"]
TINY_VALUES = {"train.hidden": [16, 16], "train.batch_size": 16, "train.episodes": 2,
               "train.controller": "specialist"}


def test_expected_time_is_the_measured_pace_times_the_work() -> None:
    paper = load_scenario(ROOT / "scenarios" / "paper.toml")
    # 500 episodes x 20 slots x 50 UEs x 1.4e-4 s = 70 s
    assert expected_training_s(paper) == pytest.approx(70.0)
    assert progress.duration_text(70.0) == "70 s"
    assert progress.duration_text(324.0) == "5.4 min"


def test_progress_lines_come_every_few_seconds_off_a_terminal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress, "PROGRESS_EVERY_S", 0.0)
    out = io.StringIO()
    with episode_progress(3, "training HID", stream=out) as tick:
        for episode in range(3):
            tick({"episode": episode, "reward": 0.1, "oracle_reward": 0.2})
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[-1].startswith("  training HID: episode 3/3, reward +0.1000 (oracle +0.2000)")
    assert "left" in lines[0] and lines[-1].endswith("done in 1 s")


def test_implicit_training_says_what_why_and_how_long(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        one_torch_thread) -> None:
    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path))
    scenario = load_scenario(SMALL, TINY_VALUES)
    notice = untrained_notice([scenario, scenario], "the grid cells")
    assert notice is not None and notice.startswith("training 1 HID controller first, for the "
                                                    "grid cells (none is cached for its")
    train_cached(scenario)
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith(f"training the HID controller for {SMALL} (6 UEs, 2 episodes")
    assert "none is cached for this scenario" in first and "expected about" in first
    assert "episode 2/2" in err  # the last progress line, stderr being no terminal here
    assert untrained_notice([scenario], "the grid cells") is None
    train_cached(scenario)
    assert capsys.readouterr().err == ""  # cached: nothing to say


def test_train_out_fills_the_cache_the_next_run_uses(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        one_torch_thread) -> None:
    monkeypatch.setenv("HYBRIDNET_CACHE", str(tmp_path / "cache"))
    assert _cli(["train", SMALL, "--episodes", "2", *TINY, "--out", tmp_path / "hid"]) == 0
    printed = capsys.readouterr()
    assert "cached for `hybridnet run` of this scenario" in printed.out
    assert "expected about" in printed.err
    path = cached_path(load_scenario(SMALL, TINY_VALUES))
    assert path.read_bytes() == (tmp_path / "hid" / "checkpoint.pt").read_bytes()
    assert _cli(["run", SMALL, "--policy", "hid", "--set", "train.episodes=2", *TINY,
                 "--out", tmp_path / "run", "--no-plot"]) == 0
    assert "training the HID controller" not in capsys.readouterr().err
