"""[train] settings mean what they say: a key set where it does nothing is refused, the
"auto" values come from one table, and the HID cache follows the training code."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hybridnet.api import load_scenario
from hybridnet.errors import HybridnetError
from hybridnet.model.reference import inert_train_keys, resolve_references
from hybridnet.rl.policy import _code_of, scenario_key, training_code_hash
from hybridnet.scenario import Scenario, to_toml
from hybridnet.scenario.sections import TRAIN_AUTO, TrainConfig

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "scenarios" / "paper.toml"
DENSE = ROOT / "scenarios" / "dense.toml"


@pytest.mark.parametrize(("path", "overrides", "refused"), [
    (PAPER, {"train.mode": "paper", "train.imitation": 1}, "train.imitation"),
    (PAPER, {"train.behind_slots": 2}, "train.behind_slots"),           # closed form
    (PAPER, {"train.gae_lambda": 0.5}, "train.gae_lambda"),             # gamma auto: 0
    (PAPER, {"train.mode": "paper", "train.shared_samples": 64}, "train.shared_samples"),
    (DENSE, {"train.mode": "paper", "train.group_learning_rate": 1e-3},
     "train.group_learning_rate"),
])
def test_a_key_set_where_it_does_nothing_is_refused(path: Path, overrides: dict[str, object],
                                                    refused: str) -> None:
    with pytest.raises(HybridnetError, match=rf"{refused} = .* does nothing here") as error:
        load_scenario(path, overrides)
    assert "\n" not in str(error.value) and str(path) in str(error.value)


@pytest.mark.parametrize(("path", "overrides"), [
    (PAPER, {"train.imitation": 0.5}),                        # default mode: it acts
    (DENSE, {"train.behind_slots": 2}),                       # default mode on the DES
    (PAPER, {"train.gamma": 0.5, "train.gae_lambda": 0.5}),
    (PAPER, {"train.mode": "paper"}),
])
def test_a_key_that_acts_is_accepted(path: Path, overrides: dict[str, object]) -> None:
    load_scenario(path, overrides)


def test_a_resolved_config_of_paper_mode_reads_back(tmp_path: Path) -> None:
    """A run's config.toml writes every key, the inert ones at their defaults: not refused."""
    resolved = load_scenario(PAPER, {"train.mode": "paper"})
    assert {"imitation", "shared_samples", "behind_slots"} <= set(inert_train_keys(resolved))
    path = tmp_path / "config.toml"
    path.write_text(to_toml(resolved))
    assert load_scenario(path).train == resolved.train


def test_auto_values_and_their_help_come_from_one_table() -> None:
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    for engine in ("closed", "des"):
        train = resolve_references(Scenario().with_values({"train.engine": engine})).train
        for name, values in TRAIN_AUTO.items():
            assert getattr(train, name) == values[engine]
            assert f"{values[engine]:g} on the {'DES' if engine == 'des' else 'closed form'}" \
                in fields[name].metadata["doc"]


def test_the_cache_key_follows_the_code_not_its_docstrings(tmp_path: Path) -> None:
    one, other, documented = (tmp_path / f"{name}.py" for name in ("one", "other", "doc"))
    one.write_text("def f(x):\n    return x + 1\n")
    other.write_text("def f(x):\n    return x + 2\n")
    documented.write_text('"""Module."""\n\ndef f(x):\n    """Why."""\n    return x + 1\n')
    assert _code_of(one) != _code_of(other)
    assert _code_of(one) == _code_of(documented)
    assert len(training_code_hash()) == 64
    assert scenario_key(Scenario()) == scenario_key(Scenario().with_values({"sim.seed": 7}))
