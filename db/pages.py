"""One page of a list by id (keyset pagination), with the number of all matching rows counted only when
someone asks for it: most pages are read without their total, and counting every match of a filter
costs a second statement that grows with the table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from db.batch_reads import plain_reader
from db.driver import session_for_reads

__all__ = ["KeysetPage", "keyset_page"]

M = TypeVar("M")


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    """`rows`: up to `limit` + 1 of them, the extra one only telling that another page follows."""

    rows: Sequence[M]
    count: Callable[[], Awaitable[int]]


async def keyset_page(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[M],
    conditions: Sequence[ColumnElement[bool]],
    *,
    limit: int,
    beyond_id: int | None,
    newest_first: bool = False,
    joined: Sequence[Any] = (),
    plain: bool = False,
) -> KeysetPage[M]:
    """The rows of `model` matching `conditions` in id order (descending when `newest_first`), starting
    beyond `beyond_id` in that order, with the `joined` relationships loaded by the same statement; with
    `plain`, as plain rows of every mapped column (`db.batch_reads.rows_by_id`'s, each joined row in a
    field of its relationship's name), for callers whose readers read columns only: a page of objects
    costs each its state and identity-map entry."""
    key: Any = model.id  # type: ignore[attr-defined]
    page = list(conditions)
    if beyond_id is not None:
        page.append(key < beyond_id if newest_first else key > beyond_id)
    async with session_for_reads(session_factory) as session:
        selected, make = plain_reader(model, joined) if plain else (select(model), None)
        if not plain:
            selected = selected.options(*(joinedload(relation) for relation in joined))
        statement = selected.where(*page).order_by(key.desc() if newest_first else key).limit(limit + 1)
        if make is None:
            rows: Sequence[Any] = (await session.scalars(statement)).all()
        else:
            rows = [make(row) for row in await session.execute(statement)]

    async def count() -> int:
        async with session_for_reads(session_factory) as session:
            return int(await session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0)

    return KeysetPage(rows, count)
