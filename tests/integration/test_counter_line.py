"""A project's counters (receipt and order numbers) serve this process's transactions in the order they
asked (`db.row_lock_line`): on PostgreSQL one of them waits for the counter's row in the database and the
others in line behind it, instead of all racing for the row when its holder commits; on SQLite the
process's one writer at a time gives the same order. A wait in line never hides a deadlock from
PostgreSQL: a transaction holding a counter asks for another straight from the database, and nobody
waits in line longer than `LINE_WAIT_SECONDS`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import db.row_lock_line
from billing.receipts import next_counter_value
from db.session import create_engine, create_session_factory
from db.unit_of_work import unit_of_work
from kernel.errors import Conflict
from tests.integration.world import add_project

ASKERS = 5


async def _new_project(engine: AsyncEngine) -> int:
    async with create_session_factory(engine)() as session, session.begin():
        return (await add_project(session)).id


@asynccontextmanager
async def _project(url: str) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession], int]]:
    """An engine with room for every transaction of a test, its session factory, and a new project's id."""
    engine = create_engine(url, pool_size=ASKERS + 3, max_overflow=0)
    try:
        yield engine, create_session_factory(engine), await _new_project(engine)
    finally:
        await engine.dispose()


async def _waiting_in_database(engine: AsyncEngine) -> int:
    """This database's sessions waiting for a lock."""
    async with engine.connect() as connection:
        return int(
            await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            )
        )


async def _until_waiting_in_database(engine: AsyncEngine, sessions: int) -> None:
    async with asyncio.timeout(10):
        while await _waiting_in_database(engine) < sessions:
            await asyncio.sleep(0.01)


class _Transaction:
    """A unit of work kept open in a task of its own, taking counters' numbers when asked, until `commit`."""

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self.factory = factory
        self.requests: asyncio.Queue[tuple[int, str, asyncio.Future[int]] | None] = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async with unit_of_work(self.factory) as work:
            while (request := await self.requests.get()) is not None:
                project_id, name, answer = request
                try:
                    answer.set_result(await next_counter_value(work.session, project_id, name))
                except Exception as error:
                    answer.set_exception(error)
                    raise

    async def take(self, project_id: int, name: str) -> int:
        answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self.requests.put((project_id, name, answer))
        return await answer

    async def commit(self) -> None:
        await self.requests.put(None)
        await self.task


async def _take_one(factory: async_sessionmaker[AsyncSession], project_id: int, name: str) -> int:
    """A number of the counter in a transaction of its own, committed at once."""
    async with unit_of_work(factory) as work:
        return await next_counter_value(work.session, project_id, name)


async def test_numbers_go_to_the_askers_in_the_order_they_asked(database_url: str) -> None:
    async with _project(database_url) as (engine, factory, project_id):
        holder = _Transaction(factory)
        assert await holder.take(project_id, "receipt") == 1
        taken: list[tuple[int, int]] = []

        async def ask(asker: int) -> None:
            taken.append((asker, await _take_one(factory, project_id, "receipt")))

        # given five transactions asking, one after another, while the holder keeps the counter's row locked
        askers = []
        for asker in range(ASKERS):
            askers.append(asyncio.create_task(ask(asker)))
            await asyncio.sleep(0.05)
        waiting_in_database = None
        if engine.dialect.name == "postgresql":
            await _until_waiting_in_database(engine, 1)
            await asyncio.sleep(0.2)
            waiting_in_database = await _waiting_in_database(engine)

        # when the holder commits
        await holder.commit()
        await asyncio.gather(*askers)

        # then one of them waited for the row in the database, the others in line behind it, and each
        # took the next number in the order they asked
        assert waiting_in_database == (1 if engine.dialect.name == "postgresql" else None)
        assert taken == [(asker, asker + 2) for asker in range(ASKERS)]


async def test_a_transaction_holding_a_counter_asks_the_database_at_once_so_a_deadlock_is_found(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A line that never gives up: the cycle below ends only if the database sees it whole.
    monkeypatch.setattr(db.row_lock_line, "LINE_WAIT_SECONDS", 60)
    async with _project(postgres_url) as (engine, factory, project_id):
        # given one transaction holding the order counter and another the receipt counter
        orders, receipts = _Transaction(factory), _Transaction(factory)
        tasks = [orders.task, receipts.task]
        try:
            await orders.take(project_id, "order")
            await receipts.take(project_id, "receipt")
            # and a third at the head of the order counter's line, waiting in the database for the first
            in_line = asyncio.create_task(_take_one(factory, project_id, "order"))
            tasks.append(in_line)
            await _until_waiting_in_database(engine, 1)

            # when the receipt holder asks for the order counter, then the order holder for the receipt one
            crossed = {receipts: asyncio.create_task(receipts.take(project_id, "order"))}
            await _until_waiting_in_database(engine, 2)
            crossed[orders] = asyncio.create_task(orders.take(project_id, "receipt"))
            tasks += crossed.values()

            # then the database finds the deadlock (neither waited in line behind the third) and breaks
            # it: one of the two transactions ends in CONFLICT, the other and the third take their numbers
            await asyncio.wait(crossed.values(), timeout=20, return_when=asyncio.FIRST_EXCEPTION)
            (loser,) = [transaction for transaction, ask in crossed.items() if ask.done() and ask.exception() is not None]
            (winner,) = [transaction for transaction in crossed if transaction is not loser]
            with pytest.raises(Conflict):
                await loser.task
            crossed_number = await asyncio.wait_for(crossed[winner], timeout=20)
            await winner.commit()
            # The loser's number went back to its counter (no gaps): whoever took the counter next has it.
            assert {crossed_number, await asyncio.wait_for(in_line, timeout=20)} == {1, 2}
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def test_a_transaction_waits_in_line_no_longer_than_the_limit_then_asks_the_database(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.row_lock_line, "LINE_WAIT_SECONDS", 0.2)
    async with _project(postgres_url) as (engine, factory, project_id):
        holder = _Transaction(factory)
        await holder.take(project_id, "receipt")
        # given one transaction waiting for the row in the database and a second in line behind it
        first = asyncio.create_task(_take_one(factory, project_id, "receipt"))
        await _until_waiting_in_database(engine, 1)
        second = asyncio.create_task(_take_one(factory, project_id, "receipt"))

        # when the second has waited in line for the limit, then it waits in the database too
        await _until_waiting_in_database(engine, 2)

        # and once the holder commits both take their numbers
        await holder.commit()
        assert sorted(await asyncio.gather(first, second)) == [2, 3]
