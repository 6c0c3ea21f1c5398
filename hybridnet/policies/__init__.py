"""Policies the controller can run, chosen by name (``--policy``).

``random``, ``local``, ``oracle`` and ``fixed:X,Y`` live here; ``hid`` (the
trained IPPO controller) is built by :mod:`hybridnet.rl`. A spec that is a path
to an existing file is read as a HID checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.model.params import ModelParams
from hybridnet.policies.base import Policy
from hybridnet.policies.oracle import OraclePolicy
from hybridnet.policies.simple import FixedPolicy, LocalPolicy, RandomPolicy
from hybridnet.scenario import Scenario

POLICY_CHOICES = ("hid", "oracle", "random", "local", "fixed:X,Y", "PATH/checkpoint.pt")

__all__ = ["Policy", "OraclePolicy", "FixedPolicy", "LocalPolicy", "RandomPolicy",
           "make_policy", "POLICY_CHOICES"]


def _parse_fixed(spec: str) -> tuple[int, int]:
    try:
        x_text, y_text = spec.split(":", 1)[1].split(",")
        return int(x_text), int(y_text)
    except ValueError:
        raise HybridnetError(
            f"policy '{spec}' must look like fixed:X,Y with integers X and Y"
        ) from None


def make_policy(spec: str, scenario: Scenario, rng: np.random.Generator,
                checkpoint: str | Path | None = None, sample: bool = False) -> Policy:
    """Build the policy named by ``spec`` for ``scenario``.

    ``sample`` makes HID draw its actions instead of taking each actor's most
    likely one; the other policies ignore it.
    """
    steps = scenario.steps
    if spec == "random":
        return RandomPolicy(steps, rng)
    if spec == "local":
        return LocalPolicy(steps)
    if spec == "oracle":
        return OraclePolicy(steps, ModelParams.from_scenario(scenario))
    if spec.startswith("fixed:"):
        return FixedPolicy(steps, *_parse_fixed(spec))
    if spec == "hid" or Path(spec).is_file():
        from hybridnet.rl.policy import load_hid_policy

        path = checkpoint if spec == "hid" else spec
        return load_hid_policy(scenario, path, rng, sample=sample)
    raise HybridnetError(
        f"unknown policy '{spec}'; allowed: {', '.join(POLICY_CHOICES)}"
    )
