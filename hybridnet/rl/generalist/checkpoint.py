"""The generalist's checkpoint: weights, the distribution it was trained over, how.

Plain containers and tensors, read back with ``torch.load(weights_only=True)``;
written atomically, refused when a weight is not finite, and checked when read,
so a damaged or foreign file is one clear line rather than a traceback.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from hybridnet.errors import HybridnetError
from hybridnet.outputs.files import replace_file
from hybridnet.rl.checkpoint import nonfinite_entry
from hybridnet.rl.generalist.distribution import CellDistribution
from hybridnet.rl.generalist.network import GeneralistNet

FORMAT = "hybridnet-hid-generalist"
ZIP_MAGIC = b"PK\x03\x04"
"""How every file torch.save writes begins (a zip archive)."""
VERSION = 1


@dataclass
class GeneralistCheckpoint:
    """A trained generalist and its provenance."""

    weights: dict[str, torch.Tensor]
    hidden: int
    distribution: dict[str, Any]
    """:meth:`CellDistribution.to_record` of what it was trained over."""
    settings: dict[str, Any]
    """:class:`~hybridnet.rl.generalist.train.GeneralistSettings` as a dict."""
    training_s: float
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cells(self) -> CellDistribution:
        return CellDistribution.from_record(self.distribution)

    def network(self) -> GeneralistNet:
        """The networks with these weights, in evaluation mode."""
        net = GeneralistNet(self.cells.steps, self.hidden)
        net.load_state_dict(self.weights)
        return net.eval()


def save_generalist(path: str | Path, checkpoint: GeneralistCheckpoint) -> None:
    """Write ``checkpoint`` atomically; refuse non-finite weights."""
    bad = nonfinite_entry(checkpoint.weights, "weights")
    if bad is not None:
        raise HybridnetError(f"{path}: not written: '{bad}' has non-finite values")
    payload = {"format": FORMAT, "version": VERSION,
               "weights": {k: v.detach().cpu().clone() for k, v in checkpoint.weights.items()},
               "hidden": checkpoint.hidden, "distribution": checkpoint.distribution,
               "settings": checkpoint.settings, "training_s": checkpoint.training_s,
               "history": checkpoint.history}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    data = buffer.getvalue()
    replace_file(path, lambda tmp: tmp.write_bytes(data))


def is_generalist_file(path: str | Path) -> bool:
    """Whether ``path`` holds a generalist (not a specialist) checkpoint: its format tag,
    the tensors memory-mapped rather than read (a specialist's paper-mode checkpoint
    holds one network per UE). Anything unreadable is left to the specialist loader,
    whose errors name the file."""
    try:
        with open(path, "rb") as file:
            if file.read(4) != ZIP_MAGIC:
                return False
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - a probe: whatever fails here is not a generalist
        return False
    return isinstance(payload, dict) and payload.get("format") == FORMAT


def load_generalist(path: str | Path) -> GeneralistCheckpoint:
    """Read a generalist checkpoint, or say in one line why ``path`` is not one."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise HybridnetError(f"{path}: not a readable generalist checkpoint ({first})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise HybridnetError(f"{path}: not a HID generalist checkpoint (format "
                             f"{payload.get('format') if isinstance(payload, dict) else '?'})")
    if payload.get("version") != VERSION:
        raise HybridnetError(f"{path}: generalist checkpoint version {payload.get('version')}; "
                             f"this hybridnet reads version {VERSION}")
    checkpoint = GeneralistCheckpoint(
        weights=payload["weights"], hidden=int(payload["hidden"]),
        distribution=payload["distribution"], settings=payload["settings"],
        training_s=float(payload["training_s"]), history=payload.get("history", []))
    bad = nonfinite_entry(checkpoint.weights, "weights")
    if bad is not None:
        raise HybridnetError(f"{path}: '{bad}' has non-finite values")
    try:
        checkpoint.network()
    except (RuntimeError, KeyError, TypeError) as err:
        raise HybridnetError(f"{path}: weights do not fit the generalist's networks "
                             f"({str(err).splitlines()[0]})") from err
    return checkpoint
