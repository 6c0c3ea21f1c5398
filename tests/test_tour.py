"""README.md's tour and docs/getting-started.md, every command as written, in order.

Each page runs in a fresh directory outside the repository (its `scenarios/`
and `examples/` linked in, as a clone has them beside the user), so what the
commands read by name (the bundled prompts, the HIQM data) must come from the
package and not from the repository root. The two pages share the HID cache, so
dense.toml's controller is trained once (on the DES); each page's `hybridnet
train` trains the paper's. That is too long for every run of the suite
(1,012 s measured on 2 cores shared with three other test suites), so it runs
when asked: ``HYBRIDNET_TOUR=1 pytest tests/test_tour.py`` (`.ci/run` does). The commands the
pages hold are checked on every run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = ("source ", "python3 -m venv", ".venv/bin/pip", ".venv/bin/python -m pytest")
"""Set-up lines: the test runs in the environment they make."""


def commands(page: Path, section: str | None = None) -> list[list[str]]:
    """The ``hybridnet`` commands of the page's bash blocks (of one section), in order."""
    text = page.read_text(encoding="utf-8")
    if section is not None:
        text = text.split(section, 1)[1].split("\n## ", 1)[0]
    out = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if not words or line.strip().startswith(SKIPPED):
                continue
            assert words[0] == "hybridnet", f"{page.name}: not a hybridnet command: {line}"
            out.append(words)
    return out


def _run_page(cmds: list[list[str]], where: Path) -> None:
    where.mkdir()
    for name in ("scenarios", "examples"):
        os.symlink(ROOT / name, where / name)
    for words in cmds:
        done = subprocess.run([sys.executable, "-m", "hybridnet", *words[1:]], cwd=where,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{shlex.join(words)} exited {done.returncode}: " \
                                     f"{done.stderr.strip()[-2000:]}"


def test_the_pages_hold_the_commands_the_tour_runs() -> None:
    tour = commands(ROOT / "README.md", "## A 60-second tour")
    assert ["hybridnet", "plot", "backlog", "runs/dense"] in tour
    assert any(words[:3] == ["hybridnet", "prompts", "group"] and words[3] == "semct"
               for words in tour)
    started = commands(ROOT / "docs" / "getting-started.md")
    assert any(words[1] == "compare" for words in started)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("HYBRIDNET_TOUR") != "1",
                    reason="trains the paper's controller twice and dense.toml's once "
                           "(17 min on 2 shared cores); HYBRIDNET_TOUR=1 runs it")
def test_readme_tour_then_getting_started_in_order(tmp_path: Path) -> None:
    _run_page([["hybridnet", "run"], *commands(ROOT / "README.md", "## A 60-second tour")],
              tmp_path / "readme")
    _run_page(commands(ROOT / "docs" / "getting-started.md"), tmp_path / "getting-started")


def test_a_repository_path_from_another_directory_says_where_the_file_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hybridnet.errors import HybridnetError
    from hybridnet.scenario import read_scenario

    monkeypatch.chdir(tmp_path)
    with pytest.raises(HybridnetError, match=r"scenarios/paper.toml: no such scenario file in "
                       r".*; the repository's is .*scenarios/paper.toml: give that path"):
        read_scenario("scenarios/paper.toml")
    with pytest.raises(HybridnetError, match=r"^papr: no such scenario file; did you mean "
                       r"'paper'\? shipped scenarios by name: dense, paper, small$"):
        read_scenario("papr")
    shipped = read_scenario("paper")  # a shipped scenario by name, from anywhere
    assert shipped.source == str(ROOT / "scenarios" / "paper.toml")
    (tmp_path / "paper.toml").write_text("[network]\nnum_ues = 3\n", encoding="utf-8")
    assert read_scenario("paper.toml").network.num_ues == 3  # the user's file wins
