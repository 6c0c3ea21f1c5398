"""The exceptions the CLI turns into one line and an exit code, never a traceback.

Library code raises :class:`HybridnetError` for anything a user can fix (a bad
scenario value, a missing file, a broken checkpoint, an output that exists).
The message must name the file, the key and what is allowed, because it is all
the user will see. Every command exits with one of :data:`EXIT_CODES`.
"""

from __future__ import annotations

import signal

EXIT_CODES = {
    0: "done; also when Ctrl-C or SIGTERM comes once the output is in place",
    1: "failed outside the input: output held by another process, disk full or read-only,\n"
       "       out of memory, failed sweep cells",
    2: "bad input or usage: a scenario key, an option, a missing or damaged file, an output\n"
       "       that exists (without --force) or that hybridnet did not write",
    130: "interrupted by Ctrl-C (SIGINT) before the output was in place, after cleaning up",
    143: "terminated (SIGTERM), cleaned up exactly as for Ctrl-C",
}
"""The CLI's exit codes (shown by ``hybridnet --help`` and docs/cli.md)."""


class HybridnetError(Exception):
    """A problem with the user's input, reported as one line without a traceback."""

    exit_code = 2


class InvalidArgument(HybridnetError, ValueError):
    """A Python API call given an argument the command line would refuse (a ValueError too)."""


class SystemFailure(HybridnetError):
    """The command could not finish for a reason outside its input (disk, memory, a lock)."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is so that it unwinds exactly as on Ctrl-C."""


class Interrupted(HybridnetError):
    """The user stopped the command; what could be kept was kept (the message says where)."""

    def __init__(self, message: str, terminated: bool = False) -> None:
        super().__init__(message)
        self.exit_code = 128 + (signal.SIGTERM if terminated else signal.SIGINT)

    @classmethod
    def of(cls, cause: BaseException | None) -> Interrupted:
        """What a bare Ctrl-C or SIGTERM says and exits with."""
        terminated = isinstance(cause, Terminated)
        return cls("terminated" if terminated else "interrupted", terminated)


def raise_terminated(signum: int, frame: object) -> None:
    """SIGTERM handler: unwind like KeyboardInterrupt, so temporaries are removed."""
    raise Terminated()
