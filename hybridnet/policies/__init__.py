"""Policies the controller can run, chosen by name (``--policy``), and a factory per name.

The names are :data:`hybridnet.registry.POLICIES`. ``random``, ``local``,
``oracle``, ``fluid``, ``dpp`` and ``fixed:X,Y`` are built here, the user's own
(``MODULE:CLASS``, ``FILE.py:CLASS``) by :mod:`hybridnet.policies.plugin`. ``hid``
and a checkpoint path (the trained IPPO controller) are built by :mod:`hybridnet.rl`,
which sits above this package (its trainer scores every episode with the oracle), so this package
cannot import it: the top level (:mod:`hybridnet.api`) registers their factory
with :func:`register_policies` when it is imported. A spec that is a path to an
existing file is read as a HID checkpoint; one that looks like a path (ends in
``.pt`` or has a directory part) but names no file is an error.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridnet.errors import HybridnetError, InvalidArgument
from hybridnet.policies.base import Policy
from hybridnet.policies.dpp import DppPolicy
from hybridnet.policies.fluid import FluidPolicy
from hybridnet.policies.oracle import OraclePolicy
from hybridnet.policies.plugin import FILE_SPEC, MODULE_SPEC, load_user_policy, plugin_kind
from hybridnet.policies.simple import FixedPolicy, LocalPolicy, RandomPolicy
from hybridnet.registry import POLICIES
from hybridnet.scenario import Scenario

FIXED = "fixed:X,Y"
"""The name of the constant-split policies, a pattern: the spec carries X and Y."""
CHECKPOINT = "PATH/checkpoint.pt"
"""The name of a checkpoint file as a policy, a pattern: the spec is the path."""

__all__ = ["CHECKPOINT", "FIXED", "DppPolicy", "FixedPolicy", "FluidPolicy",
           "LocalPolicy", "OraclePolicy", "Policy",
           "PolicyRequest", "RandomPolicy", "make_policy", "register_policies"]


@dataclass(frozen=True)
class PolicyRequest:
    """What :func:`make_policy` was asked for, handed to the factory of the name it resolved to."""

    spec: str
    scenario: Scenario
    rng: np.random.Generator
    """The policy's own random stream (random draws, HID's sampled actions)."""
    checkpoint: str | Path | None
    """The HID checkpoint to load: ``--checkpoint`` for ``hid`` (None: the cached
    controller), the spec itself for a checkpoint path, None otherwise."""
    sample: bool
    """HID draws its actions instead of taking each actor's most likely one."""


PolicyFactory = Callable[[PolicyRequest], Policy]


_FACTORIES: dict[str, PolicyFactory] = {
    "oracle": lambda r: OraclePolicy.from_scenario(r.scenario),
    "fluid": lambda r: FluidPolicy.from_scenario(r.scenario),
    "dpp": lambda r: DppPolicy.from_scenario(r.scenario),
    "random": lambda r: RandomPolicy(r.scenario.steps, r.rng),
    "local": lambda r: LocalPolicy(r.scenario.steps),
    FIXED: lambda r: FixedPolicy.from_spec(r.scenario.steps, r.spec),
    MODULE_SPEC: lambda r: load_user_policy(r.spec, r.scenario, r.rng),
    FILE_SPEC: lambda r: load_user_policy(r.spec, r.scenario, r.rng),
}
"""Factory per registered name; the names built above this package join at registration."""


def register_policies(factories: Mapping[str, PolicyFactory]) -> None:
    """Add the factories of the policies built above this package (``hid``, checkpoint files).

    The top level calls it once, at import. Together with the built-in ones the
    factories must cover :data:`~hybridnet.registry.POLICIES` exactly, so a
    name registered without a factory (or a factory without a name) stops that
    import instead of the run that first asks for it.
    """
    POLICIES.implement({**_FACTORIES, **factories})
    _FACTORIES.update(factories)


def _looks_like_path(spec: str) -> bool:
    """A spec the user meant as a checkpoint file, so a typo in it is not "unknown policy"."""
    return spec.endswith(".pt") or "/" in spec or os.sep in spec


def _resolve(spec: str, allowed: str) -> str:
    """The registered name ``spec`` asks for, or an error saying why it names none."""
    if spec in POLICIES and spec not in (FIXED, CHECKPOINT, MODULE_SPEC, FILE_SPEC):
        return spec
    if spec.startswith("fixed:"):
        return FIXED
    if (kind := plugin_kind(spec)) is not None:
        return kind
    path = Path(spec)
    if path.is_file():
        return CHECKPOINT
    if path.is_dir():
        raise HybridnetError(
            f"{path}: is a directory; --policy takes a HID checkpoint file, e.g. "
            f"{path / 'checkpoint.pt'}")
    if _looks_like_path(spec):
        raise HybridnetError(f"{path}: no such file (a HID checkpoint)")
    close = difflib.get_close_matches(spec, [n for n in POLICIES if n.isidentifier()], n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    raise HybridnetError(f"unknown policy '{spec}'; {hint}allowed: {allowed}")


def make_policy(spec: str, scenario: Scenario, rng: np.random.Generator,
                checkpoint: str | Path | None = None, sample: bool = False) -> Policy:
    """Build the policy named by ``spec`` for ``scenario``.

    ``checkpoint`` is for ``hid`` only: with any other policy it would be ignored
    silently, so it is refused. ``sample`` makes HID draw its actions instead of
    taking each actor's most likely one; the other policies ignore it. ``hid``
    and checkpoint paths need :mod:`hybridnet.api` imported, which registers them.
    """
    allowed = ", ".join(POLICIES)
    if not isinstance(spec, str) or not isinstance(scenario, Scenario):
        raise InvalidArgument(f"make_policy({spec!r}, {type(scenario).__name__}): expected a "
                              f"policy name ({allowed}) and a Scenario")
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
    name = _resolve(spec, allowed)
    if name not in _FACTORIES:
        raise LookupError(f"policy '{name}' is built by hybridnet.rl and registered by "
                          "hybridnet.api: import hybridnet.api before asking for it")
    path = Path(spec) if name == CHECKPOINT else checkpoint
    return _FACTORIES[name](PolicyRequest(spec, scenario, rng, path, sample))
