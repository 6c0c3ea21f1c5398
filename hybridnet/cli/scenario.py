"""``hybridnet scenario``: inspect and validate scenario files."""

from __future__ import annotations

from pathlib import Path

import click

from hybridnet.api import load_scenario
from hybridnet.cli.common import set_option
from hybridnet.scenario import parse_overrides, to_toml
from hybridnet.scenario_reference import annotated_toml


@click.group(short_help="Validate scenario files and show them fully resolved.")
def scenario() -> None:
    """Validate scenario files and show them fully resolved."""


@scenario.command(short_help="Print a scenario fully resolved, with units and sources.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@set_option
@click.option("--bare", is_flag=True, help="TOML only, without the notes.")
def show(path: Path | None, overrides: tuple[str, ...], bare: bool) -> None:
    """Print PATH (default: the built-in paper configuration) with every key resolved.

    Above each key a comment gives its meaning and unit, and its source: paper
    (Table I of Zhuang et al., ICC 2025, or its text) or assumption (ours). The
    output is still TOML: save it and run it.
    """
    resolved = load_scenario(path, parse_overrides(overrides))
    click.echo(to_toml(resolved) if bare else annotated_toml(resolved), nl=False)


@scenario.command(short_help="Validate scenario files.")
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(dir_okay=False, path_type=Path))
def check(paths: tuple[Path, ...]) -> None:
    """Validate each scenario file; the first bad one ends with one line and exit code 2."""
    for path in paths:
        load_scenario(path)
        click.echo(f"{path}: ok")
