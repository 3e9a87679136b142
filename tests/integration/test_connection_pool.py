"""A server process keeps a fixed set of connections: on PostgreSQL what its concurrent requests opened
stays open for the next ones, and requests beyond the set wait for a connection instead of opening (and
then closing) one of their own; on SQLite two, which serve reads while a writer holds its transaction."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from api.app import SQLITE_CONNECTIONS
from api.settings import Settings
from api.state import AppState
from db.driver import connection_for_reads
from db.unit_of_work import unit_of_work

# More than the pool holds, so that some reads wait for a connection another gives back.
BEYOND_THE_POOL = 8


async def _read_at_once(state: AppState, reads: int) -> None:
    async def read() -> None:
        async with state.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT pg_sleep(0.05)")

    await asyncio.gather(*(read() for _ in range(reads)))


async def test_reads_beyond_the_pool_wait_for_its_connections_instead_of_opening_more(state: AppState, settings: Settings) -> None:
    if state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's two connections are the test below")
    opened: list[object] = []
    event.listen(state.engine.sync_engine, "connect", lambda connection, record: opened.append(connection))
    reads = settings.database_pool_size + BEYOND_THE_POOL

    # when more reads than the pool holds run at once, twice
    await _read_at_once(state, reads)
    opened_by_the_first_burst = len(opened)
    await _read_at_once(state, reads)

    # then every read was answered over one of the pool's connections, all of them kept for the next burst,
    # which opened none
    assert opened_by_the_first_burst <= settings.database_pool_size
    assert len(opened) == opened_by_the_first_burst
    assert state.engine.sync_engine.pool.checkedin() == settings.database_pool_size
    assert state.engine.sync_engine.pool.checkedout() == 0


async def test_sqlite_reads_are_answered_over_its_connections_while_a_writer_holds_one(state: AppState) -> None:
    if state.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's pool is the test above")
    opened: list[object] = []
    event.listen(state.engine.sync_engine, "connect", lambda connection, record: opened.append(connection))

    async def read() -> int:
        async with connection_for_reads(state.session_factory) as connection:
            return int((await connection.exec_driver_sql("SELECT 1")).scalar_one())

    # when a writer holds SQLite's write transaction while reads arrive at once
    async with unit_of_work(state.session_factory):
        answers = await asyncio.wait_for(asyncio.gather(*(read() for _ in range(BEYOND_THE_POOL))), timeout=10)

    # then every read was answered during the write, over no more connections than the server keeps
    assert answers == [1] * BEYOND_THE_POOL
    assert len(opened) <= SQLITE_CONNECTIONS
    assert state.engine.sync_engine.pool.checkedout() == 0
