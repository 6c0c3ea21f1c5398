"""HID checkpoints: the weights, the resolved scenario they were trained on, and enough
training state (optimisers, reward statistics, unfinished rollout, history) to resume.

A checkpoint is a ``torch.save`` of plain containers and tensors, read back with
``weights_only=True`` so that loading one never runs code from the file. It is
written to a temporary sibling and renamed into place, so a crash mid-write
leaves the previous checkpoint intact.

The training state is the :class:`~hybridnet.rl.train.Trainer`'s own
:meth:`~hybridnet.rl.train.Trainer.state_dict`; this module only adds the
scenario and version, writes and reads the file, and checks everything in it
before a trainer or a controller is built from it. It sits above the trainer,
which knows nothing of files.
"""

from __future__ import annotations

import io
import tomllib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from hybridnet.errors import HybridnetError
from hybridnet.model.reference import resolve_references
from hybridnet.outputs import replace_file
from hybridnet.rl.controller import HidController
from hybridnet.rl.ppo import Samples
from hybridnet.rl.train import TRAINING_KEYS, Trainer
from hybridnet.scenario import Scenario, changed_keys, from_dict, to_dict, to_toml
from hybridnet.scenario.limits import loads

FORMAT = "hybridnet.hid_checkpoint/2"
"""Tag of the checkpoint layout; bumped when it changes."""
PAPER_ONLY_FORMAT = "hybridnet.hid_checkpoint/1"
"""The layout before the default mode's UE actors became one shared network: its
paper-mode checkpoints still load, its default-mode ones cannot."""

PAYLOAD_KEYS: dict[str, type] = {"config": str, "source": str, "version": str, "weights": dict,
                                 "training": dict}
"""Entries of a checkpoint besides its format tag, and the type each must have; ``weights``
and ``training`` are the two entries of :meth:`Trainer.state_dict`."""


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
        return from_dict(loads(self.config, self.source), self.source)

    @classmethod
    def from_trainer(cls, trainer: Trainer) -> Checkpoint:
        """Snapshot a trainer between episodes."""
        state = trainer.state_dict()
        return cls(config=to_toml(trainer.scenario), weights=state["weights"],
                   training=state["training"], source=trainer.scenario.source)

    def controller(self) -> HidController:
        """The trained actors and critics, on the CPU."""
        controller = HidController(self.scenario)
        controller.load_state_dict(self.weights)
        return controller

    def trainer(self) -> Trainer:
        """A trainer in exactly the state this checkpoint was taken in."""
        trainer = Trainer(self.scenario)
        trainer.load_state_dict({"weights": self.weights, "training": self.training})
        return trainer

    def resume(self, scenario: Scenario, source: str) -> Trainer:
        """The trainer to continue for ``scenario``, which may change only ``[train] episodes``."""
        changed = changed_keys(to_dict(self.scenario), to_dict(resolve_references(scenario)),
                               ignore=("train.episodes",))
        if changed:
            raise HybridnetError(
                f"{source}: cannot resume: the scenario differs from the one being trained in "
                f"{', '.join(changed)} (only train.episodes may change)")
        trainer = self.trainer()
        trainer.scenario = resolve_references(trainer.scenario.with_values(
            {"train.episodes": scenario.train.episodes}))
        return trainer

    def to_payload(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": self.version, "config": self.config,
                "source": self.source, "weights": self.weights, "training": self.training}


def nonfinite_entry(value: Any, name: str) -> str | None:
    """The dotted name of the first floating tensor in ``value`` holding NaN or inf, if any."""
    if isinstance(value, torch.Tensor):
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return name
        return None
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list | tuple) else ())
    for key, item in items:
        found = nonfinite_entry(item, f"{name}[{key}]" if isinstance(key, int) else
                                f"{name}.{key}")
        if found is not None:
            return found
    return None


def save_checkpoint(path: str | Path, checkpoint: Checkpoint) -> None:
    """Write ``checkpoint`` to ``path`` atomically (temporary sibling, then rename).

    A controller whose weights or training state went NaN is refused, never
    written as a success. torch's writer reports a full disk as a RuntimeError
    without an errno; serialising to memory first and writing the bytes
    ourselves makes it the OSError (ENOSPC, EDQUOT, ...) it is.
    """
    for name, part in (("weights", checkpoint.weights), ("training", checkpoint.training)):
        bad = nonfinite_entry(part, name)
        if bad is not None:
            raise HybridnetError(f"{path}: not written: '{bad}' has non-finite values (NaN or "
                                 "inf), the training diverged; lower train.lr or change the "
                                 "scenario and train again")
    buffer = io.BytesIO()
    torch.save(checkpoint.to_payload(), buffer)
    data = buffer.getvalue()
    replace_file(path, lambda tmp: tmp.write_bytes(data))


def _damaged(path: Path, what: str) -> HybridnetError:
    """One line naming the file and the broken entry: all the user will see."""
    return HybridnetError(f"{path}: damaged HID checkpoint: {what}")


def _entry(path: Path, table: dict[str, Any], key: str, kind: type, where: str = "") -> Any:
    """``table[key]``, refused in one line when it is missing or of the wrong type."""
    name = f"{where}.{key}" if where else key
    if key not in table:
        raise _damaged(path, f"missing key '{name}'")
    value = table[key]
    if not isinstance(value, kind):
        raise _damaged(path, f"'{name}' has type {type(value).__name__}, expected {kind.__name__}")
    return value


def _check_weights(path: Path, weights: dict[str, Any], expected: dict[str, torch.Tensor]
                   ) -> None:
    """Refuse weights that would not load into ``expected`` or would make the actors emit NaN.

    ``load_state_dict`` would report a mismatch as a multi-line RuntimeError, and
    would accept NaN weights silently: the controller would then pick garbage.
    """
    for key, want in expected.items():
        if key not in weights:
            raise _damaged(path, f"missing weight '{key}'")
        found = weights[key]
        if not isinstance(found, torch.Tensor):
            raise _damaged(path, f"weight '{key}' has type {type(found).__name__}, not a tensor")
        if key.endswith("weights.0") and found.ndim == want.ndim == 3 and (
                found.shape[1] != want.shape[1]):
            raise HybridnetError(
                f"{path}: its {key.split('.')[0]} actor observes {found.shape[1]} entries, "
                f"this version of hybridnet gives it {want.shape[1]} (docs/controller.md "
                "lists them): train it again")
        if found.shape != want.shape:
            raise _damaged(path, f"weight '{key}' has shape {tuple(found.shape)}, expected "
                                 f"{tuple(want.shape)} for the scenario it was trained on")
        if not bool(torch.isfinite(found).all()):
            raise _damaged(path, f"weight '{key}' has non-finite values (NaN or inf)")
    extra = sorted(set(weights) - set(expected))
    if extra:
        raise _damaged(path, f"unexpected weight '{extra[0]}' (not part of the controller "
                             "its scenario builds)")


def _check_training(path: Path, training: dict[str, Any], controller: HidController) -> None:
    """Check what :meth:`Trainer.load_state_dict` reads: resuming never fails with a traceback."""
    for key, kind in TRAINING_KEYS.items():
        _entry(path, training, key, kind, "training")
    modules: dict[str, torch.nn.Module] = {"ue": controller.ue}
    if controller.group is not None:
        modules["group"] = controller.group
    fields = set(Samples.__dataclass_fields__)
    for section in ("optimizers", "scalers", "buffer"):
        levels = training[section]
        if set(levels) != set(modules):
            raise _damaged(path, f"'training.{section}' has levels {sorted(levels)}, expected "
                                 f"{sorted(modules)} for a {controller.mode}-mode controller")
    for level, module in modules.items():
        where = f"training.optimizers.{level}"
        optimizer = _entry(path, training["optimizers"], level, dict, "training.optimizers")
        _entry(path, optimizer, "state", dict, where)
        groups = _entry(path, optimizer, "param_groups", list, where)
        params = sum(len(g.get("params", ())) for g in groups if isinstance(g, dict))
        if params != len(list(module.parameters())):
            raise _damaged(path, f"'{where}' covers {params} parameters, expected "
                                 f"{len(list(module.parameters()))}")
        scaler = _entry(path, training["scalers"], level, dict, "training.scalers")
        for name in ("mean", "var", "count"):
            _entry(path, scaler, name, torch.Tensor, f"training.scalers.{level}")
        parts = _entry(path, training["buffer"], level, list, "training.buffer")
        for i, part in enumerate(parts):
            where = f"training.buffer.{level}[{i}]"
            if not isinstance(part, dict) or set(part) != fields:
                raise _damaged(path, f"'{where}' must hold exactly {', '.join(sorted(fields))}")
            for name in sorted(fields):
                _entry(path, part, name, torch.Tensor, where)
    for i, row in enumerate(training["history"]):
        if not isinstance(row, dict):
            raise _damaged(path, f"'training.history[{i}]' has type {type(row).__name__}, "
                                 "expected dict")


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint, or raise :class:`HybridnetError` saying what is wrong with the file.

    Everything later use relies on is checked here, against the controller the
    checkpoint's own scenario builds, so a damaged file fails in one line at load
    rather than with a traceback (or NaN actions) at run or resume.
    """
    path = Path(path)
    if path.is_dir():
        raise HybridnetError(f"{path}: is a directory, not a HID checkpoint file")
    if not path.is_file():
        raise HybridnetError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as err:
        raise HybridnetError(f"{path}: cannot read it ({err.strerror or err})") from None
    except Exception:  # torch.load fails in many ways on a foreign file
        # torch's own text is not shown: it can advise loading with weights_only=False,
        # which would run whatever code the file holds.
        raise HybridnetError(
            f"{path}: not a readable hybridnet checkpoint (truncated, damaged, or holding "
            "objects other than tensors, which are never loaded); write one with "
            "`hybridnet train`") from None
    if not isinstance(payload, dict) or payload.get("format") not in (FORMAT, PAPER_ONLY_FORMAT):
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise HybridnetError(
            f"{path}: not a HID checkpoint of format {FORMAT} (found {found!r}); "
            "write one with `hybridnet train`")
    checkpoint = Checkpoint(**{key: _entry(path, payload, key, kind)
                               for key, kind in PAYLOAD_KEYS.items()})
    try:
        controller = HidController(checkpoint.scenario)
    except (HybridnetError, tomllib.TOMLDecodeError) as err:
        first = str(err).strip().splitlines()[0]
        raise _damaged(path, f"its scenario is invalid ({first})") from None
    if payload["format"] == PAPER_ONLY_FORMAT and controller.mode != "paper":
        raise HybridnetError(
            f"{path}: a default-mode controller of an older hybridnet ({checkpoint.version}), "
            "one network per UE; today's default mode shares one UE network: retrain it with "
            "`hybridnet train`")
    if payload["format"] == PAPER_ONLY_FORMAT:
        for parts in checkpoint.training.get("buffer", {}).values():
            for part in parts if isinstance(parts, list) else []:
                if isinstance(part, dict) and "log_probs" in part and "targets" not in part:
                    part["targets"] = torch.full_like(part["log_probs"], -1, dtype=torch.long)
    _check_weights(path, checkpoint.weights, controller.state_dict())
    _check_training(path, checkpoint.training, controller)
    bad = nonfinite_entry(checkpoint.training, "training")
    if bad is not None:
        raise _damaged(path, f"'{bad}' has non-finite values (NaN or inf); resume from an "
                             "earlier checkpoint or train again")
    return checkpoint
