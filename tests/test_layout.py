"""The import graph of the product's packages points one way and has no cycles:

    flows → storage → extractors.{records, urls, fingerprint}
    flows → extractors → extractors.records, which imports no other newsmon module

Imports inside functions count (they are dependencies all the same); those under
`if TYPE_CHECKING:` do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("extractors", "storage", "flows")
# What storage may use of extractors: the records it stores and pure functions over them.
STORAGE_USES = ("extractors.records", "extractors.urls", "extractors.fingerprint")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}


def imported(name: str, path: Path) -> set[str]:
    """The newsmon modules `name` imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            found |= {
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            }
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def edges(frm: str, to: tuple[str, ...]) -> list[tuple[str, str]]:
    return [
        (m, dep)
        for m, deps in GRAPH.items()
        if m == frm or m.startswith(frm + ".")
        for dep in deps
        if any(dep == t or dep.startswith(t + ".") for t in to)
    ]


def test_the_graph_is_read_from_the_code() -> None:
    # Guard against a parser that finds nothing (and so no violation).
    assert "storage.articles" in GRAPH["storage.db"]
    assert "extractors.records" in GRAPH["flows.pipeline"]
    assert "extractors.records.failures" in GRAPH["extractors.records.web"]


def test_records_are_a_leaf() -> None:
    outside = [
        (m, dep)
        for m, deps in GRAPH.items()
        if m.startswith("extractors.records")
        for dep in deps
        if not dep.startswith("extractors.records")
    ]
    assert outside == []


def test_imports_point_down() -> None:
    assert edges("extractors", ("storage", "flows")) == []
    assert edges("storage", ("flows",)) == []
    storage_to_extractors = {dep for _, dep in edges("storage", ("extractors",))}
    assert {d for d in storage_to_extractors if not d.startswith(STORAGE_USES)} == set()
    # Policy is pure: when to poll takes the records, never the store.
    assert edges("flows.polling", ("storage",)) == []


def test_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    assert cycles == []
