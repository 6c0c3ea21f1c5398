"""Help a person can read: summaries never cut, every line within 80 columns, and the
citation file the README points to."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from hybridnet.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[list[str]]:
    """Every command and subcommand, as the words that name it."""
    out: list[list[str]] = [[]]
    ctx = click.Context(cli)
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        out.append([name])
        if isinstance(command, click.Group):
            out += [[name, sub] for sub in command.list_commands(ctx)]
    return out


def _help(words: list[str]) -> str:
    result = CliRunner().invoke(cli, [*words, "--help"], terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("words", _commands(), ids=lambda w: " ".join(w) or "hybridnet")
def test_help_fits_80_columns_and_cuts_no_summary(words: list[str]) -> None:
    text = _help(words)
    long = [line for line in text.splitlines() if len(line) > 80]
    assert not long, long
    if "Commands:" in text:
        listing = text.split("Commands:", 1)[1].split("\n\n", 1)[0]
        assert "..." not in listing, listing


def test_train_help_tells_how_to_train_on_a_gpu() -> None:
    assert "train.device=auto" in _help(["train"])


def test_scenario_show_gives_units_and_sources_and_stays_toml(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["scenario", "show", str(ROOT / "scenarios" / "paper.toml")])
    assert result.exit_code == 0
    assert "# number of UEs N [paper]\nnum_ues = 50" in result.output
    assert "# ES CPU frequency per task f^ES, Hz [paper]\nfreq_hz = " in result.output
    assert "[assumption]" in result.output
    saved = tmp_path / "shown.toml"
    saved.write_text(result.output, encoding="utf-8")
    again = CliRunner().invoke(cli, ["scenario", "show", "--bare", str(saved)])
    bare = CliRunner().invoke(cli, ["scenario", "show", "--bare",
                                    str(ROOT / "scenarios" / "paper.toml")])
    assert again.output.split("\n", 1)[1] == bare.output.split("\n", 1)[1]  # same keys


def test_citation_cites_the_paper_and_the_software() -> None:
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    assert citation["cff-version"] == "1.2.0" and citation["type"] == "software"
    paper = citation["preferred-citation"]
    assert paper["title"].startswith("QoS-Driven Hybrid Inference Scheme for Generative "
                                     "Diffusion Models")
    assert [a["family-names"] for a in paper["authors"]] == ["Zhuang", "Wu", "Wu", "Tang",
                                                              "Gao"]
    assert paper["year"] == 2025 and "ICC" in paper["collection-title"]
