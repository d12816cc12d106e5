"""The layer rule: bot → handlers → services, never back; services never import Slack;
handlers never touch SQL sessions or httpx; the product never imports the tests or the
benchmarks, and the tests never import the benchmarks."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "services": {"slack_bolt", "slack_sdk", "handlers", "bot", "tests", "benchmarks"},
    "handlers": {"sqlmodel", "sqlalchemy", "httpx", "bot", "psycopg", "tests", "benchmarks"},
    "bot": {"tests", "benchmarks"},
    "tests": {"benchmarks"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_point_one_way(layer: str) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[layer])
        for path in (ROOT / layer).rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


# The services packages, lowest first: each imports only the ones before it (the map is in
# services/__init__.py). container.py, above them all, wires every service together.
SERVICE_PACKAGES = (
    "store",
    "slack_requests",
    "workspaces",
    "research",
    "openalex",
    "digests",
    "collaboration",
)


def _modules(path: Path) -> set[str]:
    """Every module a file imports, dotted in full (`from services import x` names services.x)."""
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_every_services_package_has_its_place() -> None:
    packages = {path.parent.name for path in (ROOT / "services").glob("*/__init__.py")}
    assert packages == set(SERVICE_PACKAGES)


def test_services_packages_import_only_those_below() -> None:
    offenders: dict[str, list[str]] = {}
    for path in sorted((ROOT / "services").glob("*/**/*.py")):
        own = SERVICE_PACKAGES.index(path.relative_to(ROOT / "services").parts[0])
        above = sorted(
            module
            for module in _modules(path)
            if module.split(".")[0] == "services"
            and module.count(".") >= 1
            and module.split(".")[1] in SERVICE_PACKAGES[own + 1 :]
        )
        if above:
            offenders[str(path.relative_to(ROOT))] = above
    assert offenders == {}
