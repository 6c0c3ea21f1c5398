"""The manifest: what hybridnet wrote, file by file, with each file's size and SHA-256.

``--force`` deletes only what hybridnet can prove it wrote. A name, an
extension or a layout proves nothing (a user's ``mydata.csv`` in a run
directory looks exactly like hybridnet's ``ues.csv``); a record written when
the file was written does. Every directory hybridnet owns (run, train, sweep)
carries its manifest in its marker, ``.hybridnet``; a single file it writes
elsewhere (a figure, a HIQM fit, a prompts CSV) is recorded in the manifest of
the directory it lies in, or, when that directory is not hybridnet's, in
``.hybridnet-files`` there. A file whose size or hash no longer matches its
record was changed by someone else and is no longer hybridnet's to delete.

Every update is a whole new manifest renamed into place, under an ``flock`` of
the directory, so two commands recording into one directory lose nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from importlib import metadata
from pathlib import Path
from typing import Any

from hybridnet.outputs.files import temp_sibling

MARKER = ".hybridnet"
"""File inside every directory hybridnet writes: its kind and the manifest of its files."""

LOOSE = ".hybridnet-files"
"""The manifest of the single files hybridnet wrote into a directory that is not its own."""

FORMAT = "hybridnet.manifest/1"
"""Tag of a manifest that lists files; a marker without it (older versions) proves nothing."""


def file_record(path: Path) -> dict[str, Any]:
    """What proves a file unchanged: its size and its SHA-256."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return {"size": size, "sha256": digest.hexdigest()}


def _version() -> str:
    try:
        return metadata.version("hybridnet")
    except metadata.PackageNotFoundError:
        return "unknown"


def read_manifest(path: Path) -> dict[str, Any] | None:
    """The manifest in ``path`` (a marker or a loose manifest), or None if it is not a valid one."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    files = data.get("files")
    if not isinstance(files, dict) or not all(
            isinstance(r, dict) and isinstance(r.get("size"), int)
            and isinstance(r.get("sha256"), str) for r in files.values()):
        return None
    return data


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive ``flock`` of ``directory`` itself, for a read-modify-write of its manifest."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write(path: Path, data: dict[str, Any]) -> None:
    tmp = temp_sibling(path)
    try:
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def record(directory: Path, names: Iterable[str], *, kind: str | None = None) -> None:
    """Record the files ``names`` (relative to ``directory``) as written by hybridnet now.

    With ``kind`` the manifest is the directory's marker (the directory is a
    hybridnet output of that kind); without, it is ``directory/.hybridnet-files``,
    or the marker when the directory already has a valid one. A name no longer
    there is dropped from the record.
    """
    with _locked(directory):
        marker = directory / MARKER
        if kind is None and read_manifest(marker) is None:
            path = directory / LOOSE
        else:
            path = marker
        data = read_manifest(path) or {}
        if kind is not None and data.get("kind") not in (None, kind):
            data = {}
        files = dict(data.get("files", {}))
        for name in names:
            target = directory / name
            if target.is_file() and not target.is_symlink():
                files[name] = file_record(target)
            else:
                files.pop(name, None)
        data.update({"format": FORMAT, "files": files})
        if path == marker:
            data.setdefault("kind", kind)
            data["written_by"] = f"hybridnet {_version()}"
        _write(path, data)


def unrecordable(path: Path) -> Path | None:
    """The file in the way of recording ``path`` (a ``.hybridnet-files`` not ours), or None."""
    if read_manifest(path.parent / MARKER) is not None:
        return None
    loose = path.parent / LOOSE
    if (loose.exists() or loose.is_symlink()) and read_manifest(loose) is None:
        return loose
    return None


def record_file(path: Path) -> None:
    """Record a single file hybridnet just wrote, in the manifest of the directory it lies in."""
    record(path.parent, [path.name])


def proven_file(path: Path) -> bool:
    """Whether ``path`` is a regular file exactly as hybridnet recorded writing it."""
    if path.is_symlink() or not path.is_file():
        return False
    for manifest in (path.parent / MARKER, path.parent / LOOSE):
        data = read_manifest(manifest)
        if data is not None and path.name in data["files"]:
            with suppress(OSError):
                return bool(file_record(path) == data["files"][path.name])
            return False
    return False


def unproven(directory: Path, manifest: dict[str, Any]) -> tuple[str, str] | None:
    """The first entry of ``directory`` that ``manifest`` does not prove hybridnet's, and why.

    Everything but the marker itself must be a regular file recorded with its
    present size and hash; a folder, a link or anything else is the user's.
    """
    files = manifest["files"]
    for entry in sorted(directory.iterdir()):
        name = entry.name
        if name == MARKER:
            continue
        if entry.is_symlink() or not entry.is_file():
            return name, "is not a file hybridnet wrote"
        if name not in files:
            return name, "was not written by hybridnet"
        try:
            same = file_record(entry) == files[name]
        except OSError:
            same = False
        if not same:
            return name, "changed since hybridnet wrote it"
    return None
