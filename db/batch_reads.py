"""Reading the rows of many keys in one statement, in a short session of its own: what a dataloader's
batch does, by primary key or grouped by a foreign key."""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, any_, bindparam, inspect, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import joinedload
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.driver import DriverStatement, connection_for_reads, session_for_reads

__all__ = ["every_column", "rows_by_id", "rows_grouped_by"]

M = TypeVar("M")


def every_column(model: type[Any]) -> Select[Any]:
    """A select of every mapped column of `model`, each under its attribute's name: Core rows the
    columns' types convert exactly as they would fill an object, without the object, its state and its
    identity-map entry (`plain` below, for readers that read columns only)."""
    return select(*(column.class_attribute for column in inspect(model).column_attrs))


@cache
def _plain_row(model: type[Any]) -> type[tuple[Any, ...]]:
    """The row a plain read gives for `model`: a named tuple of its mapped columns, read by attribute
    name like a Core row (and built for a fraction of its cost)."""
    return namedtuple(f"{model.__name__}Row", [column.key for column in inspect(model).column_attrs])  # type: ignore[misc]  # noqa: PYI024


def _among(dialect: str, column: Any) -> ColumnElement[bool]:
    """`column` among the values of the parameter `keys`: on PostgreSQL `column = ANY(:keys)`, one array
    parameter, so the statement's text is the same for every number of keys (an IN list is a new text,
    which asyncpg prepares anew, for every length); elsewhere an expanding IN list."""
    if dialect == "postgresql":
        return column == any_(bindparam("keys", type_=ARRAY(column.type)))
    return column.in_(bindparam("keys", expanding=True))  # type: ignore[no-any-return]


# Built once per loader shape and dialect: building a statement (and SQLAlchemy compiling its cache key)
# cost more than running it, once per batch of every loader of every request.
# Keyed by attribute names, not attributes: an attribute's `==` builds SQL instead of comparing.
@cache
def _by_id_statement(dialect: str, model: type[Any], joined: tuple[str, ...], plain: bool) -> Any:
    if plain:
        return DriverStatement(every_column(model).where(_among(dialect, model.id)))
    relations = (joinedload(getattr(model, name)) for name in joined)
    return select(model).where(_among(dialect, model.id)).options(*relations)


@cache
def _grouped_statement(dialect: str, model: type[Any], key: str, order_by: str, plain: bool) -> Any:
    selected = every_column(model) if plain else select(model)
    # The primary key breaks ties, so rows sharing an `order_by` value come in a stable order.
    statement = selected.where(_among(dialect, getattr(model, key))).order_by(
        getattr(model, order_by), *inspect(model).primary_key
    )
    return DriverStatement(statement) if plain else statement


def _dialect(session_factory: async_sessionmaker[AsyncSession]) -> str:
    bind = session_factory.kw.get("bind")
    return bind.dialect.name if bind is not None else ""


async def _objects(session_factory: async_sessionmaker[AsyncSession], statement: Select[Any], keys: list[int]) -> Sequence[Any]:
    async with session_for_reads(session_factory) as session:
        return (await session.scalars(statement, {"keys": keys})).all()


async def _plain_rows(
    session_factory: async_sessionmaker[AsyncSession], model: type[Any], statement: DriverStatement, keys: list[int]
) -> list[Any]:
    """The statement's rows as `_plain_row`s, sent straight to PostgreSQL's driver (`db.driver`): a batch
    of a loader is one statement whose rows need no object, and SQLAlchemy's execution layers around it
    cost more than the statement itself."""
    make = _plain_row(model)._make
    async with connection_for_reads(session_factory) as connection:
        return [make(row) for row in await statement.rows(connection, {"keys": keys})]


async def rows_by_id(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[M],
    ids: list[int],
    *,
    joined: Sequence[Any] = (),
    plain: bool = False,
) -> list[Any]:
    """One `model` row per id, in the order asked (None for an id that does not exist), with the
    `joined` relationships loaded by the same statement; with `plain`, as plain rows of every column
    (`every_column`)."""
    if plain and joined:
        raise ValueError("plain rows carry no relationships to join")
    statement = _by_id_statement(_dialect(session_factory), model, tuple(relation.key for relation in joined), plain)
    if plain:
        rows: Sequence[Any] = await _plain_rows(session_factory, model, statement, ids)
    else:
        rows = await _objects(session_factory, statement, ids)
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
    """The `model` rows whose `key_column` equals each key, in the order of the column `order_by`; with
    `plain`, as plain rows of every column (`every_column`)."""
    statement = _grouped_statement(_dialect(session_factory), model, key_column.key, order_by.key, plain)
    if plain:
        rows: Sequence[Any] = await _plain_rows(session_factory, model, statement, keys)
    else:
        rows = await _objects(session_factory, statement, keys)
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key_column.key)].append(row)
    return [groups.get(key, []) for key in keys]
