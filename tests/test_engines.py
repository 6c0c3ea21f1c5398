"""The DES and the closed form produce the same frames in the paper's configuration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import hybridnet

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("seed", [0, 5, 11])
@pytest.mark.parametrize("early_handoff", [False, True])
def test_every_frame_agrees_between_engines(seed, early_handoff):
    scenario = hybridnet.load_scenario(ROOT / "scenarios" / "paper.toml",
                                       {"sim.early_handoff": early_handoff})
    des = hybridnet.simulate(scenario, "random", seed=seed, slots=3, engine="des")
    closed = hybridnet.simulate(scenario, "random", seed=seed, slots=3, engine="closed")
    for name in ("ues", "groups", "slots", "events"):
        a, b = getattr(des, name), getattr(closed, name)
        assert list(a.columns) == list(b.columns) and a.shape == b.shape, name
        for column in a.columns:
            if pd.api.types.is_numeric_dtype(a[column]):
                np.testing.assert_allclose(a[column].to_numpy(float), b[column].to_numpy(float),
                                           rtol=1e-9, atol=1e-12, err_msg=f"{name}.{column}")
            else:
                assert (a[column].to_numpy() == b[column].to_numpy()).all(), f"{name}.{column}"


def test_unknown_engine_is_refused():
    with pytest.raises(hybridnet.errors.HybridnetError, match="unknown engine"):
        hybridnet.simulate(hybridnet.load_scenario(ROOT / "scenarios" / "small.toml"), "local",
                           engine="analytic")


class Greedy:
    """A custom policy that asks for more steps than a slot has, from slot 1 on and for UE 2."""

    name = "greedy"

    def __init__(self, x: int = 13, y: int = 16) -> None:
        self.x, self.y = x, y
        self.calls = 0

    def decide(self, state):
        x, y = np.zeros(state.num_ues, dtype=np.int64), np.zeros(state.num_ues, dtype=np.int64)
        if self.calls == 1:
            x[2], y[2] = self.x, self.y
        self.calls += 1
        return x, y


@pytest.mark.parametrize("engine", ["des", "closed"])
def test_both_engines_refuse_an_infeasible_custom_decision_alike(engine):
    scenario = hybridnet.load_scenario(ROOT / "scenarios" / "small.toml")
    # z = 28 - 13 - 16 = -1: outside [0, 28]
    message = (r"policy greedy in slot 1: UE 2 got infeasible \(x, y\) = \(13, 16\); need "
               r"0 <= x <= 13, 0 <= y <= 16 and z = 28 - x - y in \[0, 28\]")
    with pytest.raises(hybridnet.errors.HybridnetError, match=message):
        hybridnet.simulate(scenario, policy=Greedy(), engine=engine, slots=3)


@pytest.mark.parametrize("engine", ["des", "closed"])
def test_both_engines_refuse_common_steps_under_iis(engine):
    scenario = hybridnet.load_scenario(ROOT / "scenarios" / "small.toml",
                                       {"prompts.scheme": "iis"})
    with pytest.raises(hybridnet.errors.HybridnetError,
                       match=r"UE 2 got infeasible \(x, y\) = \(3, 0\); need 0 <= x <= 13 "
                             r"\(x = 0: the scheme has no common phase\)"):
        hybridnet.simulate(scenario, policy=Greedy(3, 0), engine=engine, slots=2)


class Floats:
    name = "floats"

    def decide(self, state):
        return np.zeros(state.num_ues), np.zeros(state.num_ues)


@pytest.mark.parametrize("engine", ["des", "closed"])
def test_both_engines_refuse_a_decision_of_the_wrong_type(engine):
    scenario = hybridnet.load_scenario(ROOT / "scenarios" / "small.toml")
    with pytest.raises(hybridnet.errors.HybridnetError,
                       match=r"policy floats in slot 0: returned x as float64 \(6,\) .*"
                             r"expected integer arrays of shape \(6,\)"):
        hybridnet.simulate(scenario, policy=Floats(), engine=engine)
