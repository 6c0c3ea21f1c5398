"""The ``hybridnet`` command line: a thin shell over the library.

Each command group lives in its own module and only parses arguments, calls
the library and prints. Every :class:`~hybridnet.errors.HybridnetError`, OSError
and MemoryError becomes one line on stderr and an exit code, never a traceback.
"""

from __future__ import annotations

import importlib
import signal
import sys
import textwrap
import threading

import click

from hybridnet.errors import (
    EXIT_CODES,
    HybridnetError,
    Interrupted,
    SystemFailure,
    raise_terminated,
)
from hybridnet.outputs import describe_os_error
from hybridnet.streams import arm, open_standard_streams, settle


def _epilog() -> str:
    # \b keeps click from rewrapping these lines, so they are wrapped here, within 80 columns.
    codes = "\n".join(textwrap.fill(" ".join(meaning.split()), 78, initial_indent=f"  {code:>3}  ",
                                     subsequent_indent=" " * 7)
                       for code, meaning in EXIT_CODES.items())
    return ("\b\nExit codes (every command):\n" + codes + "\n\n"
            "Outputs: a command claims its output before any work (a second writer is refused), "
            "writes it aside and renames it into place; --force replaces only files hybridnet "
            "recorded writing (name, size, SHA-256).")


COMMANDS = {name: f"hybridnet.cli.{name}" for name in
            ("compare", "hiqm", "plot", "prompts", "run", "scenario", "sweep", "train")}
"""Each command and the module that defines it (as an attribute of the same name)."""


class LazyGroup(click.Group):
    """Imports a command's module only when that command is asked for.

    The commands pull in torch, matplotlib, scipy or Dask; loading all of them
    for ``hybridnet run`` tripled its start-up time. Click's documented pattern
    for lazily loaded subcommands.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=_epilog())
@click.version_option(package_name="hybridnet")
def cli() -> None:
    """hybridnet: simulate mobile-edge AIGC networks with hybrid diffusion inference."""


def _memory_message(err: BaseException) -> str:
    detail = str(err).strip().splitlines()[-1] if str(err).strip() else "allocation failed"
    return (f"out of memory ({detail[:200]}); reduce network.num_ues, sim.slots or "
            "train.hidden, or run on a machine with more memory")


def _is_allocation_failure(err: RuntimeError) -> bool:
    """torch reports a failed allocation as a RuntimeError, not a MemoryError."""
    text = str(err)
    return "can't allocate memory" in text or "not enough memory" in text


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: one line and an exit code for every failure.

    The exit codes are those of :mod:`hybridnet.errors` (documented in docs/cli.md).
    SIGTERM unwinds like Ctrl-C, so every command cleans up on either; once a
    command has returned (its output in place and reported) both are ignored,
    so the exit is 0 (:mod:`hybridnet.streams`). A closed stderr or stdout is
    /dev/null instead: the work is done and the exit code still tells. Both
    only where ``argv`` is None: in the command's own process, not in a caller's.
    """
    if argv is None:  # the process is this command's own (not a test calling in)
        open_standard_streams()
        arm()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, raise_terminated)
    try:
        cli.main(args=argv, standalone_mode=False)
        settle()
    except HybridnetError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(err.exit_code)
    except click.exceptions.Abort as err:
        stop = Interrupted.of(err.__cause__)
        click.echo(stop, err=True)
        sys.exit(stop.exit_code)
    except click.ClickException as err:
        err.show()
        sys.exit(err.exit_code)
    except MemoryError as err:
        click.echo(f"error: {_memory_message(err)}", err=True)
        sys.exit(SystemFailure.exit_code)
    except OSError as err:
        click.echo(f"error: {describe_os_error(err)}", err=True)
        sys.exit(SystemFailure.exit_code)
    except RuntimeError as err:
        if _is_allocation_failure(err):
            click.echo(f"error: {_memory_message(err)}", err=True)
        elif "PytorchStreamWriter" in str(err) or "file write failed" in str(err):
            # torch's writer reports a failed write without an errno (a full disk, a quota)
            click.echo("error: a file could not be written (torch: write failed); is the disk "
                       "full? free some space or write elsewhere", err=True)
        else:
            raise
        sys.exit(SystemFailure.exit_code)
    except Exception as err:
        if not type(err).__module__.startswith("pandas"):
            raise
        # A table read somewhere no check caught: still one line, never pandas' traceback.
        detail = " ".join(str(err).split())[:160] or type(err).__name__
        click.echo(f"error: a CSV file could not be read ({detail})", err=True)
        sys.exit(HybridnetError.exit_code)
