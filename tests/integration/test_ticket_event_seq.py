"""The ticket event log numbers events per project, in commit order, on both databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from api.state import AppState
from db.models import Ticket, TicketEvent, TicketSeqCounter
from dispatch.journal import TicketJournal, allocate_seqs
from kernel.vocabulary import ActorRole, TicketEventType
from tests.conftest import START
from tests.integration.dispatch_world import insert_ticket
from tests.integration.world import build_world


async def test_seqs_are_consecutive_per_project_and_independent_between_projects(state: AppState) -> None:
    # given
    world = await build_world(state)
    async with state.session_factory() as session, session.begin():
        lakeside = await insert_ticket(session, world.ids["Project:lakeside"])
        hillside = await insert_ticket(session, world.ids["Project:hillside"])
    # when two units of work write three and two events
    for tickets in ((lakeside, hillside, lakeside), (lakeside, hillside)):
        async with state.session_factory() as session, session.begin():
            journal = TicketJournal()
            for ticket_id in tickets:
                ticket = await session.get(Ticket, ticket_id)
                journal.record(
                    ticket, TicketEventType.COMMENTED, actor_role=ActorRole.SYSTEM, actor_user_id=None, at=START
                )
            await journal.write(session)
    # then
    async with state.session_factory() as session:
        rows = (await session.execute(select(TicketEvent.project_id, TicketEvent.seq).order_by(TicketEvent.id))).all()
        counters = dict((await session.execute(select(TicketSeqCounter.project_id, TicketSeqCounter.last_seq))).all())
    lake, hill = world.ids["Project:lakeside"], world.ids["Project:hillside"]
    assert rows == [(lake, 1), (lake, 2), (hill, 1), (lake, 3), (hill, 2)]
    assert counters == {lake: 3, hill: 2}


async def test_a_later_transaction_waits_for_the_earlier_one_so_commit_order_is_seq_order(state: AppState) -> None:
    if state.engine.dialect.name != "postgresql":
        pytest.skip("row locks are what is tested here; SQLite serialises all writers anyway")
    # given a first transaction that has taken seq 1 and not committed
    world = await build_world(state)
    project = world.ids["Project:lakeside"]
    first = state.session_factory()
    await first.begin()
    assert await allocate_seqs(first, project, 1) == 1

    async def second_transaction() -> int:
        async with state.session_factory() as session, session.begin():
            return await allocate_seqs(session, project, 2)

    # when a second transaction asks for two seqs
    second = asyncio.create_task(second_transaction())
    # Each poll in a transaction of its own: a backend lists pg_stat_activity's rows from a copy taken once per
    # transaction, so polling inside one never saw the second's backend when its connection was opened after
    # the first poll (it happened when the pool had no idle connection to give it).
    async with state.engine.connect() as connection:
        observer = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for _ in range(1000):
            waiting = await observer.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting or second.done():
                break
            await asyncio.sleep(0.01)
    # then it waits on the counter row until the first commits, and numbers after it
    if second.done():
        await first.rollback()
        pytest.fail(f"the second transaction ended while the first held the counter: {second.result()!r}")
    assert waiting == 1, f"{waiting} backends waiting on a lock"
    await first.commit()
    await first.close()
    assert await second == 2
    async with state.session_factory() as session:
        assert (
            await session.scalar(select(TicketSeqCounter.last_seq).where(TicketSeqCounter.project_id == project)) == 3
        )
