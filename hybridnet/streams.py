"""The process's standard streams and its last moments: nothing lost to either.

Started with stderr (or stdout) closed (``2>&-``), Python sets ``sys.stderr``
to None, the progress bar fails on its first write and the error that says so
has nowhere to go: the command exited 1 having written nothing. Worse, the
first file the command opens would take descriptor 2, and a C library's
warning would land in it. :func:`open_standard_streams` points a closed one at
``/dev/null`` instead: the command does its work, and its exit code still says
how it went.

Once a command's output is in place (and reported), a Ctrl-C or SIGTERM has
nothing left to stop: :func:`settle` makes the process ignore both from then
on, so it exits 0 with its output complete instead of 130/143 and no message.
Only the command line's own process is settled (:func:`arm`): a library call
in a notebook or a test never loses its Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

_STREAMS = ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w"))
_armed = False


def open_standard_streams() -> None:
    """Give every closed standard descriptor (0, 1, 2) ``/dev/null``, and Python a stream on it."""
    for fd, name, mode in _STREAMS:
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", errors="replace",  # noqa: SIM115
                                    closefd=False))


def arm() -> None:
    """Let :func:`settle` act: called by the command line's entry point, in its own process."""
    global _armed
    _armed = True


def settle() -> None:
    """From now on SIGINT and SIGTERM are ignored: the output is complete, the exit 0."""
    if _armed and threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
