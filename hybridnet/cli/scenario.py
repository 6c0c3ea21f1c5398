"""``hybridnet scenario``: inspect and validate scenario files."""

from __future__ import annotations

from pathlib import Path

import click

from hybridnet.api import load_scenario
from hybridnet.cli.common import set_option
from hybridnet.errors import HybridnetError
from hybridnet.prompts.corpus import resolve_corpus
from hybridnet.scenario import Scenario, parse_overrides, to_toml
from hybridnet.scenario_reference import annotated_toml
from hybridnet.sweep.cell import check_policy


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
    """Validate each scenario file; the first bad one ends with one line and exit code 2.

    Valid means `hybridnet run PATH` accepts it: its [sim] policy is built (a HID
    checkpoint read; `hid` itself is not trained) and its prompt corpus is read.
    """
    for path in paths:
        _check_runnable(path, load_scenario(path))
        click.echo(f"{path}: ok")


def _check_runnable(path: Path, loaded: Scenario) -> None:
    try:
        check_policy(loaded, loaded.sim.policy)
        resolve_corpus(loaded.prompts.corpus)
    except HybridnetError as err:
        raise HybridnetError(f"{path}: {err}") from None
