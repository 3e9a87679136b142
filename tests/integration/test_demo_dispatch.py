"""The demo's repair work: closed tickets with their whole history, an open board at every stage, and
the equipment ledger — all written through the real use cases, on both databases."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import api.demo
from api.demo import seed_demo
from api.state import AppState
from api.workers import DispatchWorker
from db.models import Equipment, MaintenanceRecord, Ticket, TicketEvent
from db.personal_data import PersonalDataCipher
from kernel.vocabulary import TicketStatus

TODAY = dt.date(2026, 3, 16)
NOW = dt.datetime(2026, 3, 16, 2, 0, tzinfo=dt.UTC)  # 10:00 in Hangzhou, as the demo plays it


async def _without_billing(*args: object, **kwargs: object) -> None:
    """The billing half of the demo, invoicing included, is not under test here (and takes most of the
    seeding time)."""


@pytest.fixture
async def seeded(state: AppState) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api.demo, "seed_billing", _without_billing)
        patch.setattr(api.demo, "seed_invoicing", _without_billing)
        assert await seed_demo(state.session_factory, PersonalDataCipher("demo-dispatch-test-secret-0123"), today=TODAY)
    yield state.session_factory


async def test_the_demo_has_closed_history_an_open_board_and_equipment(
    seeded: async_sessionmaker[AsyncSession],
) -> None:
    async with seeded() as session:
        tickets = (await session.scalars(select(Ticket).order_by(Ticket.id))).all()
        events = (
            await session.execute(
                select(TicketEvent.ticket_id, TicketEvent.seq, TicketEvent.type, TicketEvent.created_at).order_by(
                    TicketEvent.seq
                )
            )
        ).all()
        equipment = (await session.scalars(select(Equipment).order_by(Equipment.id))).all()
        records = await session.scalar(select(func.count()).select_from(MaintenanceRecord))
    done = [t for t in tickets if t.status in (TicketStatus.CLOSED, TicketStatus.CANCELLED)]
    open_board = Counter(t.status.value for t in tickets if t not in done)
    # every stage of the board is there
    assert open_board == {
        "TRIAGE": 1,
        "NEW": 1,
        "ASSIGNED": 2,
        "ACCEPTED": 2,
        "ON_SITE": 1,
        "IN_PROGRESS": 1,
        "WAITING_FOR_OWNER": 1,
        "RESOLVED": 1,
    }
    # closed work is rated and lies in the past; each ticket's history starts with its report and ends how it ended
    assert len(done) == 24
    history: dict[int, list[str]] = {}
    for ticket_id, _, kind, _ in events:
        history.setdefault(ticket_id, []).append(kind.value)
    for ticket in done:
        assert history[ticket.id][0] == "SUBMITTED"
        assert history[ticket.id][-1] == ("CLOSED" if ticket.status is TicketStatus.CLOSED else "CANCELLED")
        assert ticket.created_at < NOW - dt.timedelta(days=2)
        if ticket.status is TicketStatus.CLOSED:
            assert ticket.rating in range(1, 6) and ticket.resolved_at is not None
    assert any("REOPENED" in history[t.id] for t in done)
    # seqs are 1…N, and follow time
    assert [seq for _, seq, _, _ in events] == list(range(1, len(events) + 1))
    assert [at for *_, at in events] == sorted(at for *_, at in events)
    assert max(at for *_, at in events) <= NOW
    # the ledger: lifts, pumps, fire system, generator and gate, with history; one lift is due
    assert [e.kind.value for e in equipment].count("LIFT") == 4 and len(equipment) == 8
    assert records == 32
    assert [e.name for e in equipment if e.next_due_on <= TODAY] == ["2栋1号电梯"]
    # an hour after the demo's moment the worker escalates unanswered jobs and opens the lift's maintenance
    report = await DispatchWorker(seeded, clock=lambda: NOW + dt.timedelta(hours=1)).run_once()
    assert report.maintenance_tickets == 1
    assert report.escalations >= 1
    assert report.failures == 0
