"""CSV files read back for figures and reports, refused in one line when damaged.

pandas reports an unbalanced quote, an empty file or a header with no rows
as its own exceptions (or as a numpy error later, once the empty frame is
drawn); a user who handed us the file sees instead what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from hybridnet.errors import HybridnetError


def read_table(path: Path, *, columns: Sequence[str] = (), numeric: Sequence[str] = (),
               hint: str = "", **read_csv: Any) -> pd.DataFrame:
    """``path`` as a frame with rows and ``columns``, the ``numeric`` ones numbers; else one line.

    ``hint`` ends each message (what to do about it, e.g. which command writes the file).
    """
    tail = f"; {hint}" if hint else ""
    if not path.is_file():
        raise HybridnetError(f"{path}: missing{tail}")
    try:
        frame = pd.read_csv(path, **read_csv)
    except pd.errors.EmptyDataError:
        raise HybridnetError(f"{path}: empty{tail}") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as err:
        detail = " ".join(str(err).split())[:120]
        raise HybridnetError(f"{path}: not a readable CSV ({detail}){tail}") from None
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise HybridnetError(f"{path}: no column {', '.join(missing[:3])}{tail}")
    if frame.empty:
        raise HybridnetError(f"{path}: has no rows{tail}")
    for column in numeric:  # those present: a missing one is for ``columns`` to require
        if column in frame and not pd.api.types.is_numeric_dtype(frame[column]):
            raise HybridnetError(f"{path}: column {column} holds something other than numbers")
    return frame
