"""How a scenario key is declared: default, doc with unit, provenance and allowed values.

Each key's declaration is the only statement of what it accepts: validation,
error messages, ``--set`` overrides and the generated reference all read it
from the dataclass field's metadata, so nothing can drift from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from hybridnet.registry import Choices

AUTO = "auto"
"""The value of a key whose number is worked out from the rest of the scenario."""


def key(
    default: Any,
    doc: str,
    *,
    source: str = "assumption",
    lo: float | None = None,
    hi: float | None = None,
    choices: Choices | None = None,
    auto: bool = False,
    length: int | None = None,
    kind: str | None = None,
) -> Any:
    """Declare a scenario key: its default, doc (with unit), provenance and allowed values.

    ``kind`` is inferred from the default (boolean, int, number, string, list of
    int or number) unless the default is "auto", which needs it stated. A key
    with ``choices`` accepts the names of that registry only, and its doc goes on
    to list each name with the registry's line on it, so the reference explains
    every name without the schema repeating the registry.
    """
    if kind is None:
        sample = default[0] if isinstance(default, list) else default
        kind = (
            "boolean" if isinstance(sample, bool)
            else "int" if isinstance(sample, int)
            else "number" if isinstance(sample, float)
            else "string"
        )
        if isinstance(default, list):
            kind = f"list of {kind}"
    meta = {
        "kind": kind,
        "doc": f"{doc}: {choices.describe()}" if choices else doc,
        "source": source,
        "lo": lo,
        "hi": hi,
        "choices": choices,
        "auto": auto,
        "length": length,
    }
    if isinstance(default, list):
        return field(default=tuple(default), metadata=meta)
    return field(default=default, metadata=meta)


def allowed_values(f: dataclasses.Field) -> str:
    """What a key accepts, in words, for error messages and the reference."""
    m = f.metadata
    if m["choices"]:
        return "one of " + ", ".join(f'"{c}"' for c in m["choices"])
    kind = m["kind"]
    rng = ""
    if m["lo"] is not None:
        rng = f" in [{m['lo']:g}, {m['hi']:g}]"
    if kind.startswith("list"):
        n = f"{m['length']} " if m["length"] else ""
        item = "integers" if kind.endswith("int") else "numbers"
        text = f"a list of {n}{item}{rng}"
    else:
        text = f"{'an integer' if kind == 'int' else 'a ' + kind}{rng}"
    if m["auto"]:
        text += ' or "auto"'
    return text
