"""SQL conditions the policies' list filters share."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, false

__all__ = ["among"]


def among(column: object, ids: Collection[int]) -> ColumnElement[bool]:
    """`column IN ids`, and a plain false for no ids (an empty IN list is not portable SQL)."""
    return column.in_(sorted(ids)) if ids else false()  # type: ignore[attr-defined, no-any-return]
