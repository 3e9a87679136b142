"""SQL conditions the policies' list filters share."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, any_, bindparam, false
from sqlalchemy.dialects.postgresql import ARRAY

__all__ = ["among", "among_parameter"]


def among(column: object, ids: Collection[int]) -> ColumnElement[bool]:
    """`column IN ids`, and a plain false for no ids (an empty IN list is not portable SQL)."""
    return column.in_(sorted(ids)) if ids else false()  # type: ignore[attr-defined, no-any-return]


def among_parameter(dialect: str, column: object, name: str) -> ColumnElement[bool]:
    """`column` among the values of the parameter `name`, for a statement built once and run with many
    lists: on PostgreSQL `column = ANY(:name)`, one array parameter, so the statement's text is the same
    for every number of values (an IN list is a new text, which asyncpg prepares anew, for every length);
    elsewhere an expanding IN list. An empty list matches nothing on both."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))  # type: ignore[attr-defined, no-any-return]
    return column.in_(bindparam(name, expanding=True))  # type: ignore[attr-defined, no-any-return]
