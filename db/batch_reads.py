"""Reading the rows of many keys in one statement, in a short session of its own: what a dataloader's
batch does, by primary key or grouped by a foreign key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, any_, bindparam, inspect, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import joinedload
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.driver import session_for_reads

__all__ = ["every_column", "rows_by_id", "rows_grouped_by"]

M = TypeVar("M")


async def _rows(session_factory: async_sessionmaker[AsyncSession], statement: Select[Any]) -> Sequence[Any]:
    async with session_for_reads(session_factory) as session:
        return (await session.scalars(statement)).all()


async def _plain_rows(session_factory: async_sessionmaker[AsyncSession], statement: Select[Any]) -> Sequence[Any]:
    async with session_for_reads(session_factory) as session:
        return (await session.execute(statement)).all()


def every_column(model: type[Any]) -> Select[Any]:
    """A select of every mapped column of `model`, each under its attribute's name: Core rows the
    columns' types convert exactly as they would fill an object, without the object, its state and its
    identity-map entry (`plain` below, for readers that read columns only)."""
    return select(*(column.class_attribute for column in inspect(model).column_attrs))


def _among(session_factory: async_sessionmaker[AsyncSession], column: Any, keys: list[int]) -> ColumnElement[bool]:
    """`column IN keys`; on PostgreSQL `column = ANY(:keys)`, one array parameter: an IN list is rendered
    again for every request (a bind and a cast per key, hundreds on a page) and is a new statement text,
    which asyncpg prepares anew, for every number of keys."""
    bind = session_factory.kw.get("bind")
    if bind is not None and bind.dialect.name == "postgresql":
        return column == any_(bindparam(None, keys, type_=ARRAY(column.type)))
    return column.in_(keys)  # type: ignore[no-any-return]


async def rows_by_id(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[M],
    ids: list[int],
    *,
    joined: Sequence[Any] = (),
    plain: bool = False,
) -> list[Any]:
    """One `model` row per id, in the order asked (None for an id that does not exist), with the
    `joined` relationships loaded by the same statement; with `plain`, as Core rows (`every_column`)."""
    if plain:
        if joined:
            raise ValueError("plain rows carry no relationships to join")
        statement = every_column(model).where(_among(session_factory, model.id, ids))  # type: ignore[attr-defined]
        rows = await _plain_rows(session_factory, statement)
    else:
        statement = (
            select(model)
            .where(_among(session_factory, model.id, ids))  # type: ignore[attr-defined]
            .options(*(joinedload(relation) for relation in joined))
        )
        rows = await _rows(session_factory, statement)
    found = {row.id: row for row in rows}
    return [found.get(key) for key in ids]


async def rows_grouped_by(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[M],
    key_column: Any,
    keys: list[int],
    *,
    order_by: Any,
    plain: bool = False,
) -> list[list[Any]]:
    """The `model` rows whose `key_column` equals each key, in `order_by` order; with `plain`, as Core
    rows (`every_column`)."""
    selected = every_column(model) if plain else select(model)
    # The primary key breaks ties, so rows sharing an `order_by` value come in a stable order.
    statement = selected.where(_among(session_factory, key_column, keys)).order_by(
        order_by, *inspect(model).primary_key
    )
    rows = await (_plain_rows if plain else _rows)(session_factory, statement)
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key_column.key)].append(row)
    return [groups.get(key, []) for key in keys]
