"""The trained HID controller as a :class:`~hybridnet.policies.Policy`, and its cache.

``hybridnet run --policy hid`` needs a controller for the scenario it runs.
Given a checkpoint it loads that one (refusing a checkpoint whose UEs or step
ranges do not match the scenario); without one it reuses the controller
cached for the same resolved scenario, or trains one (announced, with its
progress on stderr: :mod:`hybridnet.rl.progress`) and caches it, so the
paper's controller is one command away.

:func:`load_hid_policy` is what ``--policy hid`` and a checkpoint path build:
:mod:`hybridnet.api` registers it with :mod:`hybridnet.policies`, which sits
below this package and cannot import it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import torch

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import resolve_references
from hybridnet.model.slot import SlotState
from hybridnet.rl.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from hybridnet.rl.controller import HidController
from hybridnet.rl.progress import episode_progress, training_notice
from hybridnet.rl.train import Trainer
from hybridnet.scenario import Scenario, from_dict, to_dict, to_toml

CACHE_ENV = "HYBRIDNET_CACHE"
"""Environment variable naming the cache directory (default ~/.cache/hybridnet)."""


class HidPolicy:
    """Asks the per-UE actors (and, in default mode, the group actor) every slot.

    Greedy (each actor's most likely choice) unless ``sample``; the two differ
    by a few points of reward, so results must say which was used.
    """

    name = "hid"

    def __init__(self, controller: HidController, sample: bool = False,
                 generator: torch.Generator | None = None) -> None:
        self.controller = controller.eval()
        self.sample = sample
        self.generator = generator

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        decision = self.controller.act(state, greedy=not self.sample, generator=self.generator)
        return decision.x[0], decision.y[0]


def cache_dir() -> Path:
    """Where trained controllers are cached: $HYBRIDNET_CACHE or ~/.cache/hybridnet."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) if root else Path.home() / ".cache" / "hybridnet"


TRAINING_REVISION = 5
"""Raised whenever a change to the code makes training learn something else (2: the
fluid teacher spreads the overload of a cell no decision keeps stable; 3: the actors
observe the ES price; 4: an overloaded cell plans
the ES to what its backlog leaves of the slot; 5: a group observes the X its
fluid plan gives it), so that a
controller cached by older code is trained again instead of being reused."""


def scenario_key(scenario: Scenario) -> str:
    """Hash of the resolved scenario that training depends on, and of TRAINING_REVISION.

    Everything counts except what only evaluation runs read (``[sim] seed``,
    ``slots``, ``policy``, ``engine`` and ``dpp_v``: training draws from ``[train] seed``
    and plays ``train.episode_slots``) and the comment naming the source file,
    so the same scenario read from two paths, or run for another number of
    slots, shares its controller.
    """
    resolved = resolve_references(scenario)
    raw = to_dict(resolved)
    defaults = to_dict(Scenario())["sim"]
    raw["sim"].update({key: defaults[key] for key in ("seed", "slots", "policy", "engine",
                                                             "dpp_v")})
    text = to_toml(from_dict(raw, "<key>"))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    body += f"\nrevision = {TRAINING_REVISION}"
    return hashlib.sha256(body.encode()).hexdigest()[:20]


def check_compatible(checkpoint: Checkpoint, scenario: Scenario, source: str) -> None:
    """Refuse a controller trained for a different action space or number of UEs."""
    trained = checkpoint.scenario
    if trained.network.num_ues != scenario.network.num_ues:
        raise HybridnetError(
            f"{source}: the controller was trained for {trained.network.num_ues} UEs; the "
            f"scenario has [network] num_ues = {scenario.network.num_ues}")
    if trained.steps != scenario.steps:
        raise HybridnetError(
            f"{source}: the controller was trained for [steps] {to_dict(trained)['steps']}; "
            f"the scenario has {to_dict(scenario)['steps']}")


def cached_path(scenario: Scenario) -> Path:
    """Where the controller trained for ``scenario`` is cached (whether or not it is yet)."""
    return cache_dir() / "hid" / scenario_key(scenario) / "checkpoint.pt"


def train_cached(scenario: Scenario, progress: bool = True) -> Checkpoint:
    """The controller cached for ``scenario``, trained (and cached) first if there is none."""
    path = cached_path(scenario)
    if path.is_file():
        return load_checkpoint(path)
    trainer = Trainer(scenario)
    if progress:
        print(training_notice(scenario, cache_dir()), file=sys.stderr, flush=True)
    with episode_progress(scenario.train.episodes, "training HID", enabled=progress) as tick:
        trainer.train(on_episode=tick)
    checkpoint = Checkpoint.from_trainer(trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_checkpoint(path, checkpoint)
    return checkpoint


def load_hid_policy(scenario: Scenario, path: str | Path | None, rng: np.random.Generator,
                    *, sample: bool = False, progress: bool = True) -> HidPolicy:
    """The HID policy for ``scenario`` from the checkpoint at ``path``, or the cached one.

    ``rng`` seeds the actors' draws when ``sample`` is set (greedy actions need none).
    """
    if path is None:
        checkpoint = train_cached(scenario, progress=progress)
        source = "cached HID controller"
    else:
        checkpoint = load_checkpoint(path)
        source = str(path)
    check_compatible(checkpoint, scenario, source)
    generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
    return HidPolicy(checkpoint.controller(), sample=sample, generator=generator)
