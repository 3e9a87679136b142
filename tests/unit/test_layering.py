"""Pure cores import only the standard library (and their one numeric/text library), never I/O layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_CORES = [
    "billing/money.py",
    "billing/model.py",
    "billing/rules.py",
    "dispatch/model.py",
    "dispatch/lifecycle.py",
    "dispatch/sla.py",
    "dispatch/solver.py",
    "dispatch/classifier.py",
    "dispatch/events.py",
]
FORBIDDEN = {"db", "schema", "api", "sqlalchemy", "starlette", "strawberry", "asyncpg", "aiosqlite", "broadcaster", "httpx"}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", [m for m in PURE_CORES if (ROOT / m).exists()])
def test_pure_core_imports_no_io_layer(module: str) -> None:
    assert imported_top_levels(ROOT / module) & FORBIDDEN == set()


def test_the_checker_notices_a_forbidden_import(tmp_path: Path) -> None:
    leaky = tmp_path / "leaky.py"
    leaky.write_text("import json\nfrom db.models import Unit\nfrom sqlalchemy.orm import Session\n")
    assert imported_top_levels(leaky) & FORBIDDEN == {"db", "sqlalchemy"}


def test_every_listed_core_exists() -> None:
    missing = [m for m in PURE_CORES if not (ROOT / m).exists()]
    assert missing == [], f"pure cores named here but absent: {missing}"
