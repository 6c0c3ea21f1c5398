"""Bounds on what a scenario's text may ask of the parser, checked before it parses.

``tomllib`` parses nested arrays and inline tables by recursion: 5,000 levels
of ``[[[...`` end in a RecursionError thousands of lines long. No scenario key
takes more than a list of numbers, so a depth far above that is refused in one
line before the parser sees it.
"""

from __future__ import annotations

import tomllib
from typing import Any

from hybridnet.errors import HybridnetError

MAX_NESTING = 32
"""Deepest nesting of arrays and inline tables a scenario's TOML may have."""

MAX_FILE_BYTES = 2**20
"""The largest scenario file read: 1 MiB, some 500 times the largest one shipped."""

MAX_STRING = 4096
"""Longest string a scenario key may hold: a path (PATH_MAX is 4096 on Linux) or a URL."""


def nesting_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in TOML ``text``, outside strings and comments.

    An over-estimate at worst (a table header ``[[a]]`` counts 2): it bounds
    what the parser would recurse into, which is all it is for.
    """
    depth = deepest = 0
    quote = ""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
        i += 1
    return deepest


def check_nesting(text: str, source: str) -> None:
    """Refuse TOML nested deeper than :data:`MAX_NESTING`, in one line naming ``source``."""
    if nesting_depth(text) > MAX_NESTING:
        raise HybridnetError(f"{source}: arrays or tables nested more than {MAX_NESTING} deep; "
                             "no scenario key takes more than a list of numbers")


def loads(text: str, source: str) -> dict[str, Any]:
    """``tomllib.loads`` with the nesting bounded; a decode error raised as is."""
    check_nesting(text, source)
    try:
        return tomllib.loads(text)
    except RecursionError:  # a bound above that still too deep for this interpreter's stack
        raise HybridnetError(f"{source}: nested too deeply to read") from None
