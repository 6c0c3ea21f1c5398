"""Named choices: one registry, and every place that takes a name agrees with it in deed.

Each test checks what a place does with the registered names (validates them,
documents them, offers them, runs them), not a copy of the list.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hybridnet import registry
from hybridnet.api import load_scenario, make_policy, simulate
from hybridnet.cli.prompts import group
from hybridnet.cli.run import run
from hybridnet.errors import HybridnetError
from hybridnet.policies import register_policies
from hybridnet.registry import (
    ARRIVALS,
    DOWNLINKS,
    EDGE_SCHEDULERS,
    ENGINES,
    FADINGS,
    HIS_AGENTS,
    POLICIES,
    PROMPT_SCHEMES,
    QOS_MODELS,
    REDRAWS,
    Choices,
)
from hybridnet.scenario import SECTIONS, from_dict

ROOT = Path(__file__).resolve().parents[1]
DEMO = Choices("demo.key", {"a": "the first", "b": "the second"})


def loaded_by(module: str) -> set[str]:
    """Every module that ``import module`` loads in a fresh interpreter."""
    code = f"import sys, {module}; print('\\n'.join(sys.modules))"
    return set(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.split())


def test_the_registry_imports_nothing_of_hybridnet_but_its_errors():
    """Every layer may import it, the scenario (the lowest but one) included."""
    assert {m for m in loaded_by("hybridnet.registry") if m.startswith("hybridnet")} == {
        "hybridnet", "hybridnet.errors", "hybridnet.registry"}


def test_choices_are_the_sequence_of_their_names():
    assert list(DEMO) == ["a", "b"] and len(DEMO) == 2 and DEMO[1] == "b"
    assert "a" in DEMO and "z" not in DEMO
    assert ", ".join(DEMO) == "a, b"
    assert DEMO.describe() == "a (the first), b (the second)"


def test_implement_ties_a_table_to_the_names_or_says_what_is_off():
    table = DEMO.implement({"b": 2, "a": 1})
    assert list(table.items()) == [("a", 1), ("b", 2)]
    with pytest.raises(TypeError):
        table["c"] = 3  # type: ignore[index]
    with pytest.raises(ValueError, match=r"demo\.key: .*missing: b; not registered: c"):
        DEMO.implement({"a": 1, "c": 3})


KEYS_WITH_CHOICES = [(section, f) for section, cls in SECTIONS.items()
                     for f in dataclasses.fields(cls) if f.metadata["choices"]]


@pytest.mark.parametrize(("section", "field"), KEYS_WITH_CHOICES,
                         ids=[f"{s}.{f.name}" for s, f in KEYS_WITH_CHOICES])
def test_a_scenario_key_with_choices_takes_them_from_the_registry(section: str,
                                                                  field: dataclasses.Field):
    choices = field.metadata["choices"]
    assert any(choices is value for value in vars(registry).values())
    for name in choices:  # the reference explains every name it accepts
        assert f"{name} ({choices.docs[name]})" in field.metadata["doc"]
    listed = ", ".join(f'"{name}"' for name in choices)
    with pytest.raises(HybridnetError, match=f"expected one of {listed}$"):
        from_dict({section: {field.name: "no-such-name"}})


RUNNABLE = {"edge.scheduler": EDGE_SCHEDULERS, "channel.downlink": DOWNLINKS,
            "sim.arrivals": ARRIVALS, "channel.fading": FADINGS, "qos.model": QOS_MODELS,
            "prompts.scheme": PROMPT_SCHEMES, "ue.freq_redraw": REDRAWS,
            "channel.position_redraw": REDRAWS}


@pytest.mark.parametrize(("key", "name"), [(k, n) for k, c in RUNNABLE.items() for n in c])
def test_every_registered_name_runs_in_the_des(key: str, name: str):
    scenario = load_scenario(None, {"network.num_ues": 4, "sim.slots": 2, key: name})
    result = simulate(scenario, "local", seed=1)
    assert len(result.slots) == 2 and np.isfinite(result.slots["reward"]).all()


@pytest.mark.parametrize("engine", ENGINES)
def test_every_registered_engine_runs(engine: str):
    result = simulate(load_scenario(None, {"network.num_ues": 4}), "local", seed=1, slots=2,
                      engine=engine)
    assert len(result.ues) == 2 * 4


def test_an_unknown_engine_names_the_registered_ones():
    with pytest.raises(HybridnetError, match="unknown engine 'fast'; allowed: des, closed$"):
        simulate(load_scenario(None, {"network.num_ues": 4}), "local", slots=1, engine="fast")


@pytest.mark.parametrize("spec", ["oracle", "random", "local", "fixed:2,0"])
def test_every_policy_built_below_rl_comes_from_its_name(spec: str):
    scenario = load_scenario(None, {"network.num_ues": 4})
    policy = make_policy(spec, scenario, np.random.default_rng(0))
    assert policy.name == spec


def test_the_api_registers_hid_without_loading_torch():
    """A run of any other policy is spared torch's start-up; hid loads it when built."""
    assert "torch" not in loaded_by("hybridnet.api")


def test_registering_a_policy_the_registry_does_not_name_is_refused():
    with pytest.raises(ValueError, match="not registered: greedy"):
        register_policies({"greedy": lambda request: make_policy("local", request.scenario,
                                                                 request.rng)})
    with pytest.raises(HybridnetError, match="unknown policy 'greedy'"):
        make_policy("greedy", load_scenario(None, {}), np.random.default_rng(0))


def test_the_cli_offers_the_registered_names():
    options = {p.name: p for p in run.params}
    assert tuple(options["engine"].type.choices) == ENGINES.names
    assert f"One of {', '.join(POLICIES)} " in options["policy"].help
    options = {p.name: p for p in group.params}
    assert tuple(options["scheme"].type.choices) == PROMPT_SCHEMES.names
    assert tuple(options["agent"].type.choices) == HIS_AGENTS.names
