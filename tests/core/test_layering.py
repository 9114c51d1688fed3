"""gst_core's modules import each other without cycles, and the plugin surface stays below
the machinery (read from the source with ast, so nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MACHINERY = (
    "gst_core.training",
    "gst_core.pipelines",
    "gst_core.metrics",
    "gst_core.cli",
    "gst_core.ui",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Modules ``path`` imports at its top level, those under ``if TYPE_CHECKING:`` included
    (a type-only cycle still ties two modules together); not those inside functions.
    ``from pkg import mod`` depends on ``pkg.mod`` (a package's ``__init__`` re-exporting
    its modules is no cycle)."""
    tree = ast.parse(path.read_text())
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    body = list(tree.body)
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            body += node.body
    for node in body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{module}" if module else base
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                found.add(sub if sub in modules else module)
    return found & modules - {name}


def _graph(package: str) -> dict[str, set[str]]:
    files = {_module_name(p): p for p in (ROOT / package).rglob("*.py")}
    return {name: _imports(path, set(files)) for name, path in files.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_gst_core_has_no_import_cycle():
    assert _cycle(_graph("gst_core")) is None


def test_the_contract_and_the_plugins_import_no_machinery():
    files = [ROOT / "gst_core" / "interfaces.py", *(ROOT / "gst_plugins").rglob("*.py")]
    for path in files:
        text = path.read_text()
        for package in MACHINERY:
            assert package not in text, f"{path.relative_to(ROOT)} mentions {package}"
