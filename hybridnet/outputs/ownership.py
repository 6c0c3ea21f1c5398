"""What hybridnet wrote: the marker of its directories and the signatures of its files.

``--force`` replaces only an output these recognise, so nothing a user made
is ever lost to it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import suppress
from importlib import metadata
from pathlib import Path

MARKER = ".hybridnet"
"""File inside every directory hybridnet writes: its kind (run, train, sweep), as JSON."""

LEGACY_LAYOUTS = {
    "run": {"config.toml", "summary.json", "ues.csv"},
    "train": {"checkpoint.pt", "training.csv"},
    "sweep": {"results.csv", "sweep.toml"},
}
"""Files that identify a directory hybridnet wrote before :data:`MARKER` existed."""

OWN_SUFFIXES = (".csv", ".png", ".pdf", ".svg", ".toml", ".json", ".pt")
"""What hybridnet puts in its directories; anything else there is the user's."""


def marker_kind(path: Path) -> str | None:
    """The kind of hybridnet output directory ``path`` is, or None if it is not one."""
    marker = path / MARKER
    if marker.is_file():
        with suppress(OSError, ValueError, AttributeError):
            return str(json.loads(marker.read_text(encoding="utf-8"))["kind"])
        return None
    with suppress(OSError):
        names = {entry.name for entry in path.iterdir()}
        for kind, layout in LEGACY_LAYOUTS.items():
            if layout <= names:
                return kind
    return None


def foreign_entries(path: Path) -> list[str]:
    """What is in directory ``path`` that hybridnet did not put there."""
    out = []
    for entry in sorted(path.iterdir()):
        if entry.name == MARKER and entry.is_file():
            continue
        if entry.is_symlink() or not entry.is_file() or entry.suffix not in OWN_SUFFIXES:
            out.append(entry.name)
    return out


def write_marker(directory: Path, kind: str) -> None:
    """Mark ``directory`` as a hybridnet output of ``kind``."""
    try:
        version = metadata.version("hybridnet")
    except metadata.PackageNotFoundError:
        version = "unknown"
    text = json.dumps({"kind": kind, "written_by": f"hybridnet {version}"}) + "\n"
    (directory / MARKER).write_text(text, encoding="utf-8")


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
