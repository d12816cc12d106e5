"""No import cycles: within bot/, handlers/ and services/, no module imports itself back through
others (an import inside a function counts too): two modules in a cycle cannot be read, or loaded,
one without the other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("bot", "handlers", "services")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for layer in LAYERS for path in sorted((ROOT / layer).rglob("*.py"))}


def _imported(path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules of this repository that `path` imports (a `from package import module` names
    the module; a name from a package's __init__ names the package)."""
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package, `level - 1` steps up
                base = ".".join([*package[: len(package) - node.level + 1], *filter(None, [node.module])])
            else:
                base = node.module or ""
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}"
                elif base in known:
                    yield base
            yield from _packages_above(base, known)


def _packages_above(module: str, known: dict[str, Path]) -> Iterator[str]:
    """The packages whose __init__ Python runs when `module` is imported (a.b.c: a, a.b, and
    a.b.c itself when it is a package): an __init__ that imports its submodules closes a cycle."""
    parts = module.split(".")
    yield from (p for p in (".".join(parts[:i]) for i in range(1, len(parts) + 1)) if p in known)


def cycles_of(graph: dict[str, set[str]]) -> list[set[str]]:
    """The cycles of an import graph: its strongly connected components of more than one module,
    and modules importing themselves (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph.get(module, ())):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == module:
                    break
            if len(component) > 1 or module in graph.get(module, ()):
                found.append(component)

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def _repository_cycles() -> list[set[str]]:
    known = _modules()
    return cycles_of({module: set(_imported(path, known)) for module, path in known.items()})


@pytest.mark.parametrize("layer", LAYERS)
def test_no_import_cycle(layer: str) -> None:
    cycles = [cycle for cycle in _repository_cycles() if any(m.split(".")[0] == layer for m in cycle)]
    assert [sorted(cycle) for cycle in cycles] == []


def test_cycles_are_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a", "d"}, "e": {"a"}}
    assert sorted(map(sorted, cycles_of(graph))) == [["a", "b", "c"], ["d"]]
