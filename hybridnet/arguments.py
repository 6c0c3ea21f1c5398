"""The Python API's arguments checked as the command line checks its options.

A caller of :func:`hybridnet.simulate` or of the PettingZoo env gets the same
one-line :class:`~hybridnet.errors.InvalidArgument` (a HybridnetError and a
ValueError) that ``hybridnet run`` would print, never an error from deep
inside numpy or SimPy. Counts must be true integers: ``"2"``, ``2.0`` and
``True`` are refused, as ``--slots`` refuses them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Mapping
from typing import Any

from hybridnet.errors import InvalidArgument

MAX_SEED = 2**63 - 1
"""The largest seed, as ``[sim] seed`` allows."""


def integer(name: str, value: Any, lo: int, hi: int | None = None) -> int:
    """``value`` as an int in [lo, hi], or one line saying what ``name`` allows."""
    allowed = f"an integer >= {lo}" if hi is None else f"an integer in [{lo}, {hi}]"
    if isinstance(value, bool):
        raise InvalidArgument(f"{name} = {value!r}: expected {allowed}")
    try:
        number = operator.index(value)  # int and numpy integers, never floats or strings
    except TypeError:
        raise InvalidArgument(f"{name} = {value!r} ({type(value).__name__}): expected "
                              f"{allowed}") from None
    if number < lo or (hi is not None and number > hi):
        raise InvalidArgument(f"{name} = {number}: expected {allowed}")
    return number


def optional_integer(name: str, value: Any, lo: int, hi: int | None = None) -> int | None:
    return None if value is None else integer(name, value, lo, hi)


def choice(name: str, value: Any, allowed: Collection[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidArgument(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    return value


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{name} = {value!r}: expected True or False")
    return value


def mapping(name: str, value: Any) -> Mapping[str, Any]:
    """An overrides mapping: ``{"section.key": value}`` (None for none)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidArgument(f"{name} = {value!r}: expected a mapping of \"section.key\" to "
                              "values, e.g. {\"network.num_ues\": 10}")
    return value


def callback(name: str, value: Any) -> Callable[..., Any] | None:
    if value is not None and not callable(value):
        raise InvalidArgument(f"{name} = {value!r}: expected a callable or None")
    return value
