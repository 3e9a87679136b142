"""Reads and inserts of many rows inside the caller's transaction: the driver's own rows for reads, COPY
on PostgreSQL (a prepared INSERT for a few rows) and executemany on SQLite for inserts.

Records hold storage values, not model values: integer fen and scaled integers, `date`, UTC-aware
`datetime`, `str`, `bool`, None. Row ids come from `reserve_ids`, so nothing needs RETURNING.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Executable, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

__all__ = ["BulkConnection", "IdPool", "bulk_connection", "dialect_insert"]

Record = tuple[Any, ...]


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


class PostgresBulk(BulkConnection):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._driver_connection: Any = None

    async def _driver(self) -> Any:
        # The session keeps its connection until the transaction ends, and so does this writer.
        if self._driver_connection is None:
            connection = await self.session.connection()
            self._driver_connection = (await connection.get_raw_connection()).driver_connection
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
        return await driver.fetch(compiled.string, *arguments)  # type: ignore[no-any-return]

    async def reserve_id_blocks(self, counts: Mapping[Table, int]) -> dict[Table, list[int]]:
        wanted = [(table, count) for table, count in counts.items() if count > 0]
        blocks: dict[Table, list[int]] = {table: [] for table in counts}
        if not wanted:
            return blocks
        # One array of fresh ids per table, all in one row.
        columns = ", ".join(
            f"ARRAY(SELECT nextval(pg_get_serial_sequence(${2 * n + 1}, 'id')) FROM generate_series(1, ${2 * n + 2}))"
            for n in range(len(wanted))
        )
        arguments = [value for table, count in wanted for value in (table.name, count)]
        driver = await self._driver()
        row = await driver.fetchrow(f"SELECT {columns}", *arguments)
        for (table, _), ids in zip(wanted, row, strict=True):
            blocks[table] = list(ids)
        return blocks

    async def reserve_consecutive_ids(self, table: Table, count: int) -> int:
        if count < 1:
            raise ValueError("a block holds at least one id")
        driver = await self._driver()
        sequence = "pg_get_serial_sequence($1, 'id')"
        # A sequence hands out values one by one to whoever asks; inserts into the table wait for this
        # lock before they ask, so the block stays whole.
        await driver.execute(f'LOCK TABLE "{table.name}" IN SHARE ROW EXCLUSIVE MODE')
        last: int = await driver.fetchval(f"SELECT setval({sequence}, nextval({sequence}) + $2 - 1)", table.name, count)
        return last - count + 1

    async def write(self, table: Table, columns: Sequence[str], records: Sequence[Record]) -> None:
        if not records:
            return
        driver = await self._driver()
        if len(records) < _COPY_FROM:
            placeholders = ", ".join(f"${n}" for n in range(1, len(columns) + 1))
            await driver.executemany(f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})', records)
            return
        await driver.copy_records_to_table(table.name, records=records, columns=list(columns))


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
        dialect = connection.dialect
        processors = [_storage_processor(table.c[name].type, dialect) for name in columns]
        if any(processors):
            records = [
                tuple(
                    value if process is None or value is None else process(value)
                    for value, process in zip(record, processors, strict=True)
                )
                for record in records
            ]
        placeholders = ", ".join("?" for _ in columns)
        statement = f'INSERT INTO "{table.name}" ({", ".join(columns)}) VALUES ({placeholders})'
        await connection.exec_driver_sql(statement, list(records))


def _storage_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How SQLite stores a date or datetime column's values (as text); None for every other column,
    whose records already hold what the driver takes (enum values as strings, money as integers)."""
    storage_type = column_type.impl if isinstance(column_type, TypeDecorator) else column_type
    if not isinstance(storage_type, Date | DateTime):
        return None
    return storage_type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[no-any-return]


async def bulk_connection(session: AsyncSession) -> BulkConnection:
    connection = await session.connection()
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
