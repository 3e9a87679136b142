"""The server's pool (`db.pool.FairAsyncPool`) hands connections out in the order they were asked for: a
request that arrives while others wait queues behind them, one that gives up leaves its place to the next,
and every connection comes back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util.concurrency import greenlet_spawn

from db.pool import FairAsyncPool
from db.session import create_engine

WAIT_SECONDS = 0.3


@pytest.fixture
async def one_connection(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of one connection, which a second asker waits WAIT_SECONDS for."""
    engine = create_engine(database_url, poolclass=FairAsyncPool, pool_size=1, max_overflow=0, pool_timeout=WAIT_SECONDS)
    try:
        yield engine
    finally:
        await engine.dispose()


def _pool(engine: AsyncEngine) -> FairAsyncPool:
    pool = engine.sync_engine.pool
    assert isinstance(pool, FairAsyncPool)
    return pool


async def _until_waiting(engine: AsyncEngine, waiters: int) -> None:
    while _pool(engine).waiting() < waiters:
        await asyncio.sleep(0)


async def _connect(engine: AsyncEngine) -> AsyncConnection:
    return await engine.connect()


async def test_a_connection_given_back_goes_to_the_longest_waiter_not_to_a_newcomer(one_connection: AsyncEngine) -> None:
    # given three requests waiting, in order, for the one connection someone holds
    served: list[str] = []

    async def ask(name: str) -> None:
        async with one_connection.connect() as connection:
            served.append(name)
            await connection.exec_driver_sql("SELECT 1")

    holder = await one_connection.connect()
    waiting = [asyncio.create_task(ask(name)) for name in ("first", "second", "third")]
    await _until_waiting(one_connection, 3)

    # when the holder gives it back and, in the same step, before any waiter has run, a newcomer asks
    def give_back_and_ask_again() -> PoolProxiedConnection:
        assert holder.sync_connection is not None
        holder.sync_connection.close()
        return one_connection.sync_engine.raw_connection()

    async def newcomer() -> None:
        connection = await greenlet_spawn(give_back_and_ask_again)
        served.append("newcomer")
        await greenlet_spawn(connection.close)

    await asyncio.gather(*waiting, newcomer())

    # then they were served in the order they asked, the newcomer last
    assert served == ["first", "second", "third", "newcomer"]
    assert _pool(one_connection).checkedin() == 1


async def test_a_request_that_waits_too_long_times_out_and_the_connection_goes_to_the_next(one_connection: AsyncEngine) -> None:
    holder = await one_connection.connect()

    # when one request waits past the pool's timeout
    with pytest.raises(exc.TimeoutError):
        await one_connection.connect()

    # then the connection given back afterwards is idle for the next request at once, not held for it
    await holder.close()
    connection: AsyncConnection = await asyncio.wait_for(one_connection.connect(), WAIT_SECONDS / 3)
    await connection.close()
    assert _pool(one_connection).waiting() == 0


async def test_a_cancelled_waiter_gives_up_its_place_and_the_connection_reaches_the_one_behind(one_connection: AsyncEngine) -> None:
    holder = await one_connection.connect()
    cancelled = asyncio.create_task(_connect(one_connection))
    behind = asyncio.create_task(_connect(one_connection))
    await _until_waiting(one_connection, 2)

    # when the first waiter is cancelled (its client went away) and the holder then gives the connection back
    cancelled.cancel()
    await asyncio.gather(cancelled, return_exceptions=True)
    await holder.close()

    # then the request behind it has the connection, and it comes back to the pool
    connection = await asyncio.wait_for(behind, WAIT_SECONDS / 3)
    await connection.close()
    assert cancelled.cancelled()
    assert _pool(one_connection).waiting() == 0
    assert _pool(one_connection).checkedin() == 1
