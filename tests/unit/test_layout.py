"""The layout holds: imports run one way, no module imports itself through others, modules stay small.

Read from the source (every import statement, at module level or inside a
function), not from what happens to be imported at run time:

- ledger/ imports nothing from api/, projections/ or schemas/, nor any web,
  GraphQL or database driver package (fastapi, starlette, strawberry, psycopg);
- projections/ imports nothing from api/ or schemas/, nor fastapi or strawberry;
- schemas/ is imported by api/ only;
- no two modules import each other, directly or around a circle (imports
  under `if TYPE_CHECKING:` are for type checkers only and are left out);
- no module of the four layers is over 400 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("ledger", "projections", "api", "schemas")
FORBIDDEN = {
    "ledger": ("api", "projections", "schemas", "fastapi", "starlette", "strawberry", "psycopg", "psycopg_pool"),
    "projections": ("api", "schemas", "fastapi", "starlette", "strawberry"),
    "schemas": ("ledger", "projections", "strawberry"),
}
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports(path: Path, *, runtime_only: bool) -> Iterator[tuple[str, int]]:
    """(module imported, line) for each import in the file; `from pkg import mod` yields pkg.mod too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if _type_checking_only(node):
                skip |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:
                yield f"{node.module}.{alias.name}", node.lineno


def test_inner_layers_import_nothing_from_outer_layers_or_frameworks() -> None:
    wrong = []
    for name, path in modules().items():
        layer = name.split(".")[0]
        for imported, line in imports(path, runtime_only=False):
            top = imported.split(".")[0]
            if top in FORBIDDEN.get(layer, ()):
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert not wrong, "\n".join(sorted(set(wrong)))


def test_schemas_serve_the_api_only() -> None:
    users = {name.split(".")[0] for name, path in modules().items()
             for imported, _ in imports(path, runtime_only=False) if imported.split(".")[0] == "schemas"}
    assert users <= {"api", "schemas"}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for imported, _ in imports(path, runtime_only=True):
            if imported in known and imported != name:
                graph[name].add(imported)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles_between_modules() -> None:
    assert circles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_is_over_400_lines(layer: str) -> None:
    long = {str(p.relative_to(ROOT)): n for name, p in modules().items() if name.split(".")[0] == layer
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"split these by responsibility: {long}"


def test_every_package_says_what_it_owns() -> None:
    silent = [str(p.relative_to(ROOT)) for name, p in modules().items()
              if p.name == "__init__.py" and not ast.get_docstring(ast.parse(p.read_text(encoding="utf-8")))]
    assert not silent, f"packages without a docstring: {silent}"
