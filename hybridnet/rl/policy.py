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

import ast
import dataclasses
import functools
import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import torch

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import resolve_references
from hybridnet.model.slot import SlotState
from hybridnet.policies.base import Policy
from hybridnet.rl.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from hybridnet.rl.controller import DECIDE_THREADS, HidController
from hybridnet.rl.generalist.checkpoint import is_generalist_file
from hybridnet.rl.generalist.distribution import DISTRIBUTION, fits_action_space
from hybridnet.rl.generalist.policy import load_generalist_policy
from hybridnet.rl.progress import episode_progress, training_notice
from hybridnet.rl.train import Trainer
from hybridnet.scenario import Scenario, from_dict, to_dict, to_toml
from hybridnet.threads import torch_threads

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
        return self.controller.decide(state, greedy=not self.sample, generator=self.generator)


def cache_dir() -> Path:
    """Where trained controllers are cached: $HYBRIDNET_CACHE or ~/.cache/hybridnet."""
    root = os.environ.get(CACHE_ENV)
    return Path(root) if root else Path.home() / ".cache" / "hybridnet"


TRAINING_SOURCES = ("model", "policies", "prompts", "rl", "scenario", "sim", "data",
                    "metrics.py", "registry.py", "threads.py")
"""The parts of the package (under hybridnet/) a trained controller depends on: what
training runs, the model it scores with and the data it reads."""


@functools.cache
def training_code_hash() -> str:
    """Hash of :data:`TRAINING_SOURCES`: each module's syntax tree without its docstrings
    (so a comment or a docstring retrains nothing), each data file's bytes.

    Part of the cache key, so that a controller cached by other training code is
    trained again instead of being reused.
    """
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in TRAINING_SOURCES:
        part = root / name
        files = sorted(p for p in part.rglob("*") if p.is_file()) if part.is_dir() else [part]
        for path in files:
            if path.suffix == ".pyc" or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(root)).encode())
            digest.update(_code_of(path) if path.suffix == ".py" else path.read_bytes())
    return digest.hexdigest()


def _code_of(path: Path) -> bytes:
    """A module's syntax tree with its docstrings left out, as bytes."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            node.body = [statement for statement in body if not _is_docstring(statement)]
    return ast.dump(tree).encode()


def _is_docstring(statement: ast.stmt) -> bool:
    """A bare string: a docstring, or an attribute's docstring after an assignment."""
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def scenario_key(scenario: Scenario) -> str:
    """Hash of the resolved scenario that training depends on, and of the training code.

    Everything counts except what only evaluation runs read (``[sim] seed``,
    ``slots``, ``policy``, ``engine`` and ``dpp_v``: training draws from ``[train] seed``
    and plays ``train.episode_slots``), ``[train] controller`` (which controller a run
    asks for, not how one is trained) and the comment naming the source file,
    so the same scenario read from two paths, or run for another number of
    slots, shares its controller; the code is :func:`training_code_hash`.
    """
    resolved = resolve_references(scenario)
    raw = to_dict(resolved)
    defaults = to_dict(Scenario())["sim"]
    raw["sim"].update({key: defaults[key] for key in ("seed", "slots", "policy", "engine",
                                                             "dpp_v")})
    raw["train"]["controller"] = to_dict(Scenario())["train"]["controller"]
    text = to_toml(from_dict(raw, "<key>"))
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    body += f"\ncode = {training_code_hash()}"
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


def controller_kind(scenario: Scenario) -> str:
    """What ``--policy hid`` runs without a checkpoint: "generalist" or "specialist".

    ``[train] controller`` says; "auto" takes the shipped generalist where it applies:
    default mode (paper mode is the paper's own per-UE IPPO, kept for reproduction) and
    the generalist's step ranges (its action space). Where queues form it decides with
    the capacities priced (hybridnet.rl.generalist.priced).
    """
    chosen = scenario.train.controller
    if chosen != "auto":
        return chosen
    applies = scenario.train.mode == "default" and fits_action_space(scenario)
    return "generalist" if applies else "specialist"


def specialist_keys(scenario: Scenario) -> list[str]:
    """The [train] keys ``scenario`` sets away from their defaults: they shape a specialist's
    training, and nothing the generalist does."""
    tr = scenario.train
    defaults = resolve_references(scenario.replace(train=dataclasses.replace(
        type(tr)(), mode=tr.mode, engine=tr.engine, controller=tr.controller))).train
    resolved = resolve_references(scenario).train
    derived = {"episode_slots"} | {key.split(".", 1)[1] for key in scenario.derived
                                   if key.startswith("train.")}   # follow [sim], not set
    return [f"train.{f.name}" for f in dataclasses.fields(resolved)
            if f.name not in derived and getattr(resolved, f.name) != getattr(defaults, f.name)]


def load_hid_policy(scenario: Scenario, path: str | Path | None, rng: np.random.Generator,
                    *, sample: bool = False, progress: bool = True) -> Policy:
    """The HID policy for ``scenario``: from the checkpoint at ``path`` (a specialist's or a
    generalist's), else the shipped generalist or the cached specialist
    (:func:`controller_kind`).

    ``rng`` seeds the actors' draws when ``sample`` is set (greedy actions need none).
    A generalist asked to run a cell outside its training distribution says so, one
    line per key on stderr, and runs.
    """
    generalist_wanted = (controller_kind(scenario) == "generalist" if path is None
                         else is_generalist_file(path))
    if generalist_wanted:
        if not fits_action_space(scenario):
            raise HybridnetError(
                f"{path or 'the shipped generalist'}: acts on [steps] "
                f"{to_dict(Scenario(steps=DISTRIBUTION.steps))['steps']}; the scenario has "
                f"{to_dict(scenario)['steps']} (set train.controller = \"specialist\")")
        generalist, lines = load_generalist_policy(scenario, rng, path, sample=sample)
        unused = specialist_keys(scenario)
        if unused:
            lines.append(f"{', '.join(unused)} train a specialist; --policy hid runs the "
                         "shipped generalist here, which they do not change")
        if progress:
            for line in lines:
                print(f"hybridnet: note: {line}; the generalist runs anyway (a specialist: "
                      f"train.controller = \"specialist\")", file=sys.stderr, flush=True)
        return generalist
    if path is None:
        checkpoint = train_cached(scenario, progress=progress)
        source = "cached HID controller"
    else:
        checkpoint = load_checkpoint(path)
        source = str(path)
    check_compatible(checkpoint, scenario, source)
    generator = torch.Generator().manual_seed(int(rng.integers(2**63 - 1)))
    # Building the networks initialises weights that the checkpoint's replace; on a second
    # thread that took paper mode's 300 per-UE networks 90 s on a busy 2-core machine, 5 s on one.
    with torch_threads(DECIDE_THREADS):
        controller = checkpoint.controller()
    return HidPolicy(controller, sample=sample, generator=generator)
