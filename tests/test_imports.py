"""The import graph of cqgis: no cycle, and packages depend downwards only (geo -> layers -> analysis -> maps -> API -> cli).

The graph is read from the source with :mod:`ast`, so imports inside
functions count as much as module-level ones, and so do the modules loaded
by name: ``importlib.import_module("cqgis.x")``, an f-string whose constant
start names a package (every module under it counts), and any string
constant that is a cqgis module name, alone or as ``"module:attribute"``
(the tables lazy loaders read). Imports under ``if TYPE_CHECKING:`` are
left out: they never run.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import networkx as nx
import pytest

#: Rank of each part of cqgis: a module may import modules of its own rank or lower.
#: The leaves (errors, config, version) import no other part; the Python API
#: (the package itself, ``cqgis.api``, ``cqgis.analyses``) sits above the
#: maps; the CLI sits above the API, so that its commands can wrap the API's functions.
RANKS = {
    "cqgis.errors": 0,
    "cqgis.config": 0,
    "cqgis.version": 0,
    "cqgis.geo": 1,
    "cqgis.layers": 2,
    "cqgis.analysis": 3,
    "cqgis.maps": 4,
    "cqgis": 5,
    "cqgis.api": 5,
    "cqgis.analyses": 5,
    "cqgis.cli": 6,
}

PACKAGES = ("cqgis", "cqgis.geo", "cqgis.layers", "cqgis.analysis", "cqgis.maps", "cqgis.cli")


def _sources() -> dict[str, Path]:
    """Map every cqgis module's dotted name to its source file."""
    found = {}
    for package in PACKAGES:
        root = Path(importlib.util.find_spec(package).submodule_search_locations[0])
        for path in root.rglob("*.py"):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            # cqgis/ holds only the top-level modules; its subpackages live in their own folders.
            found.setdefault(name, path)
    return found


def _targets(node: ast.AST, here: str, is_package: bool, modules: set[str]) -> set[str]:
    """Return the cqgis modules one AST node imports."""
    found: set[str] = set()
    if isinstance(node, ast.Import):
        found.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = here.split(".") if is_package else here.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            source = ".".join([*base, node.module] if node.module else base)
        else:
            source = node.module or ""
        for alias in node.names:
            # `from cqgis.layers import catalog` imports a module; `from cqgis import __version__` the package.
            child = f"{source}.{alias.name}"
            found.add(child if child in modules else source)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        name = node.value.split(":")[0]
        # A bare "cqgis" is the program's name (cache folder, prog_name), not an import.
        if "." in name and name in modules:
            found.add(name)
    elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        prefix = str(node.values[0].value)
        if prefix.startswith("cqgis.") and prefix.endswith("."):
            found.update(name for name in modules if name.startswith(prefix))
    return {name for name in found if name in modules and name != here}


def _run_nodes(tree: ast.AST) -> list[ast.AST]:
    """Return every node of ``tree`` except those only type checkers read (``if TYPE_CHECKING:``)."""
    found, todo = [], [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    sources = _sources()
    modules = set(sources)
    imports = nx.DiGraph()
    imports.add_nodes_from(modules)
    for name, path in sources.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in _run_nodes(tree):
            imports.add_edges_from((name, target) for target in _targets(node, name, is_package, modules))
    return imports


def _rank(module: str) -> int:
    part = max((key for key in RANKS if module == key or module.startswith(f"{key}.")), key=len)
    return RANKS[part]


def test_graph_sees_every_kind_of_import(graph: nx.DiGraph) -> None:
    # The graph must see a module-level import, a function-level one and a lazily loaded module.
    assert graph.has_edge("cqgis.layers.catalog", "cqgis.layers.schema")
    assert graph.has_edge("cqgis.layers.catalog", "cqgis.layers.user")
    assert graph.has_edge("cqgis.layers.catalog", "cqgis.layers.districts")
    assert graph.has_edge("cqgis.cli.main", "cqgis.cli.analyze")
    assert len(graph) > 80


def test_no_import_cycle(graph: nx.DiGraph) -> None:
    # Strongly connected components name each tangle once, however many cycles run through it.
    tangles = [sorted(part) for part in nx.strongly_connected_components(graph) if len(part) > 1]
    assert sorted(tangles) == []


def test_packages_depend_downwards(graph: nx.DiGraph) -> None:
    upward = sorted(f"{a} -> {b}" for a, b in graph.edges if _rank(b) > _rank(a))
    assert upward == []
