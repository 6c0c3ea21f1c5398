"""Policies the controller can run, chosen by name (``--policy``).

``random``, ``local``, ``oracle`` and ``fixed:X,Y`` live here; ``hid`` (the
trained IPPO controller) is built by :mod:`hybridnet.rl`. A spec that is a path
to an existing file is read as a HID checkpoint; one that looks like a path
(ends in ``.pt`` or has a directory part) but names no file is an error.
"""

from __future__ import annotations

import os
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


def _looks_like_path(spec: str) -> bool:
    """A spec the user meant as a checkpoint file, so a typo in it is not "unknown policy"."""
    return spec.endswith(".pt") or "/" in spec or os.sep in spec


def make_policy(spec: str, scenario: Scenario, rng: np.random.Generator,
                checkpoint: str | Path | None = None, sample: bool = False) -> Policy:
    """Build the policy named by ``spec`` for ``scenario``.

    ``checkpoint`` is for ``hid`` only: with any other policy it would be ignored
    silently, so it is refused. ``sample`` makes HID draw its actions instead of
    taking each actor's most likely one; the other policies ignore it.
    """
    allowed = ", ".join(POLICY_CHOICES)
    if not spec.strip():
        raise HybridnetError(f"policy must not be empty; allowed: {allowed}")
    if checkpoint is not None and spec != "hid":
        if _looks_like_path(spec) or Path(spec).is_file():
            raise HybridnetError(
                f"--checkpoint applies only to --policy hid; --policy {spec} is a checkpoint "
                f"already, so {checkpoint} is ambiguous: give one or the other")
        raise HybridnetError(
            f"--checkpoint applies only to --policy hid; --policy {spec} takes none "
            f"(drop --checkpoint {checkpoint} or use --policy hid)")
    steps = scenario.steps
    if spec == "random":
        return RandomPolicy(steps, rng)
    if spec == "local":
        return LocalPolicy(steps)
    if spec == "oracle":
        return OraclePolicy(steps, ModelParams.from_scenario(scenario))
    if spec.startswith("fixed:"):
        return FixedPolicy(steps, *_parse_fixed(spec))
    path = Path(spec)
    if spec == "hid" or path.is_file():
        from hybridnet.rl.policy import load_hid_policy

        return load_hid_policy(scenario, checkpoint if spec == "hid" else path, rng,
                               sample=sample)
    if path.is_dir():
        raise HybridnetError(
            f"{path}: is a directory; --policy takes a HID checkpoint file, e.g. "
            f"{path / 'checkpoint.pt'}")
    if _looks_like_path(spec):
        raise HybridnetError(f"{path}: no such file (a HID checkpoint)")
    raise HybridnetError(f"unknown policy '{spec}'; allowed: {allowed}")
