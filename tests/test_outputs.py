"""The output discipline: claimed, complete or absent, replaced only when hybridnet wrote it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from hybridnet.errors import HybridnetError, SystemFailure
from hybridnet.outputs import (
    MARKER,
    claim,
    claim_fresh,
    claimed,
    figure_signature,
    marker_kind,
    replace_file,
    stale_temporaries,
    starts_with,
    temp_sibling,
    write_output,
)


def _write_run(target, force=False, files=("a.csv",)):
    with claimed(target, kind="run", force=force) as held, held.write_dir() as tmp:
        for name in files:
            (tmp / name).write_text(name)


def test_a_directory_is_replaced_only_with_force_and_only_when_ours(tmp_path):
    target = tmp_path / "run"
    _write_run(target)
    assert marker_kind(target) == "run"
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "a.csv"]
    with pytest.raises(HybridnetError, match="--force"):
        _write_run(target)
    _write_run(target, force=True, files=("b.csv",))
    assert sorted(p.name for p in target.iterdir()) == [MARKER, "b.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no lock, no temporary left


def test_force_refuses_a_directory_hybridnet_did_not_write(tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "thesis.tex").write_text("years of work")
    with pytest.raises(HybridnetError, match="not a directory hybridnet wrote"):
        _write_run(notes, force=True)
    assert (notes / "thesis.tex").read_text() == "years of work"


@pytest.mark.parametrize("make, name, why", [
    (lambda d: (d / "my-notes.txt").write_text("mine"), "my-notes.txt", "was not written by"),
    (lambda d: (d / "mydata.csv").write_text("a,b\n"), "mydata.csv", "was not written by"),
    (lambda d: (d / ".hidden.json").write_text("{}"), ".hidden.json", "was not written by"),
    (lambda d: (d / "analysis").mkdir(), "analysis", "is not a file"),
    (lambda d: (d / "a.csv").write_text("edited by hand"), "a.csv", "changed since"),
    (lambda d: (d / "link.csv").symlink_to(d / "a.csv"), "link.csv", "is not a file"),
])
def test_force_deletes_only_files_the_manifest_proves_ours(tmp_path, make, name, why):
    """D1: a name or an extension proves nothing; only the recorded size and hash do."""
    target = tmp_path / "run"
    _write_run(target)
    make(target)
    kept = sorted(p.name for p in target.iterdir())
    with pytest.raises(HybridnetError, match=f"{name}: {why}"):
        _write_run(target, force=True)
    assert sorted(p.name for p in target.iterdir()) == kept


def test_the_manifest_records_every_file_with_its_size_and_hash(tmp_path):
    import hashlib
    import json

    target = tmp_path / "run"
    _write_run(target, files=("a.csv", "b.json"))
    files = json.loads((target / MARKER).read_text())["files"]
    assert files == {name: {"size": len(name), "sha256": hashlib.sha256(name.encode()).hexdigest()}
                     for name in ("a.csv", "b.json")}


def test_a_damaged_manifest_proves_nothing(tmp_path):
    target = tmp_path / "run"
    _write_run(target)
    (target / MARKER).write_text('{"kind": "run", "files": "everything"}')
    with pytest.raises(HybridnetError, match="no record of the files"):
        _write_run(target, force=True)
    assert (target / "a.csv").is_file()


def test_force_refuses_another_kind_of_hybridnet_output(tmp_path):
    target = tmp_path / "hid"
    with claimed(target, kind="train") as held, held.write_dir():
        pass
    with pytest.raises(HybridnetError, match="holds a hybridnet train output, not a run"):
        _write_run(target, force=True)


@pytest.mark.parametrize("files", [
    ("config.toml", "summary.json", "ues.csv", "precious.csv"),  # D2: looks like an old run
    ("config.toml", "summary.json", "ues.csv"),
])
def test_a_directory_without_a_manifest_is_never_deleted(tmp_path, files):
    """Backward compatibility: an older version's run (no record of its files) is the user's
    to remove; one that merely looks like it (D2) is never wiped."""
    target = tmp_path / "old-run"
    target.mkdir()
    for name in files:
        (target / name).write_text("x")
    (target / MARKER).write_text('{"kind": "run", "written_by": "hybridnet 0.1"}')
    assert marker_kind(target) == "run"
    with pytest.raises(HybridnetError, match="no record of the files.*remove it yourself"):
        _write_run(target, force=True)
    assert sorted(p.name for p in target.iterdir()) == sorted([*files, MARKER])


@pytest.mark.parametrize("name", [".", ".."])
def test_the_working_directory_and_its_parents_are_refused(tmp_path, monkeypatch, name):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    with pytest.raises(HybridnetError, match="never writes"):
        claim(name, kind="run", force=True)
    with pytest.raises(HybridnetError, match="never writes"):
        claim(work, kind="run", force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]
    assert list(work.iterdir()) == []


def test_an_output_under_a_file_is_one_line_before_any_work(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(HybridnetError, match="is a file, not a directory"):
        claim(blocker / "deeper" / "run", kind="run")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_parent_is_a_system_failure(tmp_path):
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(SystemFailure, match="Permission denied"):
            claim(parent / "run", kind="run")
    finally:
        parent.chmod(0o755)


def test_a_second_claim_is_refused_while_the_first_holds(tmp_path):
    target = tmp_path / "run"
    with claimed(target, kind="run"):
        with pytest.raises(SystemFailure, match=rf"pid {os.getpid()}.*another --out"):
            claim(target, kind="run")
    with claimed(target, kind="run"):  # released: free again
        pass


def test_a_lock_held_by_another_process_is_refused_and_freed_when_it_dies(tmp_path):
    target = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from hybridnet.outputs import claim; "
         f"claim({str(target)!r}, kind='run'); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(SystemFailure, match=f"pid {holder.pid}"):
            claim(target, kind="run")
    finally:
        holder.kill()
        holder.wait()
    with claimed(target, kind="run"):  # the kernel dropped the dead holder's lock
        pass


def test_default_names_never_collide(tmp_path):
    base = tmp_path / "runs" / "paper__oracle__0__20261201-000000"
    first = claim_fresh(base, kind="run")
    second = claim_fresh(base, kind="run")
    assert (first.target.name, second.target.name) == (base.name, f"{base.name}-2")
    first.release()
    second.release()


def test_stale_temporaries_of_dead_writers_are_swept_live_ones_kept(tmp_path):
    target = tmp_path / "run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_tmp = tmp_path / f".run.hybridnet-{dead.stdout.strip()}-0123abcd.tmp"
    dead_tmp.mkdir()
    legacy_tmp = tmp_path / ".run.k3j_x9a2.tmp"  # mkdtemp's name, before the lock existed
    legacy_tmp.mkdir()
    mine = temp_sibling(target)
    mine.mkdir()
    other_target = tmp_path / f".runs.hybridnet-{dead.stdout.strip()}-0123abcd.tmp"
    other_target.mkdir()
    assert stale_temporaries(target) == sorted([dead_tmp, legacy_tmp])
    with claimed(target, kind="run"):
        pass
    assert not dead_tmp.exists() and not legacy_tmp.exists()
    assert mine.exists() and other_target.exists()


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "run"
    with pytest.raises(RuntimeError), claimed(target, kind="run") as held, \
            held.write_dir() as tmp:
        (tmp / "half.csv").write_text("x")
        raise RuntimeError("simulated crash")
    assert list(tmp_path.iterdir()) == []


def test_single_files_mode_force_and_signature(tmp_path):
    target = tmp_path / "groups.csv"
    ours = starts_with("prompt,")
    write_output(target, lambda p: p.write_text("prompt,text\n"), kind="prompts csv",
                 signature=ours)
    assert stat.S_IMODE(target.stat().st_mode) & 0o044  # readable by others, like open()
    with pytest.raises(HybridnetError, match="--force"):
        write_output(target, lambda p: p.write_text("prompt,x\n"), kind="prompts csv")
    write_output(target, lambda p: p.write_text("prompt,y\n"), kind="prompts csv", force=True,
                 signature=ours)
    assert target.read_text() == "prompt,y\n"
    foreign = tmp_path / "budget.csv"
    foreign.write_text("item,cost\n")
    with pytest.raises(HybridnetError, match="not a file hybridnet wrote"):
        write_output(foreign, lambda p: p.write_text("prompt,z\n"), kind="prompts csv",
                     force=True, signature=ours)
    assert foreign.read_text() == "item,cost\n"
    with pytest.raises(ValueError):
        write_output(tmp_path / "other.csv", lambda p: (_ for _ in ()).throw(ValueError("boom")),
                     kind="prompts csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hybridnet-files", "budget.csv",
                                                          "groups.csv"]
    # A user's file that only looks like ours (the right header) is still the user's.
    (tmp_path / "mine.csv").write_text("prompt,text\n")
    with pytest.raises(HybridnetError, match="not a file hybridnet wrote"):
        write_output(tmp_path / "mine.csv", lambda p: p.write_text("prompt,z\n"),
                     kind="prompts csv", force=True, signature=ours)
    target.write_text("prompt,edited\n")  # ours, then edited by hand: the user's now
    with pytest.raises(HybridnetError, match="not a file hybridnet wrote"):
        write_output(target, lambda p: p.write_text("prompt,z\n"), kind="prompts csv",
                     force=True, signature=ours)
    assert target.read_text() == "prompt,edited\n"


def test_a_file_of_the_users_named_like_the_record_is_never_overwritten(tmp_path):
    (tmp_path / ".hybridnet-files").write_text("my notes")
    with pytest.raises(HybridnetError, match="not a record hybridnet wrote"):
        write_output(tmp_path / "a.csv", lambda p: p.write_text("prompt,x\n"), kind="prompts csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".hybridnet-files"]
    assert (tmp_path / ".hybridnet-files").read_text() == "my notes"


def test_figures_are_signed(tmp_path):
    from matplotlib.figure import Figure

    from hybridnet.plots import save_figure

    for suffix in ("png", "pdf", "svg"):
        out = tmp_path / f"fig.{suffix}"
        fig = Figure()
        fig.subplots().plot([0, 1])
        save_figure(fig, out)
        assert figure_signature(out), suffix
    alien = tmp_path / "photo.png"
    alien.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert not figure_signature(alien)


def test_replace_file_rewrites_in_place(tmp_path):
    target = tmp_path / "cache" / "a.npy"
    replace_file(target, lambda p: p.write_bytes(b"1"))
    replace_file(target, lambda p: p.write_bytes(b"2"))
    assert target.read_bytes() == b"2"
    assert [p.name for p in target.parent.iterdir()] == ["a.npy"]
