"""SQL conditions the policies' list filters share."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam, false, or_
from sqlalchemy.dialects.postgresql import ARRAY

__all__ = ["among", "among_parameter", "any_of", "given_values"]


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


def given_values(values: Mapping[str, Any]) -> frozenset[str]:
    """The names of `values` that hold something: an id, or a list with at least one. A policy's SQL twin
    writes only the branches these open, so a statement built once serves every caller with the same
    names given (its cache key)."""
    return frozenset(name for name, value in values.items() if value is not None and value != [])


def any_of(branches: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    """`OR` of `branches`; a plain false for none (a caller with nothing to see)."""
    return or_(*branches) if branches else false()
