"""Several workers at once on ~40 overdue tickets: SLA checks, escalations and queue re-planning lock
tickets and technicians in one order (see ARCHITECTURE.md, "Lock order"), so none of them deadlocks,
none logs a traceback, and every overdue ticket is escalated exactly once.

Each worker has its own engine and connection pool, as separate `courtyard worker` processes would. On
SQLite the jobs run one transaction at a time (the write lock is taken first); the end state must be
the same there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter

import httpx
import pytest
from sqlalchemy import func, select

from api.state import AppState
from api.workers import DispatchWorker
from db.models import RoleGrant, Technician, Ticket, TicketEvent, User
from db.session import create_engine, create_session_factory
from dispatch.ticket_state import LOAD_STATUSES
from kernel.principal import Role
from kernel.vocabulary import TicketEventType, TicketStatus
from tests.conftest import Clock
from tests.integration.dispatch_world import build_dispatch_world, submit
from tests.integration.world import _PASSWORD_HASH, World

OVERDUE_TICKETS = 40
WORKERS = 3
ROUNDS = 4


async def _add_plumbers(state: AppState, world: World, count: int) -> None:
    """Enough plumbers near A1 that most of the overdue tickets are assigned when they come in."""
    lakeside = world.ids["Project:lakeside"]
    async with state.session_factory() as session, session.begin():
        for number in range(count):
            technician = Technician(
                project_id=lakeside,
                name=f"水电工{number}",
                skills=["PLUMBING", "ELECTRICAL"],
                home_latitude=30.2700 + number * 0.001,
                home_longitude=120.1500,
                current_latitude=30.2700 + number * 0.001,
                current_longitude=120.1500,
                capacity=4,
            )
            session.add(technician)
            await session.flush()
            user = User(
                email=f"plumber{number}@example.test",
                display_name=f"plumber{number}",
                password_hash=_PASSWORD_HASH,
                technician_id=technician.id,
            )
            session.add(user)
            await session.flush()
            session.add(RoleGrant(user_id=user.id, project_id=lakeside, role=Role.TECHNICIAN))


async def _run_workers_together(url: str, clock: Clock) -> None:
    engines = [create_engine(url) for _ in range(WORKERS)]
    workers = [
        DispatchWorker(create_session_factory(engine), clock=clock, replan_every=dt.timedelta(0))
        for engine in engines
    ]
    try:
        for _ in range(ROUNDS):
            await asyncio.gather(*(worker.run_once() for worker in workers))
            clock.advance(minutes=1)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_three_workers_escalate_forty_overdue_tickets_once_each_without_deadlock(
    client: httpx.AsyncClient, state: AppState, clock: Clock, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # given 40 leaks (HIGH: respond within 20 minutes), most assigned, the rest waiting in the queue
    world = await build_dispatch_world(state)
    await _add_plumbers(state, world, 6)
    for number in range(OVERDUE_TICKETS):
        owner, unit = ("alice", "Unit:alice") if number % 2 else ("bob", "Unit:bob")
        await submit(client, world.token(owner), unitId=world.gid(unit), description=f"卫生间漏水 {number}")
    async with state.session_factory() as session:
        overdue = set((await session.scalars(select(Ticket.id).where(Ticket.status == TicketStatus.ASSIGNED))).all())
    assert len(overdue) >= 24
    # when nobody answers for 25 minutes and three workers run at once, round after round
    clock.advance(minutes=25)
    caplog.set_level(logging.INFO)
    await _run_workers_together(database_url, clock)
    # then no worker hit a deadlock or logged a traceback
    troubles = [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert troubles == [], [record.getMessage() for record in troubles] + [
        str(record.exc_info[1]) for record in troubles if record.exc_info
    ]
    async with state.session_factory() as session:
        escalated = Counter(
            (
                await session.scalars(
                    select(TicketEvent.ticket_id).where(TicketEvent.type == TicketEventType.ESCALATED)
                )
            ).all()
        )
        tickets = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
        technicians = {t.id: t for t in (await session.scalars(select(Technician))).all()}
        seqs = (
            await session.scalars(
                select(TicketEvent.seq)
                .where(TicketEvent.project_id == world.ids["Project:lakeside"])
                .order_by(TicketEvent.seq)
            )
        ).all()
        max_seq = await session.scalar(select(func.max(TicketEvent.seq)))
    # every ticket assigned when the respond time ran out was escalated exactly once
    assert {ticket_id: escalated[ticket_id] for ticket_id in overdue} == dict.fromkeys(overdue, 1)
    # and the assignments hold together: nobody over capacity, nobody holds a ticket escalated away from them
    load = Counter(t.assignee_id for t in tickets if t.status in LOAD_STATUSES and t.assignee_id is not None)
    assert all(load[tech_id] <= technicians[tech_id].capacity for tech_id in load), load
    for ticket in tickets:
        assert (ticket.assignee_id is not None) == (ticket.status is TicketStatus.ASSIGNED), ticket.id
        assert ticket.assignee_id is None or ticket.assignee_id != ticket.avoided_technician_id, ticket.id
    # and the event log is gapless
    assert list(seqs) == list(range(1, len(seqs) + 1)) and max_seq == len(seqs)
