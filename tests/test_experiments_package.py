"""experiments/ as a package: each study declares its command once, the paper's numbers
live in one module, and report.py names the command of every CSV it lacks."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from experiments import readme_data, report
from experiments.paper import PAPER_FIG5A, PAPER_GAIN_PCT

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ("beyond_paper", "dense_control", "fig4a_weights", "fig4b_ablation",
           "fig5_reproduction", "fig5_schemes", "hid_heterogeneous", "hid_vs_oracle",
           "scaling_n")


@pytest.mark.parametrize("study", STUDIES)
def test_every_study_declares_the_command_that_runs_it(study: str) -> None:
    module = importlib.import_module(f"experiments.{study}")
    assert module.COMMAND.startswith(f"python -m experiments.{study}")


def test_the_papers_numbers_are_written_once() -> None:
    """No module but experiments/paper.py holds one of the paper's figures, as a number or in
    a string (docstrings included)."""
    figures = {*PAPER_FIG5A.values(), *PAPER_GAIN_PCT.values()}
    text = re.compile(r"(?<![\d.])(" + "|".join(re.escape(f"{v}") for v in figures)
                      + r")(?![\d])")
    for path in sorted((ROOT / "experiments").glob("*.py")):
        if path.name == "paper.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, float):
                assert node.value not in figures, f"{path.name}:{node.lineno}: {node.value}"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found = text.findall(node.value)
                assert not found, f"{path.name}:{node.lineno} writes {found}: use experiments.paper"


def test_a_missing_csv_is_named_with_the_command_that_makes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readme_data, "RESULTS", tmp_path)
    tables, problems = report.render()
    assert not tables and set(problems) == set(report.TABLES)
    assert "run `python -m experiments.fig5_schemes --jobs 2`" in problems["fig5-gains"]
    assert "python -m experiments.dense_control" in problems["dense-intervals"]
