"""Scenarios as TOML: reading files and ``--set`` overrides, writing every key back.

A written scenario round-trips bit for bit (floats by ``repr``), which is what
lets a run's ``config.toml`` reproduce the run.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import tomllib
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

from hybridnet.errors import HybridnetError
from hybridnet.scenario.core import Scenario, from_dict, split_key, to_dict
from hybridnet.scenario.limits import MAX_FILE_BYTES, check_nesting, loads

ORIGIN_PREFIX = "# origin: "
"""How a run's config.toml names the command that first produced its configuration."""


def parse_value(text: str) -> Any:
    """Read a ``--set`` value as TOML; a bare word that is not TOML is a string."""
    check_nesting(text, f"value {text[:40]!r}")
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: list[str] | tuple[str, ...], source: str = "--set") -> dict[str, Any]:
    """Turn ``["edge.freq_hz=1e9", ...]`` into ``{"edge.freq_hz": 1e9, ...}``."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise HybridnetError(f"{source}: '{item}' must look like section.key=value")
        out[name.strip()] = parse_value(text.strip())
    return out


def read_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read and validate a scenario file, then apply ``overrides`` (``section.key -> value``)."""
    path = shipped_scenario(path)
    source = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise HybridnetError(f"{source}: {path.stat().st_size:,} bytes; a scenario file "
                                 f"has at most {MAX_FILE_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HybridnetError(f"{source}: no such scenario file{_elsewhere(path)}") from None
    except (OSError, UnicodeDecodeError) as err:
        raise HybridnetError(f"{source}: cannot read scenario file ({err})") from None
    try:
        raw = loads(text, source)
    except tomllib.TOMLDecodeError as err:
        raise HybridnetError(f"{source}: invalid TOML: {err}") from None
    scenario = dataclasses.replace(from_dict(raw, source), origin=_read_origin(text))
    if overrides:
        for dotted, value in overrides.items():
            section, name = split_key(f"{source} (--set)", dotted)
            raw.setdefault(section, {})[name] = value
        scenario = from_dict(raw, f"{source} (with --set)")
        scenario = dataclasses.replace(scenario, source=source)
    return scenario


SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""The checkout hybridnet runs from (an editable install): where scenarios/ and examples/ are."""


def shipped_scenario(path: str | Path) -> Path:
    """``path``, or the shipped scenario a bare name without a file names (``paper``, ``dense``).

    A name is looked up in the checkout's scenarios/ only when no file of that
    name exists here, so a file of the user's always wins; the run then records
    the path it read.
    """
    path = Path(path)
    if path.exists() or len(path.parts) != 1:
        return path
    shipped = SOURCE_ROOT / "scenarios" / (path.name if path.suffix == ".toml"
                                           else f"{path.name}.toml")
    return shipped if shipped.is_file() else path


def shipped_names() -> list[str]:
    """The shipped scenarios' names, for messages: the stems of the checkout's scenarios/."""
    return sorted(p.stem for p in (SOURCE_ROOT / "scenarios").glob("*.toml"))


def _elsewhere(path: Path) -> str:
    """A hint where a relative path names a file of the checkout: the user is in another
    directory than the documented commands assume (the repository root)."""
    if path.is_absolute():
        return ""
    if len(path.parts) == 1 and shipped_names():
        close = difflib.get_close_matches(path.stem, shipped_names(), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"; {hint}shipped scenarios by name: {', '.join(shipped_names())}"
    there = SOURCE_ROOT / path
    if not there.is_file() or there.resolve() == path.resolve():
        return ""
    return (f" in {Path.cwd()}; the repository's is {there}: give that path, or run "
            "from the repository root")


def _read_origin(text: str) -> str:
    """The ``# origin:`` line of a run's config.toml, from the comments that open it."""
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        if line.startswith(ORIGIN_PREFIX):
            return line[len(ORIGIN_PREFIX):].strip()
    return ""


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else "nan"
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def changed_keys(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]],
                 ignore: Collection[str] = ()) -> list[str]:
    """The dotted keys whose value in ``new`` (a :func:`to_dict`) differs from ``old``.

    A key ``old`` lacks counts as changed; one only ``old`` has (written by
    another version of the schema) does not, as ``new`` has every key there is.
    """
    return [f"{section}.{key}" for section, table in new.items() for key, value in table.items()
            if f"{section}.{key}" not in ignore and old.get(section, {}).get(key) != value]


def to_toml(scenario: Scenario, header: list[str] | None = None) -> str:
    """The scenario as TOML, every key written, floats round-tripping bit for bit.

    ``header`` replaces the opening comment (by default, where it was read from).
    """
    lines = [f"# {line}" for line in header] if header else [f"# resolved from {scenario.source}"]
    for section, table in to_dict(scenario).items():
        lines.append(f"\n[{section}]")
        lines.extend(f"{name} = {toml_value(value)}" for name, value in table.items())
    return "\n".join(lines) + "\n"
