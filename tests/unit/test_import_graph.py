"""The import graph: no cycles, a scoring package that reads top to bottom, and no
function-level imports of our own modules where they were once used to dodge cycles."""
from __future__ import annotations

import ast
from pathlib import Path

import grimp
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "fieldapp"


def _cycles(graph, modules) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    adj = {m: set(graph.find_modules_directly_imported_by(m)) & modules for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return out


def test_no_import_cycle_between_modules():
    # grimp sees every import statement, function-level ones included. The package root
    # (the app factory, `fieldapp/__init__.py`) composes everything and is left out.
    graph = grimp.build_graph("fieldapp")
    modules = {m for m in graph.modules if m != "fieldapp"}
    assert _cycles(graph, modules) == []


def test_import_linter_contracts_hold():
    # The contracts live in pyproject.toml ([tool.importlinter]).
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def _function_level_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.level > 0 or (inner.module or "").startswith("fieldapp")):
                    found.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    return found


# The package root is the app factory: it imports the app's parts inside create_app so
# that `import fieldapp.domain...` stays free of Flask and the whole app; the CLI group
# builds the app the same way (fieldapp/__init__.py imports the CLI).
FACTORY = {PACKAGE / "__init__.py", PACKAGE / "cli" / "__init__.py"}


def test_no_function_level_imports_of_our_own_modules_outside_the_app_factory():
    paths = sorted(p for p in PACKAGE.rglob("*.py") if p not in FACTORY)
    assert [hit for p in paths for hit in _function_level_imports(p)] == []

