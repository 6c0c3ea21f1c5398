"""The ``hybridnet`` command line: a thin shell over the library.

Each command group lives in its own module and only parses arguments, calls
the library and prints. Every :class:`~hybridnet.errors.HybridnetError` becomes
one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

import click

from hybridnet.errors import HybridnetError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="hybridnet")
def cli() -> None:
    """hybridnet: simulate mobile-edge AIGC networks with hybrid diffusion inference."""


def _register() -> None:
    from hybridnet.cli import hiqm, plot, prompts, run, scenario, sweep, train

    cli.add_command(run.run)
    cli.add_command(plot.plot)
    cli.add_command(hiqm.hiqm)
    cli.add_command(prompts.prompts)
    cli.add_command(scenario.scenario)
    cli.add_command(sweep.sweep)
    cli.add_command(train.train)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    _register()
    try:
        cli.main(args=argv, standalone_mode=False)
    except HybridnetError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
