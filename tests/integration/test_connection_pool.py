"""A server process keeps the PostgreSQL connections its concurrent requests use, instead of closing
those beyond SQLAlchemy's default five and opening them again on the next burst."""

from __future__ import annotations

import asyncio

import pytest

from api.settings import Settings
from api.state import AppState

CONCURRENT_READS = 12


async def test_connections_used_at_once_stay_open_for_the_next_requests(state: AppState, settings: Settings) -> None:
    if state.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's file needs no connections kept open: its pool is set up in db/session.py")

    async def read() -> None:
        async with state.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT pg_sleep(0.05)")

    # when more reads than SQLAlchemy's default pool of five run at once, and end
    await asyncio.gather(*(read() for _ in range(CONCURRENT_READS)))

    # then every connection they used is kept for the next requests
    assert settings.database_pool_size >= CONCURRENT_READS
    assert state.engine.sync_engine.pool.checkedin() == CONCURRENT_READS
