"""The ticket unit of work: tickets settled and events written in one transaction, published only after
it commits; nothing published when it rolls back or conflicts; a broadcast that fails never fails it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import func, select, update

from api.state import AppState
from db.models import Ticket, TicketEvent
from dispatch.events import Publisher
from dispatch.unit_of_work import TicketChanges, ticket_changes, ticket_unit_of_work
from kernel.errors import BadInput, Conflict
from kernel.vocabulary import ActorRole, TicketEventType
from tests.conftest import START
from tests.integration.dispatch_world import insert_ticket
from tests.integration.test_submit_ticket import RecordingPublisher
from tests.integration.world import build_world


async def _a_ticket(state: AppState) -> int:
    world = await build_world(state)
    async with state.session_factory() as session, session.begin():
        return await insert_ticket(session, world.ids["Project:lakeside"])


async def _record_comment(changes: TicketChanges, ticket_id: int) -> None:
    ticket = await changes.session.get(Ticket, ticket_id)
    assert ticket is not None
    changes.journal.record(
        ticket, TicketEventType.COMMENTED, actor_role=ActorRole.DISPATCHER, actor_user_id=None, at=START
    )


async def _comment(state: AppState, publisher: Publisher, ticket_id: int) -> None:
    """One unit of work that comments on the ticket."""
    async with ticket_unit_of_work(state.session_factory, publisher, now=START) as changes:
        await _record_comment(changes, ticket_id)


async def _logged(state: AppState, ticket_id: int) -> list[tuple[int, TicketEventType]]:
    async with state.session_factory() as session:
        rows = await session.execute(
            select(TicketEvent.seq, TicketEvent.type).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.seq)
        )
        return [(seq, kind) for seq, kind in rows]


class CommitWitness(RecordingPublisher):
    """Records, for every message, whether its event could already be read from another session."""

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self.committed: list[bool] = []

    async def publish(self, channel: str, message: str) -> bool:
        seq = json.loads(message)["seq"]
        async with self.state.session_factory() as session:
            found = await session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.seq == seq))
        self.committed.append(found == 1)
        return await super().publish(channel, message)


async def test_events_are_written_settled_and_published_only_after_the_commit(state: AppState) -> None:
    # given
    ticket_id = await _a_ticket(state)
    witness = CommitWitness(state)
    # when
    await _comment(state, witness, ticket_id)
    # then every channel heard the event, and each time it was already committed
    assert [channel.split(":")[0] for channel, _ in witness.messages] == ["ticket", "board"]
    assert witness.committed == [True, True]
    assert await _logged(state, ticket_id) == [(1, TicketEventType.COMMENTED)]
    async with state.session_factory() as session:
        ticket = await session.get(Ticket, ticket_id)
    # settled: the SLA clock of this NORMAL ticket warns at 80 % of its 30 minutes to respond
    assert ticket is not None and ticket.sla_warning_at == START + dt.timedelta(minutes=24)


async def _refuse(changes: TicketChanges, ticket_id: int) -> None:
    raise BadInput("refused after the event was recorded")


async def _change_meanwhile(changes: TicketChanges, ticket_id: int) -> None:
    """Someone else changes the ticket between this unit of work's read and its write."""
    await changes.session.execute(
        update(Ticket).where(Ticket.id == ticket_id).values(version=Ticket.version + 1),
        execution_options={"synchronize_session": False},
    )


@pytest.mark.parametrize(
    ("trouble", "error"), [(_refuse, BadInput), (_change_meanwhile, Conflict)], ids=["refused", "conflict"]
)
async def test_a_unit_of_work_that_fails_writes_and_publishes_nothing(
    state: AppState, trouble: Callable[[TicketChanges, int], Awaitable[None]], error: type[Exception]
) -> None:
    # given
    ticket_id = await _a_ticket(state)
    publisher = RecordingPublisher()
    # when the use case fails after recording its event
    with pytest.raises(error):
        async with ticket_unit_of_work(state.session_factory, publisher, now=START) as changes:
            await _record_comment(changes, ticket_id)
            await trouble(changes, ticket_id)
    # then
    assert publisher.messages == []
    assert await _logged(state, ticket_id) == []


async def test_a_failing_broadcast_never_fails_the_unit_of_work(state: AppState) -> None:
    # given
    ticket_id = await _a_ticket(state)
    # when
    await _comment(state, RecordingPublisher(fail=True), ticket_id)
    # then the event is logged all the same: subscribers catch up from the log
    assert await _logged(state, ticket_id) == [(1, TicketEventType.COMMENTED)]


async def test_changes_inside_a_callers_transaction_are_settled_but_neither_committed_nor_published(
    state: AppState,
) -> None:
    # given
    ticket_id = await _a_ticket(state)
    # when the caller's transaction ends without committing
    async with state.session_factory() as session:
        async with ticket_changes(session, now=START) as changes:
            await _record_comment(changes, ticket_id)
        written = [event.row.seq for event in changes.journal.written if event.row is not None]
        await session.rollback()
    # then the event was numbered and written in it, and is gone with it
    assert written == [1]
    assert await _logged(state, ticket_id) == []
