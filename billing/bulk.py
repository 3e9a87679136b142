"""Reads and inserts of many rows inside the caller's transaction: the driver's own rows for reads, COPY
on PostgreSQL (a prepared INSERT for a few rows) and executemany on SQLite for inserts.

Records hold storage values, not model values: integer fen and scaled integers, `date`, UTC-aware
`datetime`, `str`, `bool`, None. Row ids come from `reserve_ids`, so nothing needs RETURNING.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Date, DateTime, Executable, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

from db.driver import driver_connection, notify_driver_statement, session_connection

__all__ = ["BulkConnection", "IdPool", "TableRows", "bulk_connection", "dialect_insert"]

Record = tuple[Any, ...]


@dataclass(frozen=True)
class TableRows:
    """Records for one table, values in `columns` order: new rows, or with `key` (one of the columns)
    stored rows whose other columns take the record's values.

    New rows whose primary key is stored already may instead be merged into the stored row: with
    `on_conflict` "add" its other columns are added to the stored ones (running sums), with "replace"
    they take the record's values. With `delete` the records name stored rows to delete by their primary
    key (`columns` are its columns). The rows one `write_together` deletes and those it inserts or merges
    must differ: on PostgreSQL they are one statement, whose parts do not see one another's changes."""

    table: Table
    columns: Sequence[str]
    records: Sequence[Record]
    key: str | None = None
    on_conflict: Literal["add", "replace"] | None = None
    delete: bool = False

    @property
    def inserts(self) -> bool:
        return self.key is None and not self.delete


class BulkConnection(ABC):
    """Reserves primary keys, reads and writes rows with the connection of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def reserve_ids(self, table: Table, count: int) -> list[int]:
        """`count` fresh ids for `table`'s integer primary key, never handed out again."""
        return (await self.reserve_id_blocks({table: count}))[table]

    @abstractmethod
    async def reserve_id_blocks(self, counts: Mapping[Table, int]) -> dict[Table, list[int]]:
        """`reserve_ids` for several tables in one statement: each table's count of fresh ids."""

    @abstractmethod
    async def count_and_reserve(
        self, counter: Table, key: Mapping[str, Any], count: int, ids: Mapping[Table, int]
    ) -> tuple[int | None, dict[Table, list[int]]]:
        """Add `count` to the `value` of `counter`'s row that `key` names (its columns and values), and
        `reserve_id_blocks(ids)`, in one statement where the database allows: the counter's new value
        (None when the row does not exist) and the ids. The counter's row stays locked until commit."""

    @abstractmethod
    async def reserve_consecutive_ids(self, table: Table, count: int) -> int:
        """The first of `count` consecutive fresh ids for `table`, for rows written by INSERT … SELECT
        (their ids computed in SQL); until the transaction ends, nothing else inserts into `table`."""

    async def fetch(self, statement: Executable) -> Sequence[Sequence[Any]]:
        """The rows of a Core `statement` as plain sequences of the driver's values (result types are
        not applied), for reads of many rows."""
        connection = await self.session.connection()
        return list(await connection.execute(statement))

    @abstractmethod
    async def write(self, table: Table, columns: Sequence[str], records: Sequence[Record]) -> None:
        """Insert `records` (values in `columns` order); omitted columns take their server defaults."""

    @abstractmethod
    async def write_together(self, changes: Sequence[TableRows]) -> None:
        """Insert or update each table's rows, in order (rows before the rows that reference them), in
        one statement where the database allows it."""


class IdPool:
    """Primary keys of one table reserved ahead in blocks, so that batches need no round trip for theirs."""

    def __init__(self, writer: BulkConnection, table: Table, *, block: int) -> None:
        self._writer = writer
        self._table = table
        self._block = block
        self._ids: list[int] = []

    async def take(self, count: int) -> list[int]:
        if len(self._ids) < count:
            self._ids.extend(await self._writer.reserve_ids(self._table, max(count - len(self._ids), self._block)))
        taken = self._ids[:count]
        del self._ids[:count]
        return taken


# COPY waits for the server to accept the data before sending it: two round trips. A prepared INSERT's
# rows go in one, and cost no more CPU until there are a few dozen of them (a desk payment writes one to
# six rows a table; a batch or a bill run thousands).
_COPY_FROM = 50
# Past this many rows of one table, `write_together` copies each table's rows rather than sending them as
# arrays in one statement.
_COPY_ALONE = 5_000


class PostgresBulk(BulkConnection):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._driver_connection: Any = None

    async def _driver(self) -> Any:
        # The session keeps its connection until the transaction ends, and so does this writer. The
        # transaction is begun on the driver, if nothing has begun it yet, before the writer's statements.
        if self._driver_connection is None:
            connection = await session_connection(self.session)
            driver = await driver_connection(connection)
            self._driver_connection = driver if driver is not None else (await connection.get_raw_connection()).driver_connection
        return self._driver_connection

    async def fetch(self, statement: Executable) -> Sequence[Sequence[Any]]:
        connection = await self.session.connection()
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        values = compiled.construct_params()
        arguments = []
        for name in compiled.positiontup or ():
            # An expanded IN list names its values after its own parameter: in_list_1 → in_list_1_1, …
            bind = compiled.binds[name if name in compiled.binds else name.rsplit("_", 1)[0]]
            process = bind.type.bind_processor(dialect)
            arguments.append(values[name] if process is None else process(values[name]))
        driver = await self._driver()
        notify_driver_statement(compiled.string)
        return await driver.fetch(compiled.string, *arguments)  # type: ignore[no-any-return]

    async def reserve_id_blocks(self, counts: Mapping[Table, int]) -> dict[Table, list[int]]:
        wanted = [(table, count) for table, count in counts.items() if count > 0]
        blocks: dict[Table, list[int]] = {table: [] for table in counts}
        if not wanted:
            return blocks
        statement = f"SELECT {_id_arrays(len(wanted), first=1)}"
        driver = await self._driver()
        notify_driver_statement(statement)
        row = await driver.fetchrow(statement, *(value for table, count in wanted for value in (table.name, count)))
        for (table, _), ids in zip(wanted, row, strict=True):
            blocks[table] = list(ids)
        return blocks

    async def count_and_reserve(
        self, counter: Table, key: Mapping[str, Any], count: int, ids: Mapping[Table, int]
    ) -> tuple[int | None, dict[Table, list[int]]]:
        wanted = [(table, number) for table, number in ids.items() if number > 0]
        blocks: dict[Table, list[int]] = {table: [] for table in ids}
        names = list(key)
        matches = " AND ".join(f"{name} = ${n}" for n, name in enumerate(names, start=2))
        arrays = f", {_id_arrays(len(wanted), first=len(names) + 2)}" if wanted else ""
        statement = (
            f'WITH counted AS (UPDATE "{counter.name}" SET value = value + $1 WHERE {matches} RETURNING value)'
            f" SELECT (SELECT value FROM counted){arrays}"
        )
        arguments = [count, *(key[name] for name in names), *(value for table, number in wanted for value in (table.name, number))]
        driver = await self._driver()
        notify_driver_statement(statement)
        value, *reserved = await driver.fetchrow(statement, *arguments)
        for (table, _), block in zip(wanted, reserved, strict=True):
            blocks[table] = list(block)
        return value, blocks

    async def reserve_consecutive_ids(self, table: Table, count: int) -> int:
        if count < 1:
            raise ValueError("a block holds at least one id")
        driver = await self._driver()
        sequence = "pg_get_serial_sequence($1, 'id')"
        # A sequence hands out values one by one to whoever asks; inserts into the table wait for this
        # lock before they ask, so the block stays whole.
        notify_driver_statement(f'LOCK TABLE "{table.name}"')
        await driver.execute(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE')
        notify_driver_statement(f"SELECT setval({sequence}, …)")
        last: int = await driver.fetchval(f"SELECT setval({sequence}, nextval({sequence}) + $2 - 1)", table.name, count)
        return last - count + 1

    async def write(self, table: Table, columns: Sequence[str], records: Sequence[Record]) -> None:
        if not records:
            return
        driver = await self._driver()
        if len(records) < _COPY_FROM:
            placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
            statement = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})'
            notify_driver_statement(statement)
            await driver.executemany(statement, records)
            return
        notify_driver_statement(f'COPY "{table.name}"')
        await driver.copy_records_to_table(table.name, records=records, columns=list(columns))

    async def write_together(self, changes: Sequence[TableRows]) -> None:
        # Each table's rows go in as one array per column (unnest), each table's change a data-modifying
        # WITH clause of one statement: one round trip, and foreign keys are checked at its end.
        changes = [change for change in changes if change.records]
        if not changes:
            return
        if len(changes) > 1 and any(change.inserts and len(change.records) >= _COPY_ALONE for change in changes):
            # Tens of thousands of rows (the demo's history) go in faster by COPY, a table at a time.
            for change in changes:
                if change.inserts and change.on_conflict is None:
                    await self.write(change.table, change.columns, change.records)
                else:
                    await self.write_together([change])
            return
        statement = _together_statement(tuple(_Shape(c.table, tuple(c.columns), c.key, c.on_conflict, c.delete) for c in changes))
        arguments = [list(values) for change in changes for values in zip(*change.records, strict=True)]
        driver = await self._driver()
        notify_driver_statement(statement)
        await driver.execute(statement, *arguments)


def _id_arrays(tables: int, *, first: int) -> str:
    """One array of fresh ids per table, each taking its table's name and count as arguments from `first`
    on: the select list of one row."""
    return ", ".join(
        f"ARRAY(SELECT nextval(pg_get_serial_sequence(${first + 2 * n}, 'id')) FROM generate_series(1, ${first + 2 * n + 1}))"
        for n in range(tables)
    )


@dataclass(frozen=True)
class _Shape:
    """What `write_together`'s statement depends on of one `TableRows` (all but its records)."""

    table: Table
    columns: tuple[str, ...]
    key: str | None
    on_conflict: str | None
    delete: bool


_together_statements: dict[tuple[_Shape, ...], str] = {}
_POSTGRESQL = postgresql.dialect()


def _together_statement(shape: tuple[_Shape, ...]) -> str:
    """`PostgresBulk.write_together`'s statement for changes of this shape, built once."""
    if (statement := _together_statements.get(shape)) is not None:
        return statement
    parts = []
    first = 1
    for change in shape:
        table, columns, key = change.table, change.columns, change.key
        casts = ", ".join(f"${first + n}::{table.c[column].type.compile(dialect=_POSTGRESQL)}[]" for n, column in enumerate(columns))
        first += len(columns)
        names = ", ".join(columns)
        if change.delete:
            matches = " AND ".join(f'"{table.name}".{column} = given.{column}' for column in columns)
            parts.append(f'DELETE FROM "{table.name}" USING unnest({casts}) AS given ({names}) WHERE {matches}')
        elif key is None:
            parts.append(f'INSERT INTO "{table.name}" ({names}) SELECT * FROM unnest({casts}){_on_conflict(change)}')
        else:
            assignments = ", ".join(f"{column} = given.{column}" for column in columns if column != key)
            parts.append(
                f'UPDATE "{table.name}" SET {assignments} FROM unnest({casts}) AS given ({names})'
                f' WHERE "{table.name}".{key} = given.{key}'
            )
    *before, last = parts
    clauses = ", ".join(f"change_{n} AS ({part})" for n, part in enumerate(before))
    statement = f"WITH {clauses} {last}" if clauses else last
    _together_statements[shape] = statement
    return statement


def _on_conflict(change: _Shape) -> str:
    """The ON CONFLICT clause of an insert that merges rows whose primary key is stored (empty: it does not)."""
    if change.on_conflict is None:
        return ""
    keys = [column.name for column in change.table.primary_key.columns]
    merged = [column for column in change.columns if column not in keys]
    if change.on_conflict == "add":
        assignments = ", ".join(f'{column} = "{change.table.name}".{column} + excluded.{column}' for column in merged)
    else:
        assignments = ", ".join(f"{column} = excluded.{column}" for column in merged)
    return f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}"


class SqliteBulk(BulkConnection):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._next_id: dict[str, int] = {}

    async def reserve_id_blocks(self, counts: Mapping[Table, int]) -> dict[Table, list[int]]:
        # The caller's transaction holds SQLite's single write lock (a use case's begins IMMEDIATE, other
        # callers have written already): no other connection can insert between reading the maximum and
        # using the ids.
        unread = [table for table, count in counts.items() if count > 0 and table.name not in self._next_id]
        if unread:
            connection = await self.session.connection()
            highest = (
                await connection.execute(select(*(select(func.max(table.c.id)).scalar_subquery() for table in unread)))
            ).one()
            for table, value in zip(unread, highest, strict=True):
                self._next_id[table.name] = (value or 0) + 1
        blocks: dict[Table, list[int]] = {}
        for table, count in counts.items():
            if count == 0:
                blocks[table] = []
                continue
            first = self._next_id[table.name]
            self._next_id[table.name] = first + count
            blocks[table] = list(range(first, first + count))
        return blocks

    async def count_and_reserve(
        self, counter: Table, key: Mapping[str, Any], count: int, ids: Mapping[Table, int]
    ) -> tuple[int | None, dict[Table, list[int]]]:
        connection = await self.session.connection()
        matches = " AND ".join(f"{name} = ?" for name in key)
        value = (
            await connection.exec_driver_sql(
                f'UPDATE "{counter.name}" SET value = value + ? WHERE {matches} RETURNING value', (count, *key.values())
            )
        ).scalar()
        return value, await self.reserve_id_blocks(ids)

    async def reserve_consecutive_ids(self, table: Table, count: int) -> int:
        if count < 1:
            raise ValueError("a block holds at least one id")
        # Rows inserted by SQL since the last reservation lie past the next id noted: read it again.
        highest = await self.session.scalar(select(func.max(table.c.id)))
        first = max((highest or 0) + 1, self._next_id.get(table.name, 1))
        self._next_id[table.name] = first + count
        return first

    async def write(self, table: Table, columns: Sequence[str], records: Sequence[Record]) -> None:
        if not records:
            return
        connection = await self.session.connection()
        records = self._stored(table, columns, records, connection.dialect)
        placeholders = ", ".join("?" for _ in columns)
        statement = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})'
        await connection.exec_driver_sql(statement, list(records))

    @staticmethod
    def _stored(table: Table, columns: Sequence[str], records: Sequence[Record], dialect: Any) -> Sequence[Record]:
        processors = [_storage_processor(table.c[name].type, dialect) for name in columns]
        if not any(processors):
            return records
        return [
            tuple(value if process is None or value is None else process(value) for value, process in zip(record, processors, strict=True))
            for record in records
        ]

    async def write_together(self, changes: Sequence[TableRows]) -> None:
        for change in changes:
            if not change.records:
                continue
            if change.delete:
                await self._delete(change)
            elif change.key is not None:
                await self._update(change)
            elif change.on_conflict is not None:
                await self._merge(change)
            else:
                await self.write(change.table, change.columns, change.records)

    async def _delete(self, change: TableRows) -> None:
        connection = await self.session.connection()
        matches = " AND ".join(f"{column} = ?" for column in change.columns)
        records = self._stored(change.table, change.columns, change.records, connection.dialect)
        await connection.exec_driver_sql(f'DELETE FROM "{change.table.name}" WHERE {matches}', list(records))

    async def _merge(self, change: TableRows) -> None:
        connection = await self.session.connection()
        placeholders = ", ".join("?" for _ in change.columns)
        shape = _Shape(change.table, tuple(change.columns), None, change.on_conflict, False)
        statement = f'INSERT INTO "{change.table.name}" ({", ".join(change.columns)}) VALUES ({placeholders}){_on_conflict(shape)}'
        records = self._stored(change.table, change.columns, change.records, connection.dialect)
        await connection.exec_driver_sql(statement, list(records))

    async def _update(self, change: TableRows) -> None:
        connection = await self.session.connection()
        others = [column for column in change.columns if column != change.key]
        assignments = ", ".join(f"{column} = ?" for column in others)
        positions = [change.columns.index(column) for column in (*others, change.key)]
        statement = f'UPDATE "{change.table.name}" SET {assignments} WHERE {change.key} = ?'
        records = self._stored(change.table, change.columns, change.records, connection.dialect)
        await connection.exec_driver_sql(statement, [tuple(record[n] for n in positions) for record in records])


def _storage_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How SQLite stores a date or datetime column's values (as text); None for every other column,
    whose records already hold what the driver takes (enum values as strings, money as integers)."""
    storage_type = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    if not isinstance(storage_type, Date | DateTime):
        return None
    return storage_type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


async def bulk_connection(session: AsyncSession) -> BulkConnection:
    connection = await session_connection(session)
    if connection.dialect.name == "postgresql":
        return PostgresBulk(session)
    if connection.dialect.name == "sqlite":
        return SqliteBulk(session)
    raise RuntimeError(f"no bulk writer for {connection.dialect.name}")


def dialect_insert(session: AsyncSession, model: type | Table) -> Any:
    """An INSERT into a model's table (or a table) that knows ON CONFLICT for the session's dialect (both
    spell it the same way)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
