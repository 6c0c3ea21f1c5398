"""Temporaries beside an output, atomic replacement, and OSErrors told in one line.

Every temporary is named ``.NAME.hybridnet-PID-TOKEN.tmp``: recognisable as
hybridnet's, and naming the process that wrote it, so a later writer of the
same output can tell a dead writer's leftovers from a live one's.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

TEMP_TAG = "hybridnet"
"""Every temporary is ``.NAME.hybridnet-PID-TOKEN.tmp``: recognisable, and its writer known."""

def default_mode(directory: bool) -> int:
    """The mode a plain ``open``/``mkdir`` would give, which ``mkstemp``/``mkdtemp`` do not."""
    umask = os.umask(0)
    os.umask(umask)
    return (0o777 if directory else 0o666) & ~umask


def describe_os_error(err: OSError, target: str | Path | None = None) -> str:
    """One line for an OSError: the output, what went wrong and what to do about it."""
    where = target if target is not None else err.filename or "output"
    full = "the disk is full or over quota; free some space or write elsewhere with --out"
    hints = {
        errno.ENOSPC: full,
        errno.EDQUOT: full,
        errno.EFBIG: "a file grew past the size limit (ulimit -f, quota); write elsewhere",
        errno.EROFS: "the file system is read-only; write elsewhere with --out",
        errno.EACCES: "no permission to write there; write elsewhere with --out",
        errno.EPERM: "the file system forbids it (an immutable directory?); write elsewhere "
                     "with --out",
        errno.ENOTDIR: "a part of the path is a file, not a directory; choose another --out",
        errno.ENOENT: "a directory on the way does not exist and cannot be made; check the path",
        errno.EISDIR: "it is a directory; name a file",
        errno.ENAMETOOLONG: "choose a shorter --out",
    }
    reason = err.strerror or str(err)
    if err.filename and target is not None and str(err.filename) != str(target):
        reason = f"{reason} ({err.filename})"
    hint = hints.get(err.errno or 0, "check the path and try again")
    return f"{where}: {reason}; {hint}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def temp_sibling(target: Path, label: str = "", keep_suffix: bool = False) -> Path:
    """A fresh temporary name beside ``target`` that names this process.

    ``keep_suffix`` ends it in the target's suffix too, for writers (matplotlib)
    that pick the format from it.
    """
    token = secrets.token_hex(4)
    suffix = target.suffix if keep_suffix else ""
    return target.with_name(f".{target.name}.{TEMP_TAG}-{os.getpid()}-{token}{label}.tmp{suffix}")


_TEMP_RE = re.compile(rf"\.{TEMP_TAG}-(\d+)-[0-9a-f]{{8}}(?:-[a-z]+)?\.tmp(?:\.\w+)?$")
_LEGACY_TEMP_RE = re.compile(r"\.[A-Za-z0-9_]{8}\.tmp$")


def stale_temporaries(target: Path) -> list[Path]:
    """Temporaries of ``target`` whose writers are gone: this process's lock proves it.

    Besides the current ``.NAME.hybridnet-PID-TOKEN.tmp`` names, the
    directories named by ``mkdtemp`` (``.NAME.`` + eight characters + ``.tmp``) that
    versions before the lock wrote count too.
    """
    prefix = f".{target.name}."
    found = []
    with suppress(OSError):
        for entry in target.parent.iterdir():
            name = entry.name
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix) - 1:]
            match = _TEMP_RE.fullmatch(rest)
            if match and int(match.group(1)) != os.getpid() and not _pid_alive(
                    int(match.group(1))):
                found.append(entry)
            elif not match and _LEGACY_TEMP_RE.fullmatch(rest) and entry.is_dir():
                found.append(entry)
    return sorted(found)


def remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def replace_file(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Atomically (re)write a file inside an output this process already holds.

    For the files of a claimed directory, caches and checkpoints: ``write(tmp)``
    then rename, so a reader sees the old file or the new one.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(target, keep_suffix=True)
    try:
        write(tmp)
        if tmp.exists():
            tmp.chmod(default_mode(directory=False))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


