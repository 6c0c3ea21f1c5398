"""The layers hold: every import in hybridnet/, inside functions too, points down or sideways.

The layer order is written once, as the table in docs/architecture.md; this
test reads it from there, walks every import statement of every module (also
those inside functions and ``TYPE_CHECKING`` blocks, which can hide a cycle
just as well) and fails on an import from a lower layer to a higher one and on
any cycle between parts (subpackages and top-level modules).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "hybridnet"


def layer_table() -> dict[str, int]:
    """``{part: layer}`` from the table under "## Layers" in docs/architecture.md."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers: dict[str, int] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            for part in re.findall(r"`([\w.]+)`", cells[1]):
                layers[part] = int(cells[0])
    return layers


def part_of(module: str) -> str:
    """``hybridnet.sim.edge`` -> ``sim``; ``hybridnet`` (the package itself) -> ``hybridnet``."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else "hybridnet"


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path = ROOT) -> list[tuple[str, str, str]]:
    """(importing module, imported module, where) for every hybridnet import under ``root``."""
    found = []
    for path in sorted((root / "hybridnet").rglob("*.py")):
        module = module_name(path, root)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([node.module] if node.module else [])])
                # "from hybridnet import sim" and "from . import x" name the modules imported
                top = base.count(".") == 0 or not node.module
                targets = [f"{base}.{a.name}" for a in node.names] if top else [base]
            else:
                continue
            where = f"{path.relative_to(root)}:{node.lineno}"
            found += [(module, t, where) for t in targets if t.split(".")[0] == "hybridnet"]
    return found


def test_every_part_has_a_layer():
    parts = {part_of(module_name(p)) for p in PACKAGE.rglob("*.py")}
    missing = parts - set(layer_table())
    assert not missing, f"add to the table in docs/architecture.md: {sorted(missing)}"


def test_no_import_points_up():
    layers = layer_table()
    upward = [f"{where}: {a} imports {b}" for a, b, where in imports()
              if layers[part_of(a)] < layers[part_of(b)]]
    assert not upward, "\n".join(upward)


def test_no_cycle_between_parts():
    graph = nx.DiGraph()
    edges: dict[tuple[str, str], str] = {}
    for a, b, where in imports():
        pa, pb = part_of(a), part_of(b)
        if pa != pb:
            graph.add_edge(pa, pb)
            edges.setdefault((pa, pb), f"{where}: {a} imports {b}")
    cycles = list(nx.simple_cycles(graph))
    shown = ["  ->  ".join(edges[(c[i], c[(i + 1) % len(c)])] for i in range(len(c)))
             for c in cycles]
    assert not cycles, "\n".join(shown)


def test_the_walk_sees_imports_inside_functions_and_relative_ones(tmp_path):
    package = tmp_path / "hybridnet"
    (package / "sim").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sim" / "__init__.py").write_text("from .engine import run\n")
    (package / "sim" / "engine.py").write_text(
        "def run():\n    if True:\n        from hybridnet.rl import train\n")
    (package / "model.py").write_text("from hybridnet import sim\nimport hybridnet.rl.train\n")
    found = {(a, b) for a, b, _ in imports(tmp_path)}
    assert found == {("hybridnet.sim", "hybridnet.sim.engine"),
                     ("hybridnet.sim.engine", "hybridnet.rl"),
                     ("hybridnet.model", "hybridnet.sim"),
                     ("hybridnet.model", "hybridnet.rl.train")}
