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
