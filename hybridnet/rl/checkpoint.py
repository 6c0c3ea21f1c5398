"""HID checkpoints: the weights, the resolved scenario they were trained on, and enough
training state (optimisers, reward statistics, unfinished rollout, history) to resume.

A checkpoint is a ``torch.save`` of plain containers and tensors, read back with
``weights_only=True`` so that loading one never runs code from the file. It is
written to a temporary sibling and renamed into place, so a crash mid-write
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import resolve_references
from hybridnet.outputs import atomic_write
from hybridnet.rl.controller import HidController
from hybridnet.rl.ppo import Samples
from hybridnet.scenario import Scenario, from_dict, to_dict, to_toml

if TYPE_CHECKING:
    from hybridnet.rl.train import Trainer

FORMAT = "hybridnet.hid_checkpoint/1"
"""Tag of the checkpoint layout; bumped when it changes."""


def package_version() -> str:
    """The installed hybridnet version, or "unknown" when run from a source tree."""
    try:
        return metadata.version("hybridnet")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class Checkpoint:
    """A trained (or partly trained) HID controller."""

    config: str
    """The resolved scenario as TOML."""
    weights: dict[str, torch.Tensor]
    training: dict[str, Any]
    source: str = "<checkpoint>"
    """Where the scenario was read from when training started."""
    version: str = field(default_factory=package_version)

    @property
    def scenario(self) -> Scenario:
        return from_dict(tomllib.loads(self.config), self.source)

    @classmethod
    def from_trainer(cls, trainer: Trainer) -> Checkpoint:
        """Snapshot a trainer between episodes."""
        weights = {k: v.detach().cpu().clone() for k, v in trainer.controller.state_dict().items()}
        training = {
            "episodes_done": trainer.episodes_done,
            "updates_done": trainer.updates_done,
            "buffered_episodes": trainer.buffered_episodes,
            "optimizers": {k: opt.state_dict() for k, opt in trainer.optimizers.items()},
            "scalers": {k: {n: torch.as_tensor(v) for n, v in s.state_dict().items()}
                        for k, s in trainer.scalers.items()},
            "buffer": {level: [vars(part) for part in parts]
                       for level, parts in trainer.buffer.items()},
            "history": [dict(row) for row in trainer.history],
        }
        return cls(config=to_toml(trainer.scenario), weights=weights, training=training,
                   source=trainer.scenario.source)

    def controller(self) -> HidController:
        """The trained actors and critics, on the CPU."""
        controller = HidController(self.scenario)
        controller.load_state_dict(self.weights)
        return controller

    def trainer(self) -> Trainer:
        """A trainer in exactly the state this checkpoint was taken in."""
        from hybridnet.rl.train import Trainer

        trainer = Trainer(self.scenario)
        trainer.controller.load_state_dict(self.weights)
        t = self.training
        trainer.episodes_done = int(t["episodes_done"])
        trainer.updates_done = int(t["updates_done"])
        trainer.buffered_episodes = int(t["buffered_episodes"])
        for level, state in t["optimizers"].items():
            trainer.optimizers[level].load_state_dict(state)
        for level, state in t["scalers"].items():
            trainer.scalers[level].load_state_dict({k: v.numpy() for k, v in state.items()})
        trainer.buffer = {level: [Samples(**part) for part in parts]
                          for level, parts in t["buffer"].items()}
        trainer.history = [dict(row) for row in t["history"]]
        return trainer

    def resume(self, scenario: Scenario, source: str) -> Trainer:
        """The trainer to continue for ``scenario``, which may change only ``[train] episodes``."""
        trained = to_dict(self.scenario)
        wanted = to_dict(resolve_references(scenario))
        changed = [f"{section}.{key}" for section, table in wanted.items()
                   for key, value in table.items()
                   if (section, key) != ("train", "episodes") and trained[section][key] != value]
        if changed:
            raise HybridnetError(
                f"{source}: cannot resume: the scenario differs from the one being trained in "
                f"{', '.join(changed)} (only train.episodes may change)")
        trainer = self.trainer()
        trainer.scenario = trainer.scenario.with_values(
            {"train.episodes": scenario.train.episodes})
        return trainer

    def to_payload(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": self.version, "config": self.config,
                "source": self.source, "weights": self.weights, "training": self.training}


def save_checkpoint(path: str | Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (temporary sibling, then rename)."""
    payload = checkpoint.to_payload()
    atomic_write(path, lambda tmp: torch.save(payload, tmp), force=True)


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, or raise :class:`HybridnetError` saying what is wrong with the file."""
    path = Path(path)
    if not path.is_file():
        raise HybridnetError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch.load fails in many ways on a foreign file
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise HybridnetError(
            f"{path}: not a readable hybridnet checkpoint ({first}); write one with "
            "`hybridnet train`") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise HybridnetError(
            f"{path}: not a HID checkpoint of format {FORMAT} (found {found!r}); "
            "write one with `hybridnet train`")
    checkpoint = Checkpoint(config=payload["config"], weights=payload["weights"],
                            training=payload["training"], source=payload["source"],
                            version=payload["version"])
    try:
        checkpoint.controller()
    except (RuntimeError, HybridnetError, tomllib.TOMLDecodeError) as err:
        first = str(err).strip().splitlines()[0]
        raise HybridnetError(f"{path}: damaged HID checkpoint ({first})") from None
    return checkpoint
