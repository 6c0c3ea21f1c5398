"""The output discipline every command follows: claim, write aside, rename, release.

A command that writes an output first *claims* its path: it takes an exclusive
lock beside it (``.NAME.hybridnet.lock`` in the parent, an ``flock`` the
kernel drops when the process dies, even by SIGKILL), so a second writer is
refused at once instead of silently losing the first one's work. Holding the
claim, it checks what it may replace (nothing without ``--force``; with it,
only what hybridnet wrote: a directory carrying the :data:`MARKER` file, or one
of the layouts hybridnet wrote before the marker existed, holding nothing
else; a file carrying hybridnet's signature), cleans the temporaries of
earlier killed writers of the same path (no live process can own them while
the lock is held), and only then does the work. Every result is written to a
temporary sibling and renamed into place once complete, so an interrupted
command leaves the old output or the new one, never a mixture.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from hybridnet.errors import HybridnetError, SystemFailure

MARKER = ".hybridnet"
"""File inside every directory hybridnet writes: its kind (run, train, sweep), as JSON."""

TEMP_TAG = "hybridnet"
"""Every temporary is ``.NAME.hybridnet-PID-TOKEN.tmp``: recognisable, and its writer known."""

LEGACY_LAYOUTS = {
    "run": {"config.toml", "summary.json", "ues.csv"},
    "train": {"checkpoint.pt", "training.csv"},
    "sweep": {"results.csv", "sweep.toml"},
}
"""Files that identify a directory hybridnet wrote before :data:`MARKER` existed."""

OWN_SUFFIXES = (".csv", ".png", ".pdf", ".svg", ".toml", ".json", ".pt")
"""What hybridnet puts in its directories; anything else there is the user's."""


def _default_mode(directory: bool) -> int:
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
    ``.NAME.XXXXXXXX.tmp`` directories of versions before the lock count too.
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


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


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


def _unsafe_target(target: Path) -> str | None:
    """Why ``target`` can never be an output path (the working directory, one of its parents)."""
    resolved = target.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        return "is the current directory or one of its parents"
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        return "is the root or home directory"
    return None


@dataclass
class Claim:
    """An output path this process holds exclusively until the claim is released."""

    target: Path
    kind: str
    force: bool
    _lock_path: Path
    _lock_fd: int

    def check_replaceable(self, *, directory: bool,
                          signature: Callable[[Path], bool] | None = None) -> None:
        """Refuse an existing target unless ``force`` and hybridnet wrote it (this kind)."""
        target = self.target
        if not (target.exists() or target.is_symlink()):
            return
        if not self.force:
            raise HybridnetError(f"{target}: already exists; pass --force to overwrite it")
        if directory:
            if not target.is_dir() or target.is_symlink():
                raise HybridnetError(f"{target}: exists and is not a directory; --force replaces "
                                     "only a directory hybridnet wrote")
            self._check_own_dir()
            return
        if not target.is_file() or target.is_symlink():
            raise HybridnetError(f"{target}: exists and is not a file; --force replaces only a "
                                 "file hybridnet wrote")
        if signature is not None and not signature(target):
            raise HybridnetError(f"{target}: not written by hybridnet; --force replaces only "
                                 "what hybridnet wrote: move it away or choose another --out")

    def _check_own_dir(self) -> None:
        target = self.target
        kind = marker_kind(target)
        if kind is None:
            if not any(target.iterdir()):
                return
            raise HybridnetError(f"{target}: not a directory hybridnet wrote (no {MARKER} "
                                 "marker); --force replaces only hybridnet's outputs: move it "
                                 "away or choose another --out")
        if kind != self.kind:
            raise HybridnetError(f"{target}: holds a hybridnet {kind} output, not a {self.kind};"
                                 " remove it yourself or choose another --out")
        foreign = foreign_entries(target)
        if foreign:
            shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise HybridnetError(f"{target}: holds files hybridnet did not write ({shown}); "
                                 "--force would lose them: move them away first")

    @contextmanager
    def write_dir(self) -> Iterator[Path]:
        """Yield a temporary sibling directory; once complete it replaces the target."""
        self.check_replaceable(directory=True)
        tmp = temp_sibling(self.target)
        tmp.mkdir(mode=_default_mode(directory=True))
        try:
            write_marker(tmp, self.kind)
            yield tmp
            self.install(tmp)
        except OSError as err:
            _remove(tmp)
            raise SystemFailure(describe_os_error(err, self.target)) from None
        except BaseException:
            _remove(tmp)
            raise

    def write_file(self, write: Callable[[Path], None],
                   signature: Callable[[Path], bool] | None = None) -> Path:
        """Call ``write(tmp)`` on a temporary sibling and rename it onto the target."""
        self.check_replaceable(directory=False, signature=signature)
        tmp = temp_sibling(self.target, keep_suffix=True)
        try:
            write(tmp)
            if tmp.exists():
                tmp.chmod(_default_mode(directory=False))
            os.replace(tmp, self.target)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise SystemFailure(describe_os_error(err, self.target)) from None
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self.target

    def install(self, ready: Path) -> None:
        """Put the finished ``ready`` in place of the target, the old one removed after."""
        old = None
        if self.target.exists():
            old = temp_sibling(self.target, "-old")
            os.replace(self.target, old)
        os.replace(ready, self.target)
        if old is not None:
            _remove(old)

    def release(self) -> None:
        """Drop the lock; the lock file goes first, while it is still held."""
        with suppress(OSError):
            self._lock_path.unlink()
        os.close(self._lock_fd)


def _lock(target: Path) -> tuple[Path, int]:
    """Take the lock of ``target`` or raise; robust to a holder that unlinks as it releases."""
    lock_path = target.with_name(f".{target.name}.{TEMP_TAG}.lock")
    while True:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = ""
            with suppress(OSError, ValueError):
                holder = f" (pid {int(os.pread(fd, 32, 0).decode().split()[0])})"
            os.close(fd)
            raise SystemFailure(f"{target}: another hybridnet process{holder} is writing it; "
                                "wait for it to finish or choose another --out") from None
        except BaseException:
            os.close(fd)
            raise
        # The previous holder may have unlinked the file between our open and our lock:
        # then we hold a lock on an orphan, and must take the one at the path instead.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock_path))
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return lock_path, fd
        os.close(fd)


def _prepare_parent(target: Path) -> None:
    """Make the parent directory, or say in one line why it cannot be."""
    parent = target.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists() or ancestor.is_symlink():
            if not ancestor.is_dir():
                raise HybridnetError(f"{target}: {ancestor} is a file, not a directory; "
                                     "choose another --out")
            break
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise SystemFailure(describe_os_error(err, target)) from None


def claim(target: str | Path, *, kind: str, force: bool = False) -> Claim:
    """Claim ``target`` for writing: checked, locked and swept of stale temporaries.

    Raises at once, before any work, when the path can never be written (the
    working directory or a parent of it, under a file, read-only), or another
    process holds it. Release with :meth:`Claim.release` or use :func:`claimed`.
    """
    target = Path(target)
    why = _unsafe_target(target)
    if why:
        raise HybridnetError(f"{target}: {why}; hybridnet never writes or replaces it, "
                             "choose another --out")
    if not target.name or target.name in (".", ".."):
        raise HybridnetError(f"{target}: not a valid output path; name a new directory or file")
    _prepare_parent(target)
    try:
        lock_path, fd = _lock(target)
    except OSError as err:
        raise SystemFailure(describe_os_error(err, target)) from None
    held = Claim(target=target, kind=kind, force=force, _lock_path=lock_path, _lock_fd=fd)
    for stale in stale_temporaries(target):
        _remove(stale)
    return held


@contextmanager
def claimed(target: str | Path, *, kind: str, force: bool = False) -> Iterator[Claim]:
    """:func:`claim` as a context manager that always releases."""
    held = claim(target, kind=kind, force=force)
    try:
        yield held
    finally:
        held.release()


def claim_fresh(base: str | Path, *, kind: str) -> Claim:
    """Claim ``base``, or ``base-2``, ``base-3``, ...: the first free name no one else holds.

    For default output names: two commands started in the same second get two
    directories instead of one overwriting the other.
    """
    base = Path(base)
    for n in range(1, 10_000):
        candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
        if candidate.exists():
            continue
        try:
            held = claim(candidate, kind=kind)
        except SystemFailure:
            if candidate.parent.is_dir():
                continue
            raise
        if not candidate.exists():
            return held
        held.release()
    raise SystemFailure(f"{base}: no free name after 10,000 tries; choose an --out")


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
            tmp.chmod(_default_mode(directory=False))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def write_output(target: str | Path, write: Callable[[Path], None], *, kind: str,
                 force: bool = False, signature: Callable[[Path], bool] | None = None) -> Path:
    """Claim a single-file output, write it atomically, release.

    ``signature`` tells whether an existing file is one hybridnet wrote; with
    ``force`` only such a file is replaced.
    """
    with claimed(target, kind=kind, force=force) as held:
        return held.write_file(write, signature)


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
