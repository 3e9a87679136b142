"""Statements sent straight to the database's driver (asyncpg, aiosqlite), past SQLAlchemy's execution layers.

SQLAlchemy spends two to three times the CPU of the statement itself around each one it runs (cache
key, execution context, cursor adapter, result object, a greenlet hop): about 150 µs a statement on the
development machine. Paths that run for every request or every payment (the caller's principal, a
payment's booking) send theirs to the driver instead, as a `DriverStatement`: a Core statement compiled
once per dialect, its values converted by the column types' own bind processors and its rows by their
result processors, so callers get the values a Core execution would give.

On PostgreSQL, SQLAlchemy's asyncpg adapter sends BEGIN with the first statement of a transaction, and
commits only a transaction it began: a transaction's first statement has the adapter begin it
(`_begin_on_driver`), then goes to the driver like the others. On SQLite a Core statement costs about
five trips to the thread aiosqlite runs the driver in; the short path sends it with one
(`_rows_on_aiosqlite`), on the same driver connection, so it runs in whatever transaction that
connection is in, and SQLite's driver begins none for a statement that only reads.

The engine's `before_cursor_execute` event does not see what goes to the driver; `listen_to_driver`
does (tests and benchmarks count statements with both). Errors arrive as the driver raises them, with
the SQLSTATE in `sqlstate` (`db.unit_of_work` reads it); SQLite's, as a Core execution raises them.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

import asyncpg
from sqlalchemy import Enum, Executable, Float, Numeric, TypeDecorator
from sqlalchemy.exc import DBAPIError
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.util.concurrency import greenlet_spawn

from db.session import returns_without_io

__all__ = [
    "DriverStatement",
    "RowShape",
    "connection_for_reads",
    "driver_connection",
    "flush_pending",
    "listen_to_driver",
    "notify_driver_statement",
    "session_connection",
    "session_for_reads",
]

_listeners: list[Callable[[str], None]] = []


@contextmanager
def listen_to_driver(listener: Callable[[str], None]) -> Iterator[None]:
    """Call `listener` with the SQL of each statement sent to the driver while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def notify_driver_statement(sql: str) -> None:
    """Tell the listeners a statement goes to the driver (for code that sends its own, e.g. COPY)."""
    for listener in _listeners:
        listener(sql)


async def driver_connection(connection: AsyncConnection) -> Any | None:
    """The asyncpg connection under `connection`, when a statement sent on it runs where a Core statement
    would: PostgreSQL, and the transaction SQLAlchemy began (if any) already begun on the driver. None
    otherwise: send the statement through SQLAlchemy."""
    if connection.dialect.name != "postgresql":
        return None
    pooled = await _pooled_connection(connection)
    driver = pooled.driver_connection
    if connection.in_transaction() and not driver.is_in_transaction():
        await _begin_on_driver(pooled.dbapi_connection)
        if not driver.is_in_transaction():
            return None
    return driver


async def _pooled_connection(connection: AsyncConnection) -> Any:
    established = connection.sync_connection
    if established is not None and not established.invalidated:
        # Reading the pooled connection of an established one does no I/O: no greenlet hop needed.
        return established.connection
    return await connection.get_raw_connection()


async def _begin_on_driver(adapted: Any) -> None:
    """Begin the transaction SQLAlchemy began on `adapted` (its asyncpg adapter), which sends BEGIN only
    with the first statement that goes through it, so that a transaction's first statement can go to the
    driver too. The adapter begins as it would itself (its isolation level, under its lock); an adapter
    without that step (another SQLAlchemy release) leaves the statement to SQLAlchemy."""
    start = getattr(adapted, "_start_transaction", None)
    lock = getattr(adapted, "_execute_mutex", None)
    if start is None or lock is None:
        return
    async with lock:
        if getattr(adapted, "_transaction", None) is None:
            await start()


_HELD_CONNECTION = "courtyard.held_connection"


async def session_connection(session: AsyncSession) -> AsyncConnection:
    """`session.connection()`, without its greenlet hop (about 15 µs) once the session's transaction holds
    its connection: a payment's steps each ask for it. A transaction keeps its connection until it ends."""
    transaction = session.sync_session.get_transaction()
    held = session.info.get(_HELD_CONNECTION)
    if held is not None and transaction is not None and held[0] is transaction:
        return held[1]  # type: ignore[no-any-return]
    connection = await session.connection()
    session.info[_HELD_CONNECTION] = (session.sync_session.get_transaction(), connection)
    return connection


async def flush_pending(session: AsyncSession) -> None:
    """Write what the caller changed through the session before statements sent past it read; nothing
    to write costs no greenlet hop."""
    if session.new or session.dirty or session.deleted:
        await session.flush()


@asynccontextmanager
async def connection_for_reads(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncConnection]:
    """A connection of `sessions`' engine for reads that need no transaction around them (one statement
    reads a consistent snapshot by itself): on PostgreSQL a `DriverStatement` on it sends no BEGIN and
    no ROLLBACK, only itself. A factory bound to something other than an engine gives a session's."""
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine):
        connection = await bind.connect()
        try:
            yield connection
        finally:
            await _close_read_connection(connection)
        return
    async with sessions() as session:
        yield await session.connection()


async def _close_read_connection(connection: AsyncConnection) -> None:
    """Return a connection of `connection_for_reads` to its pool. Closing as its context does runs the
    close in a task of its own, so that a cancellation cannot stop it halfway through its I/O: that task
    costs ~20 µs of CPU, half of a read's connection on PostgreSQL. A connection that took no
    transaction and goes back to its pool without I/O (`db.session.returns_without_io`) has nothing to
    interrupt: it closes in place."""
    established = connection.sync_connection
    if (
        established is None
        or established.invalidated
        or established.in_transaction()
        or not returns_without_io(connection.engine, established.connection)
    ):
        await connection.__aexit__(None, None, None)
        return
    await greenlet_spawn(established.close)


# Keyed by the engine a factory is bound to; the value refers to the sync engine under it, not to the key.
_autocommit_engines: weakref.WeakKeyDictionary[AsyncEngine, AsyncEngine] = weakref.WeakKeyDictionary()


def session_for_reads(sessions: async_sessionmaker[AsyncSession]) -> AsyncSession:
    """A session of `sessions` for reads that need no transaction around them: on PostgreSQL its
    connection runs in autocommit, so a one-statement read costs one round trip instead of three (BEGIN,
    the statement, ROLLBACK). What the reads see does not change: PostgreSQL reads at READ COMMITTED,
    where every statement takes a snapshot of its own inside a transaction too, and SQLite's driver
    begins no transaction for a SELECT. Only for sessions that never write. A factory bound to something
    other than an engine (a test's connection) gives its own sessions."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "postgresql":
        return sessions()
    autocommit = _autocommit_engines.get(bind)
    if autocommit is None:
        # The same pool: the isolation level is set on checkout and reset on return, both without I/O.
        autocommit = _autocommit_engines[bind] = bind.execution_options(isolation_level="AUTOCOMMIT")
    return sessions(bind=autocommit)


# PostgreSQL's type codes of the columns a numeric type creates: float8 for Float, numeric otherwise.
_FLOAT8, _NUMERIC = 701, 1700


class _EnumMembers(dict[Any, Any]):
    """An enum column's stored values and the members they stand for, read with `[]` (one dict look-up
    per value instead of SQLAlchemy's two calls); a value not among them goes to SQLAlchemy's own
    conversion, which raises the error it always has."""

    def __init__(self, members: Mapping[Any, Any], convert: Callable[[Any], Any]) -> None:
        super().__init__(members)
        self._convert = convert

    def __missing__(self, value: Any) -> Any:
        return self._convert(value)


def _result_processor(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | _EnumMembers | None:
    """The conversion SQLAlchemy would apply to a value of `type_` in a result row. The asyncpg dialect
    picks a numeric type's by the column's type code, which only a run statement tells: it is the code of
    the column the type creates (asyncpg gives float for float8, Decimal for numeric). An enum's is its
    table of members, where that table gives every stored value the member SQLAlchemy's gives it."""
    stored = type_.impl_instance if isinstance(type_, TypeDecorator) else type_
    if isinstance(stored, (Numeric, Float)):
        return type_._cached_result_processor(dialect, _FLOAT8 if isinstance(stored, Float) else _NUMERIC)  # type: ignore[no-any-return]
    convert = type_._cached_result_processor(dialect, None)
    if isinstance(type_, Enum) and convert is not None:
        lookup = getattr(type_, "_object_lookup", None) or {}
        members = {value: member for value, member in lookup.items() if value is not None}
        if members and all(convert(value) is member for value, member in members.items()):
            return _EnumMembers(members, convert)
    return convert  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class RowShape:
    """What a statement's flat row is made into: `kind` (a named tuple, or tuple) of the values at the
    positions `columns`, then one value per `joined` row: None where the value at its key's position is
    None (an outer join that found no row), else that row made by its own shape. Compared by identity:
    a shape is built once, and the code that reads it is kept per shape (`_Compiled.reader`)."""

    kind: type[tuple[Any, ...]]
    columns: tuple[int, ...]
    joined: tuple[tuple[int, RowShape], ...] = ()

    @cached_property
    def make(self) -> Callable[[Sequence[Any]], Any]:
        """The function that makes the row of a flat row's values as they are (a Core row's, converted)."""
        return _row_reader(self, _width(self), [])


def _width(shape: RowShape) -> int:
    return max([*shape.columns, *(max(key, _width(inner) - 1) for key, inner in shape.joined)]) + 1


def _row_reader(shape: RowShape | None, width: int, converters: Sequence[Any]) -> Callable[[Sequence[Any]], Any]:
    """A function from a driver's record of `width` values to the row `shape` makes of them (a plain
    tuple without a shape), each value converted by its column's converter (none: as it is; None stays
    None). Written out as Python once per statement and shape: one step per row, the record unpacked into
    locals and each value converted in place, where a loop over the converters, a list, a tuple and the
    named tuples built from slices of it cost a Python call or more per value."""
    if shape is None and not any(converter is not None for converter in converters):
        return tuple
    names: dict[str, Any] = {"_new": tuple.__new__}

    def value(place: int) -> str:
        converter = converters[place] if place < len(converters) else None
        if converter is None:
            return f"c{place}"
        name = f"p{place}"
        names[name] = converter
        call = f"{name}[c{place}]" if isinstance(converter, _EnumMembers) else f"{name}(c{place})"
        return f"(None if c{place} is None else {call})"

    def build(part: RowShape) -> str:
        values = [value(place) for place in part.columns]
        values += [f"(None if c{key} is None else {build(inner)})" for key, inner in part.joined]
        kind = f"k{len(names)}"
        names[kind] = part.kind
        return f"_new({kind}, ({', '.join(values)},))"

    made = build(shape) if shape is not None else f"({', '.join(value(place) for place in range(width))},)"
    source = f"def read(record):\n    {', '.join(f'c{place}' for place in range(width))}, = record\n    return {made}\n"
    exec(compile(source, "<row reader>", "exec"), names)  # noqa: S102
    return names["read"]  # type: ignore[no-any-return]


class _Compiled:
    """A statement compiled for one dialect (and one length of each expanding IN list)."""

    __slots__ = ("_readers", "arguments", "results", "row", "sql", "writes")

    def __init__(self, statement: Executable, dialect: Dialect, lengths: Mapping[str, int]) -> None:
        expanded = statement
        if lengths:
            # Rendering the expanded lists asks every parameter for a value: the other named ones get a
            # stand-in, which no run sends (their values are given under their names).
            stand_ins = {name: None for name, bind in statement.compile(dialect=dialect).binds.items() if bind.required}
            expanded = statement.params({**stand_ins, **{name: [None] * length for name, length in lengths.items()}})
        compiled = expanded.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql: str = compiled.string
        self.writes = compiled.isinsert or compiled.isupdate or compiled.isdelete
        # Each positional argument: the name its value is given under (None: the statement's own value), its
        # position in an expanded list (or None), the statement's own value, and its type's bind processor.
        self.arguments: list[tuple[str | None, int | None, Any, Callable[[Any], Any] | None]] = []
        for name in compiled.positiontup or ():
            position = None
            if name not in compiled.binds or name in lengths:
                name, _, place = name.rpartition("_")  # an expanded list names its values name_1, name_2, …
                position = int(place) - 1
            bind = compiled.binds[name]
            given = name if bind.key == name else None  # anonymous: a value written into the statement
            processor = bind.type._cached_bind_processor(dialect)
            self.arguments.append((given, position, None if given else bind.effective_value, processor))
        # Each column's converter: None for most of a row's values (ids, text, times come as they are).
        self.results: list[Any] = [_result_processor(column[3], dialect) for column in compiled._result_columns]
        self._readers: dict[RowShape, Callable[[Sequence[Any]], Any]] = {}
        # A driver's record as the tuple of its converted values.
        self.row: Callable[[Sequence[Any]], tuple[Any, ...]] = _row_reader(None, len(self.results), self.results)

    def values(self, given: Mapping[str, Any]) -> list[Any]:
        arguments = []
        for name, position, own, process in self.arguments:
            value = own if name is None else given[name] if position is None else given[name][position]
            arguments.append(value if process is None or value is None else process(value))
        return arguments

    def reader(self, shape: RowShape | None) -> Callable[[Sequence[Any]], Any]:
        """A driver's record, converted, as `shape` makes it (as `row` without a shape)."""
        if shape is None:
            return self.row
        read = self._readers.get(shape)
        if read is None:
            read = self._readers[shape] = _row_reader(shape, len(self.results), self.results)
        return read


async def _rows_on_aiosqlite(
    connection: AsyncConnection, compiled: _Compiled, values: Mapping[str, Any], shape: RowShape | None
) -> list[Any]:
    """`compiled`'s rows from SQLite's driver in one trip to its thread, on the connection's own driver
    connection: inside SQLAlchemy's transaction (a unit of work's `BEGIN IMMEDIATE`) the statement runs in
    it, as a Core statement would. A failure is the error a Core execution raises."""
    pooled = await _pooled_connection(connection)
    adapted = pooled.dbapi_connection
    arguments = compiled.values(values)
    notify_driver_statement(compiled.sql)
    dialect = connection.dialect
    dbapi = dialect.loaded_dbapi
    try:
        try:
            # The adapter's own cursors hold this lock from execute to fetch: no statement runs between.
            async with adapted._execute_mutex:
                records = await pooled.driver_connection.execute_fetchall(compiled.sql, arguments)
        except Exception as error:
            adapted._handle_exception(error)  # as the adapter raises it (a closed connection: OperationalError)
    except dbapi.Error as error:
        invalidated = dialect.is_disconnect(error, pooled, None)
        if invalidated:
            await connection.invalidate()
        raise DBAPIError.instance(
            compiled.sql, arguments, error, dbapi.Error, connection_invalidated=invalidated, dialect=dialect
        ) from error
    read = compiled.reader(shape)
    return [read(record) for record in records]


class DriverStatement:
    """A Core statement run on the driver where it can be (see the module docstring). Its expanding IN
    lists (found in the statement, per dialect) are compiled once per length, the most recent few dozen
    lengths kept."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled = lru_cache(maxsize=64)(self._compile)
        self._expanding_by_dialect: dict[str, tuple[str, ...]] = {}

    def _compile(self, dialect: Dialect, lengths: tuple[tuple[str, int], ...]) -> _Compiled:
        return _Compiled(self.statement, dialect, dict(lengths))

    def _lengths(self, dialect: Dialect, values: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
        expanding = self._expanding_by_dialect.get(dialect.name)
        if expanding is None:
            # A dialect may render one condition as an expanding list and another as an array parameter
            # (`db.conditions.among_parameter`), so which lists expand is read from each dialect's compilation.
            binds = self.statement.compile(dialect=dialect).binds
            expanding = self._expanding_by_dialect[dialect.name] = tuple(name for name, bind in binds.items() if bind.expanding)
        return tuple((name, len(values[name])) for name in expanding)

    async def rows(self, connection: AsyncConnection, values: Mapping[str, Any], shape: RowShape | None = None) -> list[Any]:
        """The statement's rows (model values, as a Core execution gives them), as tuples or, given a
        `shape`, as the rows it makes of them."""
        dialect = connection.dialect
        if dialect.name == "sqlite":
            compiled = self._compiled(dialect, self._lengths(dialect, values))
            # Outside SQLAlchemy's transaction only a statement that writes nothing: one that writes has
            # SQLite's driver begin a transaction that SQLAlchemy, which began none, would never commit.
            if compiled.writes and not connection.in_transaction():
                return await self._rows_on_core(connection, values, shape)
            return await _rows_on_aiosqlite(connection, compiled, values, shape)
        driver = await driver_connection(connection)
        if driver is None:
            return await self._rows_on_core(connection, values, shape)
        compiled = self._compiled(dialect, self._lengths(dialect, values))
        notify_driver_statement(compiled.sql)
        try:
            records = await driver.fetch(compiled.sql, *compiled.values(values))
        except (OSError, TimeoutError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError) as error:
            if not driver.is_closed() and not isinstance(error, (OSError, TimeoutError)):
                raise
            # What SQLAlchemy does with a connection lost under a statement: the pool drops it, and the
            # error says so (`schema.faults.database_unavailable` answers SERVICE_UNAVAILABLE for it).
            await connection.invalidate()
            raise DBAPIError(compiled.sql, None, error, connection_invalidated=True) from error
        read = compiled.reader(shape)
        return [read(record) for record in records]

    async def _rows_on_core(self, connection: AsyncConnection, values: Mapping[str, Any], shape: RowShape | None) -> list[Any]:
        make = tuple if shape is None else shape.make
        return [make(row) for row in await connection.execute(self.statement, dict(values))]

    async def scalar(self, connection: AsyncConnection, values: Mapping[str, Any]) -> Any:
        """The first column of the first row, None without rows."""
        rows = await self.rows(connection, values)
        return rows[0][0] if rows else None
