"""experiments/README.md quotes the result CSVs exactly: its tables regenerate unchanged,
and the prose quotes no number that the generated tables do not hold."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from experiments import report
from experiments.intervals import last_count, pair_counts, sharing_order_count
from experiments.paper import PAPER_FIG5A, PAPER_GAIN_PCT
from experiments.stats import interval, paired, t_quantile

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "experiments" / "README.md"

NUMBER = re.compile(r"(?<![\w.`])[+-]?\d+(?:\.\d+)?(?![\w`])")
"""A number in prose: not inside an identifier, a file name or inline code."""


def test_readme_tables_are_the_results(tmp_path: Path) -> None:
    tables, problems = report.render()
    assert not problems, problems
    copy = tmp_path / "README.md"
    shutil.copy(README, copy)
    assert report.write_readme(copy, tables) == []
    assert copy.read_text() == README.read_text(), (
        "regenerate: python -m experiments.report --write")


def quoted(number: str) -> bool:
    """A number a reader would take for a result: a decimal of three significant digits
    or more, or a signed one (a gain, a difference). '0.25 s slots', '28 steps',
    'N = 50', seed 2025 are settings and counts, which this check does not read."""
    if "." not in number:
        return False
    digits = number.lstrip("+-").replace(".", "").lstrip("0")
    return len(digits) >= 3 or number[0] in "+-"


def prose_and_tables(text: str) -> tuple[str, set[str]]:
    """The README without its generated blocks, code and images; the numbers the blocks hold."""
    held: set[str] = set()
    for match in report.BLOCK.finditer(text):
        held.update(n.lstrip("+") for n in NUMBER.findall(match["body"]))
    prose = report.BLOCK.sub("", text)
    prose = re.sub(r"^    .*$", "", prose, flags=re.M)  # indented commands
    prose = re.sub(r"`[^`]*`", "", prose)  # inline code: names, keys, file names
    prose = re.sub(r"!\[[^]]*\]\([^)]*\)", "", prose)
    return prose, held


def test_every_number_the_prose_quotes_is_in_a_generated_table() -> None:
    prose, held = prose_and_tables(README.read_text())
    for paper in (PAPER_GAIN_PCT, PAPER_FIG5A):
        held.update(f"{v}" for v in paper.values())
    missing = sorted({n for n in NUMBER.findall(prose) if quoted(n)
                      and n.lstrip("+") not in held and n.lstrip("+-") not in held})
    assert not missing, (f"experiments/README.md quotes numbers no generated table holds: "
                         f"{missing}")


def test_the_prose_check_catches_an_invented_number() -> None:
    text = README.read_text() + "\nHID gains 12.3456 % here.\n"
    prose, held = prose_and_tables(text)
    assert "12.3456" in [n for n in NUMBER.findall(prose) if quoted(n) and n not in held]


def test_t_intervals_against_hand_computed_values() -> None:
    assert t_quantile(0.975, 1) == pytest.approx(12.7062, abs=1e-4)
    assert t_quantile(0.975, 2) == pytest.approx(4.3027, abs=1e-4)
    assert t_quantile(0.975, 9) == pytest.approx(2.2622, abs=1e-4)
    # 1, 2, 3: mean 2, s = 1, half-width 4.3027 / sqrt(3)
    three = interval([1.0, 2.0, 3.0])
    assert three.mean == 2.0 and three.half_width == pytest.approx(2.4841, abs=1e-4)
    # paired differences 1, 1, 1 have no spread; a lone seed has no interval
    same = paired([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert same.half_width == 0.0 and not same.covers_zero
    assert interval([0.5]).covers_zero


def test_per_seed_order_counts_against_a_hand_made_map() -> None:
    """Three seeds: the paper's order; IIS first; GFIS ahead of PPGFIS with IIS last."""
    by_seed = pd.DataFrame({"his": [4.0, 2.0, 4.0], "ppgfis": [3.0, 1.5, 2.0],
                            "gfis": [2.0, 1.0, 3.0], "iis": [1.0, 5.0, 1.0]})
    assert pair_counts(by_seed) == "3 / 2 / 2 of 3"
    assert sharing_order_count(by_seed) == "2 of 3"
    assert last_count(by_seed) == "2 of 3"
    assert last_count(by_seed, "ppgfis") == "0 of 3"
