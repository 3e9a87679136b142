"""The ticket event log: buffering one transaction's events, numbering them, and publishing after commit.

Every change to a ticket appends a `TicketEvent` whose `seq` increases per project **in commit order**,
so a subscriber that has read up to seq N never later meets an N-1 that committed late. The seqs come
from the project's `ticket_seq_counter` row, incremented by one upsert inside the same transaction; the
row lock that upsert takes is held until commit, so a second transaction of the same project waits for
the first to commit before it can number its own events. To hold that lock as briefly as possible (and
always last, after ticket and technician rows), a `TicketJournal` buffers the events and numbers them
all at once in `write`, just before the caller commits. SQLite takes a database-wide write lock on the
first write of a transaction, which gives the same order.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Ticket, TicketEvent, TicketSeqCounter
from dispatch.events import EventNotice, Publisher, publish_notice
from kernel.vocabulary import ActorRole, TicketEventType

__all__ = ["PendingEvent", "PublishedNotice", "TicketJournal", "allocate_seqs", "publish_after_commit"]

log = logging.getLogger("courtyard.dispatch")


@dataclass(frozen=True, slots=True)
class PublishedNotice:
    """A notice to publish once the transaction has committed, with the technicians it concerns."""

    notice: EventNotice
    technician_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class PendingEvent:
    ticket: Ticket
    type: TicketEventType
    actor_role: ActorRole
    actor_user_id: int | None
    at: dt.datetime
    payload: dict[str, Any]
    technician_ids: tuple[int, ...]
    row: TicketEvent | None = None


async def allocate_seqs(session: AsyncSession, project_id: int, count: int) -> int:
    """Reserve `count` consecutive seqs of a project and answer the first; the counter row stays locked
    until the transaction ends."""
    if count < 1:
        raise ValueError("count must be at least 1")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(TicketSeqCounter)
        .values(project_id=project_id, last_seq=count)
        .on_conflict_do_update(
            index_elements=[TicketSeqCounter.project_id],
            set_={"last_seq": TicketSeqCounter.last_seq + count},
        )
        .returning(TicketSeqCounter.last_seq)
    )
    last = int((await session.execute(statement)).scalar_one())
    return last - count + 1


@dataclass
class TicketJournal:
    """The events one unit of work appends, in the order they happened."""

    pending: list[PendingEvent] = field(default_factory=list)
    written: list[PendingEvent] = field(default_factory=list)

    def record(
        self,
        ticket: Ticket,
        event_type: TicketEventType,
        *,
        actor_role: ActorRole,
        actor_user_id: int | None,
        at: dt.datetime,
        payload: Mapping[str, Any] | None = None,
        technician_ids: Iterable[int | None] = (),
    ) -> PendingEvent:
        """Remember an event; `technician_ids` are the technicians it concerns (their channels hear it)."""
        event = PendingEvent(
            ticket=ticket,
            type=event_type,
            actor_role=actor_role,
            actor_user_id=actor_user_id,
            at=at,
            payload={key: value for key, value in (payload or {}).items() if value is not None},
            technician_ids=tuple(dict.fromkeys(i for i in technician_ids if i is not None)),
        )
        self.pending.append(event)
        return event

    def pending_history(self, ticket_id: int) -> list[tuple[TicketEventType, dt.datetime]]:
        """This unit of work's events of one ticket not yet written, as (type, time)."""
        return [(event.type, event.at) for event in self.pending if event.ticket.id == ticket_id]

    async def write(self, session: AsyncSession) -> Sequence[TicketEvent]:
        """Number and insert the buffered events (call last, just before commit)."""
        if not self.pending:
            return []
        await session.flush()
        by_project: dict[int, list[PendingEvent]] = {}
        for event in self.pending:
            by_project.setdefault(event.ticket.project_id, []).append(event)
        rows: list[TicketEvent] = []
        # Counter rows are locked in project order, so two multi-project writers cannot deadlock.
        for project_id in sorted(by_project):
            events = by_project[project_id]
            first = await allocate_seqs(session, project_id, len(events))
            for offset, event in enumerate(events):
                event.row = TicketEvent(
                    project_id=project_id,
                    ticket_id=event.ticket.id,
                    seq=first + offset,
                    type=event.type,
                    actor_user_id=event.actor_user_id,
                    actor_role=event.actor_role,
                    payload=event.payload,
                    created_at=event.at,
                )
                rows.append(event.row)
        session.add_all(rows)
        await session.flush()
        self.written.extend(self.pending)
        self.pending.clear()
        return rows

    @property
    def notices(self) -> list[PublishedNotice]:
        """What to publish after commit, in seq order."""
        notices = [
            PublishedNotice(
                EventNotice(
                    project_id=event.row.project_id,
                    ticket_id=event.row.ticket_id,
                    seq=event.row.seq,
                    type=event.type.value,
                ),
                event.technician_ids,
            )
            for event in self.written
            if event.row is not None
        ]
        return sorted(notices, key=lambda item: (item.notice.project_id, item.notice.seq))


async def publish_after_commit(publisher: Publisher | None, notices: Iterable[PublishedNotice]) -> None:
    """Publish committed events; a missing or failing broadcast backend is logged, never raised, because
    the log in the database is the source of truth and subscribers catch up from it."""
    if publisher is None:
        return
    for item in notices:
        try:
            delivered = await publish_notice(publisher, item.notice, technician_ids=item.technician_ids)
        except Exception:
            log.exception("publishing ticket event %s of project %s failed", item.notice.seq, item.notice.project_id)
            continue
        if not delivered:
            log.warning(
                "broadcast backend did not take ticket event %s of project %s", item.notice.seq, item.notice.project_id
            )
