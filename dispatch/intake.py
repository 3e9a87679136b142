"""How a ticket comes in, whoever files it (an owner's report, a dispatcher's phone call, Courtyard
itself when maintenance falls due): written with its SLA clock started and its deadlines set, announced
by a SUBMITTED event, and handed to a technician at once when it joins the queue of a project that
auto-dispatches.

A repair in a unit, reported by or for an owner, first asks billing whether the owner's arrears hold it
back (`billing.dunning.arrears`, off unless the project set a threshold); urgent repairs
(`dispatch.urgency`) never ask.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from billing.dunning.arrears import refuse_repair_in_arrears
from db.models import LocationKind, Ticket
from dispatch.dispatching import dispatch_ticket
from dispatch.lifecycle import Actor
from dispatch.settings import DispatchSettings
from dispatch.sla import deadlines
from dispatch.unit_of_work import TicketChanges
from dispatch.urgency import is_urgent_repair
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
    record its SUBMITTED event with `details`, and dispatch it if it is NEW and the project auto-dispatches.
    IN_ARREARS, writing nothing, when the reporting owner's arrears hold back a non-urgent repair in a unit."""
    priority = Priority(ticket.priority)
    if (
        ticket.reporter_party_id is not None
        and LocationKind(ticket.location_kind) is LocationKind.UNIT
        and not is_urgent_repair(category=Category(ticket.category), priority=priority, description=ticket.description)
    ):
        await refuse_repair_in_arrears(
            changes.session, project_id=ticket.project_id, party_id=ticket.reporter_party_id, now=now
        )
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
