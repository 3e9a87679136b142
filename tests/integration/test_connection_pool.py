"""A server process keeps a fixed set of PostgreSQL connections: what its concurrent requests opened stays
open for the next ones, and requests beyond the set wait for a connection instead of opening (and then
closing) one of their own."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event

from api.settings import Settings
from api.state import AppState

# More than the pool holds, so that some reads wait for a connection another gives back.
BEYOND_THE_POOL = 8


async def _read_at_once(state: AppState, reads: int) -> None:
    async def read() -> None:
        async with state.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT pg_sleep(0.05)")

    await asyncio.gather(*(read() for _ in range(reads)))


async def test_reads_beyond_the_pool_wait_for_its_connections_instead_of_opening_more(state: AppState, settings: Settings) -> None:
    if state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's file needs no connections kept open: its pool is set up in db/session.py")
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
