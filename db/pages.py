"""One page of a list by id (keyset pagination), with the number of all matching rows counted only when
someone asks for it: most pages are read without their total, and counting every match of a filter
costs a second statement that grows with the table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from db.batch_reads import dialect_of, plain_reader, plain_shape
from db.driver import DriverStatement, RowShape, connection_for_reads, session_for_reads

__all__ = ["KeysetPage", "keyset_page", "parametrized_keyset_page"]

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


@dataclass(frozen=True)
class _PageStatements:
    rows: DriverStatement
    shape: RowShape
    count: Select[Any]


# Per dialect, model, joined relationships, shape of the conditions, order and whether the page starts
# beyond a row: a list's statement built once, like a loader's (`db.batch_reads`), its values given per
# request. The shapes are the few combinations of filters the callers have.
_page_statements: dict[tuple[Any, ...], _PageStatements] = {}


async def parametrized_keyset_page(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[M],
    *,
    shape: Hashable,
    conditions: Callable[[str], Sequence[ColumnElement[bool]]],
    values: Mapping[str, Any],
    limit: int,
    beyond_id: int | None,
    newest_first: bool = False,
    joined: Sequence[Any] = (),
    left_out: frozenset[str] = frozenset(),
) -> KeysetPage[M]:
    """`keyset_page(..., plain=True)` for conditions whose values are all parameters: `conditions(dialect)`
    builds them with a bound parameter for each value of `values` (`db.conditions.among_parameter` for a
    list), the same SQL for every request of the same `shape`. The statement is then built once and sent
    to the driver (`db.driver`): building a page's statement, SQLAlchemy's cache key of it and the ORM
    execution around it cost more CPU than the rest of a small page. The columns named in `left_out` (the
    `model`'s by name, a joined row's as "path.column") are not read: their fields hold None, so such
    rows are for the page's own readers only, never for a loader's cache."""
    dialect = dialect_of(session_factory)
    # Relationships by name: an attribute's `==` builds SQL instead of comparing.
    names = tuple(f"{relation.class_.__name__}.{relation.key}" for relation in joined)
    key = (dialect, model, names, shape, newest_first, beyond_id is not None, left_out)
    statements = _page_statements.get(key)
    if statements is None:
        statements = _page_statements[key] = _build_page_statements(
            model, conditions(dialect), joined=joined, newest_first=newest_first, beyond=beyond_id is not None,
            left_out=left_out,
        )
    given = {**values, "page_limit": limit + 1, "page_beyond": beyond_id}
    async with connection_for_reads(session_factory) as connection:
        rows = await statements.rows.rows(connection, given, statements.shape)

    async def count() -> int:
        async with session_for_reads(session_factory) as session:
            return int(await session.scalar(statements.count, dict(values)) or 0)

    return KeysetPage(rows, count)


def _build_page_statements(
    model: type[Any],
    conditions: Sequence[ColumnElement[bool]],
    *,
    joined: Sequence[Any],
    newest_first: bool,
    beyond: bool,
    left_out: frozenset[str],
) -> _PageStatements:
    key: Any = model.id  # type: ignore[attr-defined]
    page = list(conditions)
    if beyond:
        after = bindparam("page_beyond", type_=key.type)
        page.append(key < after if newest_first else key > after)
    selected, shape = plain_shape(model, joined, left_out)
    statement = (
        selected.where(*page)
        .order_by(key.desc() if newest_first else key)
        .limit(bindparam("page_limit", type_=Integer()))
    )
    return _PageStatements(DriverStatement(statement), shape, select(func.count()).select_from(model).where(*conditions))

