"""How a ticket comes in, whoever files it (an owner's report, a dispatcher's phone call, Courtyard
itself when maintenance falls due): written with its SLA clock started and its deadlines set, announced
by a SUBMITTED event, and handed to a technician at once when it joins the queue of a project that
auto-dispatches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from db.models import Ticket
from dispatch.dispatching import dispatch_ticket
from dispatch.lifecycle import Actor
from dispatch.settings import DispatchSettings
from dispatch.sla import deadlines
from dispatch.unit_of_work import TicketChanges
from kernel.vocabulary import Category, Priority, TicketEventType, TicketStatus

__all__ = ["file_ticket"]


async def file_ticket(
    changes: TicketChanges,
    ticket: Ticket,
    *,
    actor: Actor,
    settings: DispatchSettings,
    now: dt.datetime,
    details: Mapping[str, Any],
) -> Ticket:
    """Write `ticket` (its place, text, category, priority and status set by the caller) as new at `now`,
    record its SUBMITTED event with `details`, and dispatch it if it is NEW and the project auto-dispatches."""
    priority = Priority(ticket.priority)
    promises = deadlines(now, priority, settings.sla_policy)
    ticket.created_at = ticket.updated_at = ticket.sla_started_at = now
    ticket.respond_due_at, ticket.on_site_due_at, ticket.resolve_due_at = (
        promises.respond,
        promises.on_site,
        promises.resolve,
    )
    ticket.version = 1
    changes.session.add(ticket)
    await changes.session.flush()
    status = TicketStatus(ticket.status)
    changes.journal.record(
        ticket,
        TicketEventType.SUBMITTED,
        actor_role=actor.role,
        actor_user_id=actor.user_id,
        at=now,
        payload={
            "status": status.value,
            "category": Category(ticket.category).value,
            "priority": priority.value,
            **details,
        },
    )
    if status is TicketStatus.NEW and settings.auto_dispatch:
        await dispatch_ticket(changes.session, changes.journal, ticket, now=now)
    return ticket
