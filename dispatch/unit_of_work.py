"""The unit of work of ticket changes: every ticket a use case touched is settled and its events are
numbered and written in the same transaction; only once that transaction has committed are the events
published. Every ticket use case, the periodic jobs and the demo end their changes here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from db.unit_of_work import unit_of_work
from dispatch.events import Publisher
from dispatch.journal import TicketJournal, publish_after_commit
from dispatch.ticket_state import finish_changes
from kernel.errors import Conflict

__all__ = ["TicketChanges", "ticket_changes", "ticket_unit_of_work"]


@dataclass(frozen=True, slots=True)
class TicketChanges:
    """Where a ticket use case makes its changes: the transaction's session and the journal of its events."""

    session: AsyncSession
    journal: TicketJournal


@asynccontextmanager
async def ticket_changes(session: AsyncSession, *, now: dt.datetime) -> AsyncIterator[TicketChanges]:
    """Changes to tickets inside the caller's transaction. When the block ends, every ticket that gained
    an event is settled (SLA columns, version) and the events are numbered and written; the caller
    commits. A concurrent change to one of those tickets answers CONFLICT."""
    changes = TicketChanges(session, TicketJournal())
    try:
        yield changes
        await finish_changes(session, changes.journal, now=now)
        await session.flush()
    except StaleDataError:
        raise Conflict("Someone changed the ticket at the same moment; reload it and try again.") from None


@asynccontextmanager
async def ticket_unit_of_work(
    session_factory: async_sessionmaker[AsyncSession], publisher: Publisher | None, *, now: dt.datetime
) -> AsyncIterator[TicketChanges]:
    """One transaction of ticket changes: settled and written as `ticket_changes` does, committed, and
    then published. Nothing is published when it rolls back; a publisher that is missing or fails is
    logged, never raised, because the event log in the database is the source of truth."""
    async with unit_of_work(session_factory) as work, ticket_changes(work.session, now=now) as changes:
        work.after_commit(lambda: publish_after_commit(publisher, changes.journal.notices))
        yield changes
