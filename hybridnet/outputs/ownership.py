"""What hybridnet wrote: the kind of its directories, and the signatures of its figures.

Which files ``--force`` may delete is proven by the manifest
(:mod:`hybridnet.outputs.manifest`), never by a name or a layout; a kind here
only says what a directory is, so that one kind of output never replaces another.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from hybridnet.outputs.manifest import MARKER, record

LEGACY_LAYOUTS = {
    "run": {"config.toml", "summary.json", "ues.csv"},
    "train": {"checkpoint.pt", "training.csv"},
    "sweep": {"results.csv", "sweep.toml"},
}
"""Files that identify a directory hybridnet wrote before :data:`MARKER` existed: enough to
continue an old sweep or to name what a directory is, never to delete anything."""


def marker_kind(path: Path) -> str | None:
    """The kind of hybridnet output directory ``path`` is, or None if it is not one."""
    marker = path / MARKER
    if marker.is_file():
        with suppress(OSError, ValueError, AttributeError, KeyError, TypeError):
            return str(json.loads(marker.read_text(encoding="utf-8"))["kind"])
        return None
    with suppress(OSError):
        names = {entry.name for entry in path.iterdir()}
        for kind, layout in LEGACY_LAYOUTS.items():
            if layout <= names:
                return kind
    return None


def write_marker(directory: Path, kind: str) -> None:
    """Mark ``directory`` as a hybridnet output of ``kind``, with a manifest of no files yet."""
    record(directory, [], kind=kind)


def has_signature(text: bytes) -> Callable[[Path], bool]:
    """A signature test: the file's first 64 KiB contain ``text``."""
    def test(path: Path) -> bool:
        try:
            with path.open("rb") as f:
                return text in f.read(65536)
        except OSError:
            return False
    return test


def starts_with(prefix: str) -> Callable[[Path], bool]:
    """A signature test: the file's first line starts with ``prefix`` (our CSV headers)."""
    def test(path: Path) -> bool:
        try:
            with path.open(encoding="utf-8", errors="replace") as f:
                return f.readline().startswith(prefix)
        except OSError:
            return False
    return test


FIGURE_SIGNATURE = b"hybridnet"
"""Written into every figure's metadata (see :func:`hybridnet.plots.save_figure`)."""

figure_signature = has_signature(FIGURE_SIGNATURE)
