"""Damaged checkpoints and bad policy specs: one line naming the file and the fault, no traceback.

A real checkpoint is trained once for the module; each case writes a corrupted
copy of it, so every check runs against the layout `hybridnet train` writes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from hybridnet.api import load_scenario, make_policy, simulate
from hybridnet.cli import main
from hybridnet.errors import HybridnetError
from hybridnet.model.params import ModelParams
from hybridnet.policies import OraclePolicy
from hybridnet.rl.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from hybridnet.rl.train import Trainer
from hybridnet.scenario import Scenario
from hybridnet.threads import torch_threads

ROOT = Path(__file__).resolve().parents[1]
SMALL = str(ROOT / "scenarios" / "small.toml")

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load_scenario(SMALL, {"train.hidden": [16], "train.episodes": 1,
                                 "train.episodes_per_update": 2, "train.batch_size": 8})


@pytest.fixture(scope="module")
def good(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One episode of a two-episode rollout: the buffer holds a part of every level."""
    with torch_threads(1):
        trainer = Trainer(scenario)
        trainer.train()
    path = tmp_path_factory.mktemp("good") / "checkpoint.pt"
    save_checkpoint(path, Checkpoint.from_trainer(trainer))
    return path


def corrupted(good: Path, tmp_path: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    payload = torch.load(good, map_location="cpu", weights_only=True)
    edit(payload)
    path = tmp_path / "bad.pt"
    torch.save(payload, path)
    return path


def first_weight(payload: dict[str, Any]) -> str:
    return next(iter(payload["weights"]))


def set_first(value: float) -> Callable[[dict[str, Any]], None]:
    def edit(payload: dict[str, Any]) -> None:
        payload["weights"][first_weight(payload)].view(-1)[0] = value
    return edit


def grow_first(payload: dict[str, Any]) -> None:
    key = first_weight(payload)
    payload["weights"][key] = torch.zeros(*payload["weights"][key].shape[:-1], 999)


def nan_weight(good: Path, tmp_path: Path) -> Path:
    return corrupted(good, tmp_path, set_first(math.nan))


CASES: dict[str, tuple[Callable[[dict[str, Any]], object], str]] = {
    "no weights": (lambda p: p.pop("weights"), "missing key 'weights'"),
    "no config": (lambda p: p.pop("config"), "missing key 'config'"),
    "no training": (lambda p: p.pop("training"), "missing key 'training'"),
    "no source": (lambda p: p.pop("source"), "missing key 'source'"),
    "weights not a dict": (lambda p: p.update(weights=[1, 2]),
                           "'weights' has type list, expected dict"),
    "config not TOML": (lambda p: p.update(config="[network\n"), "its scenario is invalid"),
    "a weight missing": (lambda p: p["weights"].pop(first_weight(p)),
                         r"missing weight 'group\.actor\.weights\.0'"),
    "an extra weight": (lambda p: p["weights"].update({"extra.bias": torch.zeros(3)}),
                        "unexpected weight 'extra.bias'"),
    "a wrong shape": (grow_first, r"weight 'group\.actor\.weights\.0' has shape \([\d, ]+999\), "
                                  r"expected \([\d, ]+\)"),
    "a NaN weight": (set_first(math.nan), r"weight 'group\.actor\.weights\.0' has non-finite"),
    "an inf weight": (set_first(-math.inf), "has non-finite values"),
    "a weight not a tensor": (lambda p: p["weights"].update({first_weight(p): [0.0]}),
                              "has type list, not a tensor"),
    "no optimizers": (lambda p: p["training"].pop("optimizers"),
                      "missing key 'training.optimizers'"),
    "no episode count": (lambda p: p["training"].pop("episodes_done"),
                         "missing key 'training.episodes_done'"),
    "an optimizer level missing": (lambda p: p["training"]["optimizers"].pop("group"),
                                   r"'training\.optimizers' has levels \['ue'\], expected "
                                   r"\['group', 'ue'\]"),
    "an optimizer of another size": (
        lambda p: p["training"]["optimizers"]["ue"]["param_groups"][0]["params"].pop(),
        r"'training\.optimizers\.ue' covers \d+ parameters, expected"),
    "a scaler without mean": (lambda p: p["training"]["scalers"]["ue"].pop("mean"),
                              r"missing key 'training\.scalers\.ue\.mean'"),
    "a rollout part without returns": (lambda p: p["training"]["buffer"]["ue"][0].pop("returns"),
                                       r"'training\.buffer\.ue\[0\]' must hold exactly"),
    "a history row not a dict": (lambda p: p["training"]["history"].append(3),
                                 r"'training\.history\[1\]' has type int, expected dict"),
}


def test_the_good_checkpoint_loads_runs_and_resumes(good: Path, scenario: Scenario) -> None:
    checkpoint = load_checkpoint(good)
    assert checkpoint.trainer().buffered_episodes == 1
    result = simulate(scenario, "hid", checkpoint=good, slots=1)
    assert len(result.slots) == 1


@pytest.mark.parametrize("case", CASES)
def test_a_damaged_checkpoint_is_refused_in_one_line(case: str, good: Path,
                                                     tmp_path: Path) -> None:
    edit, match = CASES[case]
    bad = corrupted(good, tmp_path, edit)
    with pytest.raises(HybridnetError, match=match) as caught:
        load_checkpoint(bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}: damaged HID checkpoint: ") and "\n" not in message


def test_missing_paths_and_directories(tmp_path: Path) -> None:
    with pytest.raises(HybridnetError, match=r"missing\.pt: no such checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(HybridnetError, match="is a directory, not a HID checkpoint file"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize(("spec", "match"), [
    ("missing.pt", r"^missing\.pt: no such file \(a HID checkpoint\)$"),
    ("runs/x/checkpoint", r"^runs/x/checkpoint: no such file \(a HID checkpoint\)$"),
    ("", "^policy must not be empty; allowed: hid, oracle"),
    ("  ", "^policy must not be empty; allowed: hid, oracle"),
    ("greedy", "^unknown policy 'greedy'; allowed: hid, oracle"),
])
def test_bad_policy_specs(spec: str, match: str, scenario: Scenario) -> None:
    with pytest.raises(HybridnetError, match=match):
        make_policy(spec, scenario, np.random.default_rng(0))


def test_a_directory_as_policy(scenario: Scenario, tmp_path: Path) -> None:
    with pytest.raises(HybridnetError, match=r"is a directory; --policy takes a HID checkpoint "
                                             r"file, e\.g\. .*checkpoint\.pt$"):
        make_policy(str(tmp_path), scenario, np.random.default_rng(0))


def test_a_damaged_checkpoint_as_policy(good: Path, scenario: Scenario, tmp_path: Path) -> None:
    bad = nan_weight(good, tmp_path)
    with pytest.raises(HybridnetError, match="non-finite"):
        make_policy(str(bad), scenario, np.random.default_rng(0))


def test_checkpoint_only_with_hid(good: Path, scenario: Scenario) -> None:
    with pytest.raises(HybridnetError, match="^--checkpoint applies only to --policy hid; "
                                             "--policy oracle takes none"):
        simulate(scenario, "oracle", checkpoint=good, slots=1)
    with pytest.raises(HybridnetError, match="is a checkpoint already.*ambiguous"):
        simulate(scenario, str(good), checkpoint=good, slots=1)
    with pytest.raises(HybridnetError, match="^--checkpoint applies only to --policy hid; "
                                             "the policy given is a built OraclePolicy"):
        oracle = OraclePolicy(scenario.steps, ModelParams.from_scenario(scenario))
        simulate(scenario, oracle, checkpoint=good, slots=1)


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    return int(exit_.value.code or 0), capsys.readouterr().err


@pytest.mark.parametrize("policy", ["bad", "missing.pt", "oracle --checkpoint"])
def test_cli_refuses_in_one_line_and_writes_nothing(policy: str, good: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = {"bad": ["--policy", str(nan_weight(good, tmp_path))],
            "missing.pt": ["--policy", str(tmp_path / "missing.pt")],
            "oracle --checkpoint": ["--policy", "oracle", "--checkpoint", str(good)]}[policy]
    code, err = run_cli(capsys, "run", SMALL, *args, "--slots", "1", "--out", str(out))
    assert code != 0
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_cli_refuses_an_empty_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not the scenario's sim.policy (hid, which would train a controller) in its place."""
    out = tmp_path / "run"
    code, err = run_cli(capsys, "run", SMALL, "--policy", "", "--slots", "1", "--out", str(out),
                        "--set", "train.episodes=1", "--set", "train.hidden=[8]")
    assert code != 0 and err.count("\n") == 1 and "policy must not be empty" in err
    assert not out.exists()


def test_a_default_mode_checkpoint_of_the_per_ue_layout_is_refused_with_the_reason(
        good: Path, tmp_path: Path) -> None:
    path = corrupted(good, tmp_path, lambda p: p.update(format="hybridnet.hid_checkpoint/1"))
    with pytest.raises(HybridnetError, match="one network per UE.*retrain it") as err:
        load_checkpoint(path)
    assert "\n" not in str(err.value)


def test_a_paper_mode_checkpoint_of_the_previous_layout_still_resumes(tmp_path: Path) -> None:
    """Paper mode's networks did not change; its old buffers gain 'no teacher' targets."""
    paper = load_scenario(SMALL, {"train.hidden": [16], "train.episodes": 1, "train.mode": "paper",
                                  "train.episodes_per_update": 2, "train.batch_size": 8})
    with torch_threads(1):
        trainer = Trainer(paper)
        trainer.train()
    payload = Checkpoint.from_trainer(trainer).to_payload()
    payload["format"] = "hybridnet.hid_checkpoint/1"
    for parts in payload["training"]["buffer"].values():
        for part in parts:
            del part["targets"]
    torch.save(payload, tmp_path / "old.pt")
    with torch_threads(1):
        resumed = load_checkpoint(tmp_path / "old.pt").trainer()
        resumed.train(2)
    assert resumed.episodes_done == 2
