"""Your own policy by name: ``--policy package.module:Class`` or ``--policy path/to/file.py:Class``.

A policy of the user's is a class (or any callable) whose instances have a
``decide(state)`` method answering ``(x, y)``, two integer arrays of one entry
per UE (:class:`~hybridnet.policies.base.Policy`). Its constructor is given,
by name, whichever of these it declares: ``scenario`` (the resolved
:class:`~hybridnet.scenario.Scenario`: steps, edge, UEs...) and ``rng`` (the
policy's own :class:`numpy.random.Generator`, so that a seed reproduces its
draws). A class that takes neither is simply called.

A module is imported as Python would, with the working directory first on the
path (as ``uvicorn main:app`` does), so ``mine:Half`` finds ``./mine.py``; a
file is loaded from its path, whatever the working directory's packages. Every
way this can go wrong (no such module or file, the module fails to import, no
such class, no ``decide``, a constructor that fails, an answer that is not a
pair at the first decision) is one line naming the spec.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import inspect
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from hybridnet.errors import HybridnetError
from hybridnet.model.slot import SlotState
from hybridnet.policies.base import Policy
from hybridnet.scenario import Scenario

MODULE_SPEC = "MODULE:CLASS"
"""A class in an importable module, a pattern: ``package.module:Class``."""
FILE_SPEC = "FILE.py:CLASS"
"""A class in a Python file, a pattern: ``path/to/file.py:Class``."""

_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_MODULE_RE = re.compile(rf"^{_IDENTIFIER}(\.{_IDENTIFIER})*:{_IDENTIFIER}$")
_FILE_RE = re.compile(rf"^.+\.py:{_IDENTIFIER}$")
ARGUMENTS = ("scenario", "rng")
"""What a policy's constructor may ask for, by parameter name."""

_loaded_files: dict[Path, ModuleType] = {}


def plugin_kind(spec: str) -> str | None:
    """:data:`FILE_SPEC` or :data:`MODULE_SPEC` where ``spec`` has that shape, else None.

    ``fixed:5,0`` is neither: its part after the colon is not a name.
    """
    if _FILE_RE.match(spec):
        return FILE_SPEC
    if _MODULE_RE.match(spec) and not spec.startswith("fixed:"):
        return MODULE_SPEC
    return None


def _one_line(err: BaseException) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())


def _import_module(spec: str, name: str) -> ModuleType:
    cwd = str(Path.cwd())
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name is not None and (name == err.name or name.startswith(f"{err.name}.")):
            raise HybridnetError(
                f"--policy {spec}: no module named '{err.name}' here or on the Python path; "
                f"for a file give its path, e.g. --policy path/to/{name.split('.')[-1]}.py:"
                f"{spec.rpartition(':')[2]}") from None
        raise HybridnetError(f"--policy {spec}: importing {name} failed: "
                             f"{_one_line(err)}") from None
    except Exception as err:  # the user's module may raise anything as it imports
        raise HybridnetError(f"--policy {spec}: importing {name} failed: "
                             f"{_one_line(err)}") from None


def _load_file(spec: str, path: Path) -> ModuleType:
    if not path.is_file():
        raise HybridnetError(f"--policy {spec}: {path}: no such file")
    resolved = path.resolve()
    if resolved in _loaded_files:
        return _loaded_files[resolved]
    name = f"hybridnet_user_policy_{len(_loaded_files)}_{re.sub(r'[^A-Za-z0-9_]', '_', path.stem)}"
    module_spec = importlib.util.spec_from_file_location(name, resolved)
    if module_spec is None or module_spec.loader is None:
        raise HybridnetError(f"--policy {spec}: {path}: not a Python file")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up there
    try:
        module_spec.loader.exec_module(module)
    except Exception as err:  # the user's file may raise anything as it runs
        del sys.modules[name]
        raise HybridnetError(f"--policy {spec}: loading {path} failed: "
                             f"{_one_line(err)}") from None
    _loaded_files[resolved] = module
    return module


def _construct(spec: str, factory: Any, scenario: Scenario, rng: np.random.Generator) -> Any:
    given = {"scenario": scenario, "rng": rng}
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    kwargs = {name: given[name] for name in ARGUMENTS if name in params}
    try:
        return factory(**kwargs)
    except Exception as err:  # the user's constructor may raise anything
        shown = ", ".join(kwargs) or "no arguments"
        raise HybridnetError(f"--policy {spec}: {getattr(factory, '__name__', factory)}"
                             f"({shown}) failed: {_one_line(err)}") from None


class UserPolicy:
    """A user's policy, its answers checked to be a pair before the engine checks their shapes."""

    def __init__(self, spec: str, inner: Any) -> None:
        self.spec = spec
        self.inner = inner
        self.name = spec

    def decide(self, state: SlotState) -> tuple[np.ndarray, np.ndarray]:
        answer = self.inner.decide(state)
        if not isinstance(answer, tuple | list) or len(answer) != 2:
            shown = type(answer).__name__ + (f" of {len(answer)}"
                                             if isinstance(answer, tuple | list) else "")
            raise HybridnetError(
                f"--policy {self.spec}: decide() returned a {shown}; it must return (x, y), "
                f"two integer arrays of shape ({state.num_ues},)")
        return np.asarray(answer[0]), np.asarray(answer[1])


def load_user_policy(spec: str, scenario: Scenario, rng: np.random.Generator) -> Policy:
    """Build the policy ``spec`` (:data:`MODULE_SPEC` or :data:`FILE_SPEC`) names."""
    kind = plugin_kind(spec)
    if kind is None:
        raise HybridnetError(f"--policy {spec}: not of the form {MODULE_SPEC} or {FILE_SPEC}")
    where, _, attr = spec.rpartition(":")
    module = _load_file(spec, Path(where)) if kind == FILE_SPEC else _import_module(spec, where)
    if not hasattr(module, attr):
        public = sorted(n for n, v in vars(module).items()
                        if not n.startswith("_") and inspect.isclass(v)
                        and v.__module__ == module.__name__)
        close = difflib.get_close_matches(attr, public, n=1)
        hint = (f"did you mean '{close[0]}'? " if close else "") + (
            f"it defines: {', '.join(public)}" if public else "it defines no class")
        raise HybridnetError(f"--policy {spec}: {where} has no '{attr}'; {hint}")
    factory = getattr(module, attr)
    if not callable(factory):
        raise HybridnetError(f"--policy {spec}: {attr} is a {type(factory).__name__}, not a "
                             "class")
    if inspect.isclass(factory) and not callable(getattr(factory, "decide", None)):
        raise HybridnetError(f"--policy {spec}: {attr} has no decide(state) method; a policy "
                             "answers each slot's (x, y) with it")
    policy = _construct(spec, factory, scenario, rng)
    if not callable(getattr(policy, "decide", None)):
        raise HybridnetError(f"--policy {spec}: {attr}(...) returned a "
                             f"{type(policy).__name__} with no decide(state) method")
    return UserPolicy(spec, policy)
