"""Reading the rows of many keys in one statement, in a short session of its own: what a dataloader's
batch does, by primary key or grouped by a foreign key."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, inspect, select
from sqlalchemy.orm import joinedload
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

__all__ = ["rows_by_id", "rows_grouped_by"]

M = TypeVar("M")


async def _rows(session_factory: async_sessionmaker[AsyncSession], statement: Select[Any]) -> Sequence[Any]:
    async with session_factory() as session:
        return (await session.scalars(statement)).all()


async def rows_by_id(
    session_factory: async_sessionmaker[AsyncSession], model: type[M], ids: list[int], *, joined: Sequence[Any] = ()
) -> list[M | None]:
    """One `model` row per id, in the order asked (None for an id that does not exist), with the
    `joined` relationships loaded by the same statement."""
    statement = select(model).where(model.id.in_(ids)).options(*(joinedload(relation) for relation in joined))  # type: ignore[attr-defined]
    found = {row.id: row for row in await _rows(session_factory, statement)}
    return [found.get(key) for key in ids]


async def rows_grouped_by(
    session_factory: async_sessionmaker[AsyncSession], model: type[M], key_column: Any, keys: list[int], *, order_by: Any
) -> list[list[M]]:
    """The `model` rows whose `key_column` equals each key, in `order_by` order."""
    # The primary key breaks ties, so rows sharing an `order_by` value come in a stable order.
    statement = select(model).where(key_column.in_(keys)).order_by(order_by, *inspect(model).primary_key)
    groups: dict[int, list[M]] = defaultdict(list)
    for row in await _rows(session_factory, statement):
        groups[getattr(row, key_column.key)].append(row)
    return [groups.get(key, []) for key in keys]
