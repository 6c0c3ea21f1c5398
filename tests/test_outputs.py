"""Atomic outputs: complete or absent, never overwritten without force."""

from __future__ import annotations

import stat

import pytest

from hybridnet.errors import HybridnetError
from hybridnet.outputs import atomic_dir, atomic_write


def test_atomic_dir_replaces_only_with_force(tmp_path):
    target = tmp_path / "run"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("first")
    assert (target / "a.txt").read_text() == "first"
    with pytest.raises(HybridnetError, match="--force"), atomic_dir(target):
        pass
    with atomic_dir(target, force=True) as tmp:
        (tmp / "b.txt").write_text("second")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "run"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "half.csv").write_text("x")
        raise RuntimeError("simulated crash")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_file_mode_and_force(tmp_path):
    target = tmp_path / "fig.png"
    atomic_write(target, lambda p: p.write_bytes(b"1"))
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable by others, like open()
    with pytest.raises(HybridnetError):
        atomic_write(target, lambda p: p.write_bytes(b"2"))
    atomic_write(target, lambda p: p.write_bytes(b"2"), force=True)
    assert target.read_bytes() == b"2"
    with pytest.raises(ValueError):
        atomic_write(tmp_path / "other.png", lambda p: (_ for _ in ()).throw(ValueError("boom")))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig.png"]
