"""Prompt corpora: where the UEs' personal prompts come from.

A corpus is a plain list of prompt texts. Two ship with the package (see
``hybridnet/data/prompts/README.md`` for their sources): ``bundled``, 240
prompts over 12 key subjects written for hybridnet, and ``semct``, the
authors' 22 cat and dog prompts. Users bring their own as a CSV file with a
``text`` column or a text file with one prompt per line.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from hybridnet.errors import HybridnetError

CORPORA = ("bundled", "semct")
"""Names of the shipped corpora; any other corpus name is read as a file path."""

_FILES = {"bundled": "hybridnet_prompts.csv", "semct": "semct_prompts.csv"}


def _data_file(name: str) -> Path:
    return Path(str(resources.files("hybridnet") / "data" / "prompts" / name))


MAX_PROMPT_FILE_BYTES = 64 * 2**20
"""The largest prompt file read: 64 MiB, some 300,000 prompts of SemCT's length."""


def load_prompts(path: str | Path) -> list[str]:
    """Read prompts from a CSV file with a ``text`` column, or a text file with one per line.

    A ``.csv`` suffix selects the CSV reader; anything else is read line by
    line, skipping blank lines, so that a quick list typed in an editor works.
    """
    path = Path(path)
    if not path.is_file():
        raise HybridnetError(f"prompt file {path} does not exist")
    if path.stat().st_size > MAX_PROMPT_FILE_BYTES:
        raise HybridnetError(f"prompt file {path} holds {path.stat().st_size:,} bytes; at most "
                             f"{MAX_PROMPT_FILE_BYTES:,} are read")
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            if path.suffix.lower() == ".csv":
                reader = csv.DictReader(fh)
                if reader.fieldnames is None or "text" not in reader.fieldnames:
                    raise HybridnetError(
                        f"prompt file {path} has no 'text' column (columns: {reader.fieldnames})"
                    )
                texts = [(row["text"] or "").strip() for row in reader]
                if any(not t for t in texts):
                    empty = texts.index("") + 2
                    raise HybridnetError(f"prompt file {path}: line {empty} has an empty text")
            else:
                texts = [line.strip() for line in fh if line.strip()]
    except UnicodeDecodeError as err:
        raise HybridnetError(f"prompt file {path} is not UTF-8 text: {err.reason}") from None
    except csv.Error as err:
        raise HybridnetError(f"prompt file {path} is not a readable CSV ({err})") from None
    if not texts:
        raise HybridnetError(f"prompt file {path} holds no prompts")
    return texts


def _shown(text: str, limit: int = 60) -> str:
    """``text`` quoted, cut to ``limit`` characters: an error message stays one line."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


@lru_cache(maxsize=8)
def _cached_corpus(corpus: str) -> tuple[str, ...]:
    if corpus in _FILES:
        return tuple(load_prompts(_data_file(_FILES[corpus])))
    try:
        found = Path(corpus).is_file()
    except OSError as err:  # e.g. a name longer than the file system allows
        raise HybridnetError(f"[prompts] corpus {_shown(corpus)} is neither one of "
                             f"{', '.join(CORPORA)} nor a readable path ({err.strerror})") from None
    if not found:
        raise HybridnetError(
            f"[prompts] corpus {_shown(corpus)} is neither one of {', '.join(CORPORA)} nor an "
            "existing CSV/TXT file"
        )
    return tuple(load_prompts(corpus))


def resolve_corpus(corpus: str) -> list[str]:
    """Prompts of a shipped corpus by name, or of the file at path ``corpus``."""
    return list(_cached_corpus(str(corpus)))


def bundled_subjects() -> list[str]:
    """The intended key subject of each bundled prompt, for judging a grouping."""
    with _data_file(_FILES["bundled"]).open(newline="", encoding="utf-8") as fh:
        return [row["subject"] for row in csv.DictReader(fh)]


def semct_similarity_matrix() -> np.ndarray:
    """The authors' eq. (10) matrix for the ``semct`` prompts (22 x 22, 4 decimals)."""
    with _data_file("semct_similarity_matrix.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))[1:]
    return np.array([[float(v) for v in row[1:]] for row in rows])


def draw_prompts(corpus: str, count: int, rng: np.random.Generator) -> list[str]:
    """Draw ``count`` personal prompts, without replacement while the corpus lasts.

    Distinct prompts as long as possible keeps small cells from looking more
    alike than the corpus is; beyond the corpus size repeats are unavoidable.
    """
    texts = resolve_corpus(corpus)
    idx = rng.choice(len(texts), size=count, replace=count > len(texts))
    return [texts[i] for i in idx]
