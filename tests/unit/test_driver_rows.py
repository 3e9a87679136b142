"""A statement sent to the driver reads its records into the values a Core execution gives, in one step
per row (`db.driver`): converted column by column, and made into plain rows by their shape."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from db.base import Fen, StrEnumColumn, UtcDateTime
from db.driver import RowShape, _Compiled
from kernel.vocabulary import Category, Priority

DIALECTS = [postgresql.asyncpg.dialect(), sqlite.aiosqlite.dialect()]

_TABLE = Table(
    "sample",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("category", StrEnumColumn(Category, "sample_category")),
    Column("amount", Fen()),
    Column("at", UtcDateTime()),
    Column("note", String(20)),
    Column("words", JSON),
    Column("priority", StrEnumColumn(Priority, "sample_priority")),
)
_STATEMENT = select(_TABLE)


def _as_core_converts(compiled: _Compiled, dialect: Any, record: tuple[Any, ...]) -> tuple[Any, ...]:
    """Each value as its column type's own result processor gives it (None as it is)."""
    processors = [column.type._cached_result_processor(dialect, None) for column in _TABLE.columns]
    return tuple(value if process is None or value is None else process(value) for process, value in zip(processors, record, strict=True))


def _records(dialect: Any) -> list[tuple[Any, ...]]:
    at = "2026-03-01 08:30:00.000000" if dialect.name == "sqlite" else None
    words = '["leak"]' if dialect.name == "sqlite" else ["leak"]
    return [
        (1, Category.PLUMBING.value, 12345, at, "n", words, Priority.URGENT.value),
        (2, None, None, None, None, None, None),
        (3, Category.ELECTRICAL.value, -5, at, "", words, Priority.NORMAL.value),
    ]


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_a_record_reads_as_the_column_types_convert_each_value(dialect: Any) -> None:
    compiled = _Compiled(_STATEMENT, dialect, {})

    for record in _records(dialect):
        row = compiled.row(record)

        assert row == _as_core_converts(compiled, dialect, record)
        assert [type(value) for value in row] == [type(value) for value in _as_core_converts(compiled, dialect, record)]
    assert compiled.row(_records(dialect)[0])[1] is Category.PLUMBING


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_an_enum_value_outside_the_enum_fails_as_sqlalchemy_fails(dialect: Any) -> None:
    compiled = _Compiled(_STATEMENT, dialect, {})
    record = list(_records(dialect)[0])
    record[1] = "TELEPORTATION"

    with pytest.raises(LookupError, match="'TELEPORTATION' is not among the defined enum values"):
        compiled.row(tuple(record))


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_a_record_of_another_width_is_refused(dialect: Any) -> None:
    compiled = _Compiled(_STATEMENT, dialect, {})

    with pytest.raises(ValueError):
        compiled.row(_records(dialect)[0][:-1])


@pytest.mark.parametrize("dialect", DIALECTS, ids=lambda dialect: dialect.name)
def test_a_shape_makes_named_rows_and_none_where_a_joined_row_is_missing(dialect: Any) -> None:
    compiled = _Compiled(_STATEMENT, dialect, {})
    inner_kind = namedtuple("Inner", ["category", "amount"])  # noqa: PYI024
    outer_kind = namedtuple("Outer", ["id", "note", "priority", "inner"])  # noqa: PYI024
    # The "joined row" is keyed by the category: NULL there stands for an outer join that found nothing.
    shape = RowShape(outer_kind, (0, 4, 6), ((1, RowShape(inner_kind, (1, 2))),))
    read = compiled.reader(shape)

    first, empty, _ = (read(record) for record in _records(dialect))

    converted = compiled.row(_records(dialect)[0])
    assert first == outer_kind(converted[0], converted[4], converted[6], inner_kind(converted[1], converted[2]))
    assert type(first) is outer_kind and type(first.inner) is inner_kind
    assert empty == outer_kind(2, None, None, None)
    # The same shape over values already converted (a Core row) makes the same rows.
    assert shape.make(converted) == first
