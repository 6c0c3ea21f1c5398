"""An unfinished training's hidden ``.NAME.partial/NAME``: swept of dead writers' temporaries,
and removed only when its manifest proves every file in it hybridnet's."""

from __future__ import annotations

import shutil
from pathlib import Path

from hybridnet.errors import HybridnetError
from hybridnet.outputs.files import remove_path, stale_temporaries
from hybridnet.outputs.manifest import MARKER, read_manifest, unproven

TRAINING_FILES = ("checkpoint.pt", "training.csv", "config.toml", "reward.png", MARKER)
"""What a training writes into its directory, each through a temporary sibling."""


def sweep_temporaries(work: Path) -> None:
    """Remove the temporaries a killed training left beside its files in ``work``.

    Called under the claim of the output: no live writer of them can remain.
    """
    for name in TRAINING_FILES:
        for stale in stale_temporaries(work / name):
            remove_path(stale)


def discard_partial(work: Path) -> None:
    """Remove ``work``'s ``.NAME.partial`` parent, or refuse in one line naming what is not ours."""
    parent = work.parent
    if not (parent.exists() or parent.is_symlink()):
        return
    if parent.is_symlink() or not parent.is_dir():
        raise HybridnetError(f"{parent}: not a directory hybridnet wrote; remove it yourself")
    others = sorted(p.name for p in parent.iterdir() if p.name != work.name)
    if others:
        raise HybridnetError(f"{parent / others[0]}: was not written by hybridnet; move it away "
                             f"first, then rerun")
    if work.exists() or work.is_symlink():
        if work.is_symlink() or not work.is_dir():
            raise HybridnetError(f"{work}: not a directory hybridnet wrote; remove it yourself")
        sweep_temporaries(work)
        manifest = read_manifest(work / MARKER)
        if manifest is None and any(p.name != MARKER for p in work.iterdir()):
            raise HybridnetError(f"{work}: no record of the files in it (an older hybridnet's, "
                                 "or not hybridnet's): remove it yourself, then rerun")
        found = unproven(work, manifest) if manifest is not None else None
        if found is not None:
            raise HybridnetError(f"{work / found[0]}: {found[1]}; move it away first, then rerun")
    shutil.rmtree(parent)
