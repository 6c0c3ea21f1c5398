"""Claiming an output: the lock taken before any work, the checks, the final rename."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from hybridnet.errors import HybridnetError, SystemFailure
from hybridnet.outputs.files import (
    TEMP_TAG,
    default_mode,
    describe_os_error,
    remove_path,
    replace_file,
    stale_temporaries,
    temp_sibling,
)
from hybridnet.outputs.manifest import (
    MARKER,
    proven_file,
    read_manifest,
    record,
    record_file,
    unproven,
    unrecordable,
)
from hybridnet.outputs.ownership import marker_kind, write_marker
from hybridnet.streams import settle


def _unsafe_target(target: Path) -> str | None:
    """Why ``target`` can never be an output path (the working directory, one of its parents)."""
    try:
        resolved = target.resolve()
        cwd = Path.cwd().resolve()
    except (RuntimeError, OSError):  # a symlink loop: RuntimeError before Python 3.13
        return "is a symbolic link that loops or cannot be followed"
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
        if not proven_file(target) or (signature is not None and not signature(target)):
            raise HybridnetError(f"{target}: not a file hybridnet wrote (no record of it, or it "
                                 "changed since); --force replaces only what hybridnet wrote: "
                                 "move it away or choose another --out")

    def _check_own_dir(self) -> None:
        """Refuse unless every entry of the target is a file its manifest proves hybridnet's."""
        target = self.target
        manifest = read_manifest(target / MARKER)
        if manifest is None:
            if all(p.name == MARKER for p in target.iterdir()) and \
                    marker_kind(target) in (None, self.kind):
                return  # empty, or holding only an older version's marker of this kind
            if marker_kind(target) is not None:
                raise HybridnetError(f"{target}: no record of the files in it (an older "
                                     "hybridnet's output, or only looks like one); --force "
                                     "deletes only files hybridnet recorded writing: remove it "
                                     "yourself or choose another --out")
            raise HybridnetError(f"{target}: not a directory hybridnet wrote (no {MARKER} "
                                 "manifest); --force replaces only hybridnet's outputs: move it "
                                 "away or choose another --out")
        kind = manifest.get("kind")
        if kind != self.kind:
            raise HybridnetError(f"{target}: holds a hybridnet {kind} output, not a {self.kind};"
                                 " remove it yourself or choose another --out")
        found = unproven(target, manifest)
        if found is not None:
            raise HybridnetError(f"{target / found[0]}: {found[1]}; --force would lose it: move "
                                 "it away first or choose another --out")

    @contextmanager
    def write_dir(self) -> Iterator[Path]:
        """Yield a temporary sibling directory; once complete it replaces the target."""
        self.check_replaceable(directory=True)
        tmp = temp_sibling(self.target)
        tmp.mkdir(mode=default_mode(directory=True))
        try:
            write_marker(tmp, self.kind)
            yield tmp
            record(tmp, sorted(p.name for p in tmp.iterdir() if p.name != MARKER),
                   kind=self.kind)
            self.install(tmp)
        except OSError as err:
            remove_path(tmp)
            raise SystemFailure(describe_os_error(err, self.target)) from None
        except BaseException:
            remove_path(tmp)
            raise

    def write_file(self, write: Callable[[Path], None],
                   signature: Callable[[Path], bool] | None = None) -> Path:
        """Call ``write(tmp)`` on a temporary sibling and rename it onto the target."""
        self.check_replaceable(directory=False, signature=signature)
        blocking = unrecordable(self.target)
        if blocking is not None:
            raise HybridnetError(f"{blocking}: not a record hybridnet wrote, and hybridnet "
                                 "records there what it writes: move it away")
        try:
            replace_file(self.target, write)
            record_file(self.target)
            return self.target
        except OSError as err:
            raise SystemFailure(describe_os_error(err, self.target)) from None

    def install(self, ready: Path, *, holds_target: bool = False) -> None:
        """Put the finished ``ready`` in place of the target, the old one removed after.

        An existing target is checked again first (a user may have added to it
        since): only ``--force`` replaces it, and only when hybridnet wrote all of
        it, unless ``holds_target``: ``ready`` began as a copy of it (a resumed
        training), so nothing in it is lost.
        """
        old = None
        if self.target.exists() or self.target.is_symlink():
            if not holds_target:
                self.check_replaceable(directory=True)
            old = temp_sibling(self.target, "-old")
            os.replace(self.target, old)
        os.replace(ready, self.target)
        settle()  # the output is complete: a signal now would only misreport it
        if old is not None:
            remove_path(old)

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
        remove_path(stale)
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


def write_output(target: str | Path, write: Callable[[Path], None], *, kind: str,
                 force: bool = False, signature: Callable[[Path], bool] | None = None) -> Path:
    """Claim a single-file output, write it atomically, release.

    ``signature`` tells whether an existing file is one hybridnet wrote; with
    ``force`` only such a file is replaced.
    """
    with claimed(target, kind=kind, force=force) as held:
        return held.write_file(write, signature)


