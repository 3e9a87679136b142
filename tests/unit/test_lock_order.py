"""Repair dispatch locks rows `FOR NO KEY UPDATE`, never `FOR UPDATE`: the foreign-key checks of ticket
writes take KEY SHARE locks on technicians and tickets, which `FOR UPDATE` would wait for, reversing
the lock order (ARCHITECTURE.md, "Lock order")."""

from __future__ import annotations

import ast
from pathlib import Path

DISPATCH = Path(__file__).resolve().parents[2] / "dispatch"


def _row_locks(tree: ast.AST) -> list[tuple[int, bool]]:
    """(line, leaves foreign-key checks alone) for every `with_for_update` in the module."""
    locks: list[tuple[int, bool]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute) and node.func.attr == "with_for_update":
            key_share = any(
                keyword.arg == "key_share" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
                for keyword in node.keywords
            )
            locks.append((node.lineno, key_share))
        for keyword in node.keywords:
            if keyword.arg == "with_for_update":
                value = keyword.value
                key_share = isinstance(value, ast.Dict) and any(
                    isinstance(key, ast.Constant) and key.value == "key_share" and isinstance(v, ast.Constant) and v.value
                    for key, v in zip(value.keys, value.values, strict=True)
                )
                locks.append((node.lineno, key_share))
    return locks


def test_every_row_lock_in_dispatch_is_for_no_key_update() -> None:
    found: list[str] = []
    wrong: list[str] = []
    for path in sorted(DISPATCH.glob("*.py")):
        for line, key_share in _row_locks(ast.parse(path.read_text(), filename=str(path))):
            found.append(f"{path.name}:{line}")
            if not key_share:
                wrong.append(f"{path.name}:{line}")
    assert found, "no row locks found: has the lock code moved?"
    assert wrong == []
