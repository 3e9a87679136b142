"""Fast inserts of many rows inside the caller's transaction: COPY on PostgreSQL, executemany on SQLite.

Records hold storage values, not model values: integer fen and scaled integers, `date`, UTC-aware
`datetime`, `str`, `bool`, None. Row ids come from `reserve_ids`, so nothing needs RETURNING.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Date, DateTime, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeDecorator

__all__ = ["BulkWriter", "bulk_writer", "dialect_insert"]

Record = tuple[Any, ...]


class BulkWriter(ABC):
    """Reserves primary keys and writes rows with the connection of one session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @abstractmethod
    async def reserve_ids(self, table: Table, count: int) -> list[int]:
        """`count` fresh ids for `table`'s integer primary key, never handed out again."""

    @abstractmethod
    async def write(self, table: Table, columns: Sequence[str], records: Sequence[Record]) -> None:
        """Insert `records` (values in `columns` order); omitted columns take their server defaults."""


class PostgresWriter(BulkWriter):
    async def _driver(self) -> Any:
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    async def reserve_ids(self, table: Table, count: int) -> list[int]:
        if count == 0:
            return []
        driver = await self._driver()
        rows = await driver.fetch(
            "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)", table.name, count
        )
        return [row[0] for row in rows]

    async def write(self, table: Table, columns: Sequence[str], records: Sequence[Record]) -> None:
        if not records:
            return
        driver = await self._driver()
        await driver.copy_records_to_table(table.name, records=records, columns=list(columns))


class SqliteWriter(BulkWriter):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._next_id: dict[str, int] = {}

    async def reserve_ids(self, table: Table, count: int) -> list[int]:
        # The caller's transaction has written already and so holds SQLite's single write lock: no other
        # connection can insert between reading the maximum and using the ids.
        if table.name not in self._next_id:
            highest = await self.session.scalar(select(func.max(table.c.id)))
            self._next_id[table.name] = (highest or 0) + 1
        first = self._next_id[table.name]
        self._next_id[table.name] = first + count
        return list(range(first, first + count))

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


async def bulk_writer(session: AsyncSession) -> BulkWriter:
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        return PostgresWriter(session)
    if connection.dialect.name == "sqlite":
        return SqliteWriter(session)
    raise RuntimeError(f"no bulk writer for {connection.dialect.name}")



def dialect_insert(session: AsyncSession, model: type) -> Any:
    """An INSERT that knows ON CONFLICT for the session's dialect (both spell it the same way)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
