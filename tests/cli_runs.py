"""The `hybridnet` command run in this process, for tests that need only its exit code
and output (the process-level cases run it in a real subprocess instead)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybridnet.cli import main


def exit_code(args: list[str | Path]) -> int:
    """Run ``hybridnet ARGS``; return its exit code."""
    try:
        main([str(a) for a in args])
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``hybridnet ARGS``; return its exit code, stdout and stderr."""
    code = exit_code(list(args))
    out, err = capsys.readouterr()
    return code, out, err
