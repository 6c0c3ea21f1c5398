"""No function in hybridnet/ is longer than MAX_FUNCTION_LINES: one that is does more than
one job, and reads as a lab notebook rather than as its anchors."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hybridnet"
MAX_FUNCTION_LINES = 60


def long_functions(root: Path = PACKAGE, limit: int = MAX_FUNCTION_LINES) -> list[str]:
    """``path:line name (lines)`` of every function or method over ``limit`` lines,
    decorators excluded, docstring included."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > limit:
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} "
                                 f"({lines} lines)")
    return found


def test_no_function_is_over_sixty_lines() -> None:
    assert long_functions() == []


def test_the_scan_finds_a_long_method(tmp_path: Path) -> None:
    body = "".join(f"        x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text("class C:\n    def f(self):\n" + body)
    (tmp_path / "pkg" / "short.py").write_text("def g():\n    return 1\n")
    assert long_functions(tmp_path / "pkg") == [f"pkg/m.py:2 f ({MAX_FUNCTION_LINES + 1} lines)"]
