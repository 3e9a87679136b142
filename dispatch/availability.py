"""Owners' availability: when the owner is home to let the technician in, so the day's routes start the
visit inside it (`dispatch.day_routes`).

The owner says it when reporting (`dispatch.tickets.submit_ticket`, through `record_availability_in`) or
later, and a dispatcher or admin may say it for them (`dispatch.policy.may_set_availability`). A window
that ends before it starts, is already over or is longer than two weeks is refused and nothing is written.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import OwnerAvailability, Ticket
from db.unit_of_work import unit_of_work
from dispatch.policy import may_see_ticket, may_set_availability
from dispatch.working_hours import check_availability
from kernel.errors import BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.vocabulary import TicketStatus

__all__ = ["record_availability_in", "set_owner_availability"]

# A visit is still to come in these statuses; once resolved, closed or cancelled there is none to plan.
_VISIT_TO_COME = frozenset(
    {
        TicketStatus.TRIAGE,
        TicketStatus.NEW,
        TicketStatus.REOPENED,
        TicketStatus.ASSIGNED,
        TicketStatus.ACCEPTED,
        TicketStatus.WAITING_FOR_OWNER,
    }
)


async def set_owner_availability(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    ticket_id: int,
    available_from: dt.datetime | None,
    available_until: dt.datetime | None,
    now: dt.datetime,
) -> Ticket:
    """Set when the owner is home for the ticket's visit; neither time given removes the window."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None or not may_see_ticket(principal, ticket) or not may_set_availability(principal, ticket):
            raise NotFound("No such ticket.", field="ticketId")
        if ticket.status not in _VISIT_TO_COME:
            raise Conflict(f"A {ticket.status.value} ticket has no visit to come.", field="ticketId")
        await record_availability_in(
            session, ticket, available_from, available_until, set_by_user_id=principal.user_id, now=now
        )
        return ticket


async def record_availability_in(
    session: AsyncSession,
    ticket: Ticket,
    available_from: dt.datetime | None,
    available_until: dt.datetime | None,
    *,
    set_by_user_id: int | None,
    now: dt.datetime,
) -> None:
    """Store (or, with neither time, remove) a ticket's window inside the caller's transaction."""
    stored = await session.get(OwnerAvailability, ticket.id)
    if available_from is None and available_until is None:
        if stored is not None:
            await session.delete(stored)
        return
    if available_from is None or available_until is None:
        missing = "availableFrom" if available_from is None else "availableUntil"
        raise BadInput("Give both ends of the window, or neither to remove it.", field=missing)
    opens, closes = check_availability(available_from, available_until, now=now)
    if stored is None:
        stored = OwnerAvailability(ticket_id=ticket.id)
        session.add(stored)
    stored.available_from, stored.available_until, stored.set_by_user_id = opens, closes, set_by_user_id
    await session.flush()
