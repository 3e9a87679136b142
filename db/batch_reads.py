"""Reading the rows of many keys in one statement: what a dataloader's batch does, by primary key or
grouped by a foreign key. ORM objects come from a short session of their own; plain rows (named tuples
of the columns, for readers that read columns only) from a connection, on PostgreSQL straight through
the driver (`db.driver`). Each statement is built once per shape and dialect."""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Select, inspect, null, select, type_coerce
from sqlalchemy.orm import joinedload
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.conditions import among_parameter
from db.driver import DriverStatement, RowShape, connection_for_reads, session_for_reads

__all__ = ["dialect_of", "every_column", "plain_reader", "plain_row_of", "plain_shape", "rows_by_id", "rows_grouped_by"]

M = TypeVar("M")


def every_column(model: type[Any], left_out: frozenset[str] = frozenset()) -> Select[Any]:
    """A select of every mapped column of `model`, each under its attribute's name: Core rows the
    columns' types convert exactly as they would fill an object, without the object, its state and its
    identity-map entry (`plain` below, for readers that read columns only). A column named in
    `left_out` is not read: a NULL of its type stands in its place."""
    return select(*_columns(model, left_out, lambda attribute: attribute.key))


def _columns(model: type[Any], left_out: frozenset[str], label: Callable[[Any], str]) -> list[Any]:
    """Every mapped column of `model` under `label(attribute)`, a NULL of its type for each of
    `left_out` (never the key: a joined row's key tells whether the outer join found one)."""
    mapper = inspect(model)
    if unknown := left_out.difference(attribute.key for attribute in mapper.column_attrs):
        raise ValueError(f"{model.__name__} has no columns {sorted(unknown)}")
    if keys := left_out.intersection(column.key for column in mapper.primary_key):
        raise ValueError(f"{model.__name__}'s key {sorted(keys)} is always read")
    return [
        type_coerce(null(), attribute.columns[0].type).label(label(attribute))
        if attribute.key in left_out
        else attribute.class_attribute.label(label(attribute))
        for attribute in mapper.column_attrs
    ]


@cache
def _plain_row(model: type[Any], joined: tuple[str, ...]) -> type[tuple[Any, ...]]:
    """The row a plain read gives for `model`: a named tuple of its mapped columns, read by attribute
    name like a Core row (and built for a fraction of its cost), then one field per `joined` relationship
    holding the related row (or None)."""
    names = [column.key for column in inspect(model).column_attrs]
    return namedtuple(f"{model.__name__}Row", [*names, *joined])  # type: ignore[misc]  # noqa: PYI024


@cache
def _plain_reader(
    model: type[Any], joined: tuple[str, ...], left_out: frozenset[str] = frozenset()
) -> tuple[Select[Any], RowShape]:
    """A select of every column of `model` and of each row a `joined` relationship names (a many-to-one
    or one-to-one, outer-joined), and the shape that makes the flat row it reads a `_plain_row` with the
    related rows in their fields. A path "a.b" joins the relationship b of the row joined as a, which
    then comes in the field b of that row. The columns named in `left_out` are read as NULLs: the
    model's by their names, a joined row's as "path.column" ("bill.total_amount")."""
    by_path: dict[str, set[str]] = defaultdict(set)
    for name in left_out:
        path, _, column = name.rpartition(".")
        by_path[path].add(column)
    if stray := set(by_path).difference(("", *joined)):
        raise ValueError(f"{model.__name__} joins no rows {sorted(stray)}")
    statement = every_column(model, frozenset(by_path[""])).select_from(model)
    width = len(inspect(model).column_attrs)
    # Per joined row: where its columns start and end in the flat row, where its key is, and its class.
    spans: dict[str, tuple[int, int, int, type[Any]]] = {}
    for path in joined:
        parent, _, name = path.rpartition(".")
        relation = getattr(spans[parent][3] if parent else model, name)
        target = inspect(relation.property.mapper.class_)
        attributes = list(target.column_attrs)
        key = [attribute.columns[0] for attribute in attributes].index(target.primary_key[0])
        # Labelled by path: the related tables' columns share names with the model's (their ids).
        prefix = path.replace(".", "__")
        statement = statement.add_columns(
            *_columns(target.class_, frozenset(by_path[path]), lambda attribute: f"{prefix}__{attribute.key}")
        ).outerjoin(relation)
        spans[path] = (width, width + len(attributes), width + key, target.class_)
        width += len(attributes)

    def shape(path: str, kind: type[Any], start: int, end: int) -> RowShape:
        children = [child for child in joined if child.rpartition(".")[0] == path]
        return RowShape(
            _plain_row(kind, tuple(child.rpartition(".")[2] for child in children)),
            tuple(range(start, end)),
            # No key: the outer join found no related row.
            tuple((spans[child][2], shape(child, spans[child][3], *spans[child][:2])) for child in children),
        )

    return statement, shape("", model, 0, len(inspect(model).column_attrs))


def plain_row_of(row: Any, relation: str) -> Any:
    """The row `relation` names as it came with `row`: a plain row's field, or an ORM object's loaded
    relationship; None when it did not come with it (an ORM relationship is never loaded here)."""
    return getattr(row, relation) if isinstance(row, tuple) else row.__dict__.get(relation)


# Built once per loader shape and dialect: building a statement (and SQLAlchemy compiling its cache key)
# cost more than running it, once per batch of every loader of every request.
# Keyed by attribute names, not attributes: an attribute's `==` builds SQL instead of comparing.
@cache
def _by_id_statement(dialect: str, model: type[Any], joined: tuple[str, ...], plain: bool) -> Any:
    if plain:
        return DriverStatement(_plain_reader(model, joined)[0].where(among_parameter(dialect, model.id, "keys")))
    if any("." in path for path in joined):
        raise ValueError("rows joined onto joined rows are read as plain rows only")
    relations = (joinedload(getattr(model, name)) for name in joined)
    return select(model).where(among_parameter(dialect, model.id, "keys")).options(*relations)


@cache
def _grouped_statement(dialect: str, model: type[Any], key: str, order_by: str, plain: bool, joined: tuple[str, ...]) -> Any:
    selected = _plain_reader(model, joined)[0] if plain else select(model)
    # The primary key breaks ties, so rows sharing an `order_by` value come in a stable order.
    statement = selected.where(among_parameter(dialect, getattr(model, key), "keys")).order_by(
        getattr(model, order_by), *inspect(model).primary_key
    )
    return DriverStatement(statement) if plain else statement


def dialect_of(session_factory: async_sessionmaker[AsyncSession]) -> str:
    """The name of the dialect `session_factory`'s sessions speak ("" when it is bound to nothing)."""
    bind = session_factory.kw.get("bind")
    return bind.dialect.name if bind is not None else ""


async def _objects(session_factory: async_sessionmaker[AsyncSession], statement: Select[Any], keys: list[int]) -> Sequence[Any]:
    async with session_for_reads(session_factory) as session:
        return (await session.scalars(statement, {"keys": keys})).all()


async def _plain_rows(
    session_factory: async_sessionmaker[AsyncSession],
    model: type[Any],
    statement: DriverStatement,
    keys: list[int],
    joined: tuple[str, ...] = (),
) -> list[Any]:
    """The statement's rows as `_plain_row`s, sent straight to the driver (`db.driver`): a batch
    of a loader is one statement whose rows need no object, and SQLAlchemy's execution layers around it
    cost more than the statement itself."""
    shape = _plain_reader(model, joined)[1]
    async with connection_for_reads(session_factory) as connection:
        return await statement.rows(connection, {"keys": keys}, shape)


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
    (`every_column`), each joined relationship's row in a field of its name (many-to-one and one-to-one
    relationships only; `plain_row_of` reads it from either kind of row)."""
    names = _paths(model, joined)
    statement = _by_id_statement(dialect_of(session_factory), model, names, plain)
    if plain:
        rows: Sequence[Any] = await _plain_rows(session_factory, model, statement, ids, names)
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
    joined: Sequence[Any] = (),
) -> list[list[Any]]:
    """The `model` rows whose `key_column` equals each key, in the order of the column `order_by`; with
    `plain`, as plain rows of every column (`every_column`), each `joined` relationship's row in a field
    of its name (as `rows_by_id` joins them; plain rows only)."""
    if joined and not plain:
        raise ValueError("grouped rows join their relationships as plain rows only")
    names = _paths(model, joined)
    statement = _grouped_statement(dialect_of(session_factory), model, key_column.key, order_by.key, plain, names)
    if plain:
        rows: Sequence[Any] = await _plain_rows(session_factory, model, statement, keys, names)
    else:
        rows = await _objects(session_factory, statement, keys)
    groups: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key_column.key)].append(row)
    return [groups.get(key, []) for key in keys]


def plain_reader(
    model: type[Any], joined: Sequence[Any], left_out: frozenset[str] = frozenset()
) -> tuple[Select[Any], Callable[[Sequence[Any]], Any]]:
    """A select of every column of `model` and of the rows its `joined` relationships name, and the
    function that makes each row it reads a plain row (as `rows_by_id` gives them). A relationship of a
    row joined before it is joined onto that row: (Bill.unit, Unit.building) gives each bill its unit in
    `unit`, and the unit its building in `building`, as the unit loader gives units. The columns named
    in `left_out` are read as NULLs (`plain_shape`)."""
    statement, shape = plain_shape(model, joined, left_out)
    return statement, shape.make


def plain_shape(
    model: type[Any], joined: Sequence[Any], left_out: frozenset[str] = frozenset()
) -> tuple[Select[Any], RowShape]:
    """`plain_reader`'s select, and the shape that makes its rows plain rows: given to
    `DriverStatement.rows`, the driver's records become plain rows in one step each. The columns named
    in `left_out` are not read: their fields hold None (a joined row's named "path.column", as
    `_plain_reader` says)."""
    return _plain_reader(model, _paths(model, joined), left_out)


def _paths(model: type[Any], joined: Sequence[Any]) -> tuple[str, ...]:
    """Each relationship of `joined` as the path of rows it hangs from ("unit.building")."""
    paths: list[str] = []
    targets: dict[type[Any], str] = {model: ""}
    for relation in joined:
        parent = targets[relation.class_]
        path = f"{parent}.{relation.key}" if parent else relation.key
        paths.append(path)
        targets.setdefault(relation.property.mapper.class_, path)
    return tuple(paths)
