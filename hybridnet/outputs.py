"""Atomic outputs: nothing half-written, nothing a user made lost without ``--force``.

Every file or directory is first written to a temporary sibling and renamed
into place only once it is complete, so an interrupted or failed command
leaves either the old output or the new one, never a mixture.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from hybridnet.errors import HybridnetError


def _default_mode(directory: bool) -> int:
    """The mode a plain ``open``/``mkdir`` would give, which ``mkstemp``/``mkdtemp`` do not."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def check_target(path: Path, force: bool) -> None:
    """Refuse to replace an existing output unless ``force``."""
    if path.exists() and not force:
        raise HybridnetError(f"{path}: already exists; pass --force to overwrite it")


@contextmanager
def atomic_dir(target: str | Path, force: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling directory; on success it replaces ``target``."""
    target = Path(target)
    check_target(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    tmp.chmod(_default_mode(directory=True))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink()


def atomic_write(target: str | Path, write: Callable[[Path], None], force: bool = False) -> Path:
    """Call ``write(tmp_path)`` and rename the result onto ``target``."""
    target = Path(target)
    check_target(target, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=target.suffix or ".tmp",
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.chmod(_default_mode(directory=False))
    try:
        write(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
