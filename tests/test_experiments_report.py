"""experiments/README.md quotes the result CSVs exactly: its tables regenerate unchanged."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_tables_are_the_results(tmp_path):
    spec = importlib.util.spec_from_file_location("report", ROOT / "experiments" / "report.py")
    report = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(report)
    tables, problems = report.render()
    assert not problems, problems
    copy = tmp_path / "README.md"
    shutil.copy(ROOT / "experiments" / "README.md", copy)
    assert report.write_readme(copy, tables) == []
    assert copy.read_text() == (ROOT / "experiments" / "README.md").read_text(), (
        "regenerate: python experiments/report.py --write")
