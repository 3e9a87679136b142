"""Helpers for live-feed tests: tickets and logged events written straight to the database, a fake bus.

`append_event` allocates `seq` as the dispatch services do (the project's counter row, in the same
transaction), so the feed can be tested on its own, including notices that are late, lost or repeated.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Ticket, TicketEvent, TicketSeqCounter
from db.models.tickets import LocationKind
from dispatch.events import EventNotice, notice_channels
from kernel.vocabulary import (
    ActorRole,
    Category,
    Priority,
    TicketEventType,
    TicketStatus,
)

RESYNC_MARK = object()


class FakeBus:
    """An in-memory bus whose deliveries the test controls: send, drop, repeat, reorder, resync."""

    def __init__(self) -> None:
        self._inboxes: dict[str, list[asyncio.Queue[object]]] = defaultdict(list)
        self.subscribe_calls: list[str] = []

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[AsyncIterator[object]]:
        queue: asyncio.Queue[object] = asyncio.Queue()
        self.subscribe_calls.append(channel)
        self._inboxes[channel].append(queue)

        async def messages() -> AsyncIterator[object]:
            while True:
                yield await queue.get()

        try:
            yield messages()
        finally:
            self._inboxes[channel].remove(queue)
            if not self._inboxes[channel]:
                del self._inboxes[channel]

    @property
    def subscribed(self) -> frozenset[str]:
        return frozenset(self._inboxes)

    def send(self, notice: EventNotice, technician_ids: tuple[int, ...] = ()) -> None:
        for channel in notice_channels(notice, technician_ids):
            for queue in self._inboxes.get(channel, ()):
                queue.put_nowait(notice.encode())

    def send_raw(self, channel: str, message: object) -> None:
        for queue in self._inboxes.get(channel, ()):
            queue.put_nowait(message)

    def resync(self) -> None:
        for queues in self._inboxes.values():
            for queue in queues:
                queue.put_nowait(RESYNC_MARK)


async def create_ticket(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    project_id: int,
    unit_id: int | None,
    reporter_party_id: int | None = None,
    now: dt.datetime,
    description: str = "水龙头漏水 the kitchen tap drips",
) -> int:
    async with session_factory() as session, session.begin():
        ticket = Ticket(
            project_id=project_id,
            location_kind=LocationKind.UNIT if unit_id is not None else LocationKind.LOBBY,
            unit_id=unit_id,
            reporter_party_id=reporter_party_id,
            description=description,
            category=Category.PLUMBING,
            priority=Priority.NORMAL,
            status=TicketStatus.NEW,
            sla_started_at=now,
            respond_due_at=now + dt.timedelta(minutes=30),
            on_site_due_at=now + dt.timedelta(hours=2),
            resolve_due_at=now + dt.timedelta(hours=24),
        )
        session.add(ticket)
        await session.flush()
        return ticket.id


async def append_event(
    session_factory: async_sessionmaker[AsyncSession],
    ticket_id: int,
    event_type: TicketEventType,
    *,
    status: TicketStatus | None = None,
    assignee_id: int | None | type[Ellipsis] = ...,
    payload: dict[str, Any] | None = None,
    actor_role: ActorRole = ActorRole.DISPATCHER,
) -> EventNotice:
    """Log one event on a ticket (optionally changing its status/assignee) and commit; no publishing."""
    async with session_factory() as session, session.begin():
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        counter = await session.scalar(
            select(TicketSeqCounter).where(TicketSeqCounter.project_id == ticket.project_id).with_for_update()
        )
        if counter is None:
            counter = TicketSeqCounter(project_id=ticket.project_id, last_seq=0)
            session.add(counter)
        counter.last_seq += 1
        if status is not None:
            ticket.status = status
        if assignee_id is not ...:
            ticket.assignee_id = assignee_id  # type: ignore[assignment]
        if status is not None or assignee_id is not ...:
            ticket.version += 1
        session.add(
            TicketEvent(
                project_id=ticket.project_id,
                ticket_id=ticket.id,
                seq=counter.last_seq,
                type=event_type,
                actor_role=actor_role,
                payload=payload or {},
            )
        )
        return EventNotice(ticket.project_id, ticket.id, counter.last_seq, event_type.value)
