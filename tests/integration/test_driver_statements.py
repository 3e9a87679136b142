"""Statements sent to the driver past SQLAlchemy (`db.driver`): the values a Core execution gives, inside
the caller's transaction and outside any, the errors a Core execution raises, and every statement seen
by the listeners, on both databases."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError

from api.state import AppState
from db.driver import DriverStatement, connection_for_reads, listen_to_driver
from db.models import Organization
from db.unit_of_work import unit_of_work
from kernel.errors import Conflict

_BY_NAMES = DriverStatement(
    select(Organization.id, Organization.name, Organization.created_at)
    .where(Organization.name.in_(bindparam("names", expanding=True)))
    .order_by(Organization.id),
)
# A Core insert compiles the column's Python default as a parameter: the caller gives it.
_INSERT = DriverStatement(
    insert(Organization).values(name=bindparam("name"), created_at=bindparam("created_at")).returning(Organization.id)
)


def _named(name: str) -> dict[str, Any]:
    return {"name": name, "created_at": dt.datetime.now(dt.UTC)}


async def _driver_in_transaction(connection: Any) -> bool:
    driver = (await connection.get_raw_connection()).driver_connection
    return bool(driver.in_transaction if connection.dialect.name == "sqlite" else driver.is_in_transaction())


async def test_rows_are_those_a_core_execution_gives(state: AppState) -> None:
    # given
    async with unit_of_work(state.session_factory) as work:
        work.session.add_all(Organization(name=name) for name in ("Lakeside", "Hillside", "Riverside"))
    # when
    async with connection_for_reads(state.session_factory) as connection:
        rows = await _BY_NAMES.rows(connection, {"names": ["Riverside", "Lakeside"]})
        core = [tuple(row) for row in await connection.execute(_BY_NAMES.statement, {"names": ["Riverside", "Lakeside"]})]
    # then: the same rows, the time aware and in UTC as the column type makes it
    assert rows == core
    assert [name for _, name, _ in rows] == ["Lakeside", "Riverside"]
    assert all(created.tzinfo == dt.UTC for _, _, created in rows)


async def test_a_read_outside_a_transaction_begins_none(state: AppState) -> None:
    # given
    async with unit_of_work(state.session_factory) as work:
        work.session.add(Organization(name="Lakeside"))
    async with connection_for_reads(state.session_factory) as connection:
        # when
        rows = await _BY_NAMES.rows(connection, {"names": ["Lakeside"]})
        # then: nothing holds SQLite's locks or PostgreSQL's snapshot past the statement
        assert len(rows) == 1
        assert not await _driver_in_transaction(connection)


async def test_a_statement_in_a_unit_of_work_runs_in_its_transaction(state: AppState) -> None:
    # given
    outside: list[Any] = []
    # when
    async with unit_of_work(state.session_factory) as work:
        connection = await work.session.connection()
        written = await _INSERT.scalar(connection, _named("Lakeside"))
        inside = await _BY_NAMES.rows(connection, {"names": ["Lakeside"]})
        async with connection_for_reads(state.session_factory) as reader:
            outside = await _BY_NAMES.rows(reader, {"names": ["Lakeside"]})
    # then: the unit sees what it wrote, others only once it committed
    assert [row[0] for row in inside] == [written]
    assert outside == []
    async with connection_for_reads(state.session_factory) as reader:
        assert [row[0] for row in await _BY_NAMES.rows(reader, {"names": ["Lakeside"]})] == [written]


async def test_a_failing_write_rolls_the_unit_back_and_answers_conflict(state: AppState) -> None:
    # given
    async with unit_of_work(state.session_factory) as work:
        work.session.add(Organization(name="Lakeside"))
    # when: the second row breaks the unique name, after the first went in
    with pytest.raises(Conflict):
        async with unit_of_work(state.session_factory) as work:
            connection = await work.session.connection()
            await _INSERT.rows(connection, _named("Hillside"))
            await _INSERT.rows(connection, _named("Lakeside"))
    # then
    async with connection_for_reads(state.session_factory) as reader:
        assert [row[1] for row in await _BY_NAMES.rows(reader, {"names": ["Lakeside", "Hillside"]})] == ["Lakeside"]


async def test_sqlite_errors_are_those_a_core_execution_raises(state: AppState) -> None:
    if state.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's statements fail with the driver's own errors (their SQLSTATE in `sqlstate`)")
    async with unit_of_work(state.session_factory) as work:
        work.session.add(Organization(name="Lakeside"))
    async with state.engine.connect() as connection:
        await connection.begin()
        with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
            await _INSERT.rows(connection, _named("Lakeside"))


async def test_the_listeners_see_each_statement_sent_to_the_driver(state: AppState) -> None:
    # given
    heard: list[str] = []
    through_core: list[str] = []

    def executed(*arguments: Any) -> None:
        through_core.append(arguments[2])

    event.listen(state.engine.sync_engine, "before_cursor_execute", executed)
    try:
        # when
        with listen_to_driver(heard.append):
            async with connection_for_reads(state.session_factory) as connection:
                await _BY_NAMES.rows(connection, {"names": ["Lakeside", "Hillside"]})
    finally:
        event.remove(state.engine.sync_engine, "before_cursor_execute", executed)
    # then: the statement, once, by one of the two
    assert len(heard) + len(through_core) == 1
    assert "FROM organization" in (heard + through_core)[0]


async def test_read_connections_go_back_to_the_pool_after_reads_errors_and_cancellation(state: AppState) -> None:
    # given
    pool = state.engine.sync_engine.pool
    started = asyncio.Event()

    async def read_until_cancelled() -> None:
        async with connection_for_reads(state.session_factory) as connection:
            await _BY_NAMES.rows(connection, {"names": ["Lakeside"]})
            started.set()
            await asyncio.sleep(60)

    # when
    for _ in range(3):
        async with connection_for_reads(state.session_factory) as connection:
            await _BY_NAMES.rows(connection, {"names": ["Lakeside"]})
    with pytest.raises(RuntimeError):
        async with connection_for_reads(state.session_factory) as connection:
            await _BY_NAMES.rows(connection, {"names": ["Lakeside"]})
            raise RuntimeError("the resolver failed")
    reader = asyncio.create_task(read_until_cancelled())
    await started.wait()
    reader.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reader
    # then: none is held, and the pooled ones still read
    assert pool.checkedout() == 0
    async with connection_for_reads(state.session_factory) as connection:
        assert await _BY_NAMES.rows(connection, {"names": ["Lakeside"]}) == []


async def test_a_connection_returned_with_a_transaction_open_on_the_driver_is_rolled_back(state: AppState) -> None:
    if state.engine.dialect.name != "sqlite":
        pytest.skip("SQLAlchemy's asyncpg adapter rolls back only a transaction it began itself")
    # given a connection whose driver holds a transaction SQLAlchemy knows nothing of, and with it
    # the database's write lock, given back to the pool
    async with state.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        await driver.execute("BEGIN IMMEDIATE")
        await driver.execute("INSERT INTO organization (name, created_at) VALUES ('Abandoned', CURRENT_TIMESTAMP)")
    # when the next writer comes
    async with asyncio.timeout(10):
        async with unit_of_work(state.session_factory) as work:
            work.session.add(Organization(name="Lakeside"))
    # then it wrote, and nothing of the abandoned transaction stayed
    async with connection_for_reads(state.session_factory) as reader:
        rows = await _BY_NAMES.rows(reader, {"names": ["Abandoned", "Lakeside"]})
    assert [row[1] for row in rows] == ["Lakeside"]
