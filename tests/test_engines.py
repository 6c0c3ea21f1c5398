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
