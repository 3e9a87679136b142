"""What every ticket use case shares: loading the ticket or project the caller may reach, applying a
state-machine transition to the row, and keeping the row's SLA columns current.

The use cases (`dispatch.tickets`, `dispatch.dispatching`, `dispatch.jobs`) load a ticket, ask the pure
state machine (`dispatch.lifecycle.decide`) what an action does, write it here with `apply_transition`,
and end with `finish_changes` (SLA columns, version, numbered events), all in the caller's transaction
(see `dispatch.unit_of_work`). Who may do what is `dispatch.policy`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Project, Technician, Ticket, TicketEvent
from dispatch.journal import TicketJournal
from dispatch.lifecycle import (
    ASSIGNED_STATUSES,
    ESCALATABLE_STATUSES,
    TERMINAL_STATUSES,
    Actor,
    TicketFacts,
    Transition,
)
from dispatch.model import DispatchAction, SlaState, TicketAction
from dispatch.policy import may_see_ticket
from dispatch.settings import DispatchSettings, dispatch_settings
from dispatch.sla import SlaClock, SlaPolicy, SlaReport, evaluate
from kernel.errors import NotFound
from kernel.principal import Principal
from kernel.vocabulary import ActorRole, SlaTarget, TicketEventType, TicketStatus

__all__ = [
    "LOAD_STATUSES",
    "OPEN_STATUSES",
    "SYSTEM",
    "HistoryEntry",
    "apply_transition",
    "emitted_sla_events",
    "facts_of",
    "finish_changes",
    "get_ticket_for",
    "load_history",
    "project_settings",
    "refresh_sla",
    "settle",
    "sla_state_at",
    "technician_in_project",
]

SYSTEM = Actor(role=ActorRole.SYSTEM)
# Tickets a technician is working on: they count against the technician's capacity.
LOAD_STATUSES = ASSIGNED_STATUSES - {TicketStatus.RESOLVED}
OPEN_STATUSES = frozenset(TicketStatus) - TERMINAL_STATUSES
_SLA_EVENTS = frozenset({TicketEventType.SLA_WARNING, TicketEventType.SLA_BREACHED})


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    type: TicketEventType
    at: dt.datetime
    payload: dict[str, Any]


async def get_ticket_for(
    session: AsyncSession, principal: Principal, ticket_id: int, *, lock: bool = False, field: str = "ticketId"
) -> Ticket:
    """The ticket if the caller may see it (locked for update when asked), else NOT_FOUND."""
    statement = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        statement = statement.with_for_update(key_share=True)
    ticket = await session.scalar(statement)
    if ticket is None or not may_see_ticket(principal, ticket):
        raise NotFound("No such ticket.", field=field)
    return ticket


def facts_of(ticket: Ticket) -> TicketFacts:
    keeps_assignee = ticket.status in ASSIGNED_STATUSES or ticket.status in TERMINAL_STATUSES
    return TicketFacts(
        status=TicketStatus(ticket.status),
        assignee_id=ticket.assignee_id if keeps_assignee else None,
        resumes_to=TicketStatus(ticket.resumes_to) if ticket.resumes_to is not None else None,
    )


async def project_settings(session: AsyncSession, project_id: int) -> DispatchSettings:
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound("No such project.", field="projectId")
    return dispatch_settings(project.settings)


def apply_transition(
    ticket: Ticket,
    transition: Transition,
    actor: Actor,
    journal: TicketJournal,
    *,
    now: dt.datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Write what the state machine decided onto the row and record its event."""
    ticket.status = transition.to_status
    ticket.assignee_id = transition.assignee_id
    ticket.resumes_to = transition.resumes_to
    if transition.avoids_technician_id is not None:
        ticket.avoided_technician_id = transition.avoids_technician_id
        if ticket.preferred_technician_id == transition.avoids_technician_id:
            ticket.preferred_technician_id = None
    if transition.prefers_technician_id is not None:
        ticket.preferred_technician_id = transition.prefers_technician_id
        if ticket.avoided_technician_id == transition.prefers_technician_id:
            ticket.avoided_technician_id = None
    match transition.action:
        case DispatchAction.ASSIGN | DispatchAction.ESCALATE:
            ticket.last_dispatched_at = now
        case TicketAction.ACCEPT:
            ticket.accepted_at = ticket.accepted_at or now
        case TicketAction.CHECK_IN:
            ticket.on_site_at = ticket.on_site_at or now
        case TicketAction.RESOLVE:
            ticket.resolved_at = ticket.resolved_at or now
        case TicketAction.CONFIRM:
            ticket.closed_at = now
            ticket.rating = transition.input.rating
        case TicketAction.CANCEL:
            ticket.cancelled_at = now
    details: dict[str, Any] = {
        "action": transition.action.value,
        "from": transition.from_status.value,
        "to": transition.to_status.value,
        "technician": transition.assignee_id,
        "releasedTechnician": transition.released_technician_id,
        "note": transition.input.note,
        "rating": transition.input.rating,
        "category": transition.input.category.value if transition.input.category else None,
    }
    if transition.input.location is not None:
        details["location"] = {
            "latitude": transition.input.location.latitude,
            "longitude": transition.input.location.longitude,
        }
    details.update(payload or {})
    journal.record(
        ticket,
        transition.event_type,
        actor_role=actor.role,
        actor_user_id=actor.user_id,
        at=now,
        payload=details,
        technician_ids=(transition.assignee_id, transition.released_technician_id),
    )


async def load_history(session: AsyncSession, ticket_id: int) -> list[HistoryEntry]:
    rows = await session.execute(
        select(TicketEvent.type, TicketEvent.created_at, TicketEvent.payload)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.seq)
    )
    return [HistoryEntry(TicketEventType(kind), at, payload or {}) for kind, at, payload in rows]


def sla_state_at(ticket: Ticket, now: dt.datetime) -> SlaState:
    """The ticket's SLA state at `now`, from its SLA columns (the same rule the `tickets` filter applies)."""
    if ticket.sla_breached or (ticket.sla_breach_at is not None and ticket.sla_breach_at <= now):
        return SlaState.BREACHED
    if ticket.sla_warning_at is not None and ticket.sla_warning_at <= now:
        return SlaState.WARNING
    return SlaState.OK


def emitted_sla_events(history: Sequence[HistoryEntry]) -> set[tuple[TicketEventType, SlaTarget]]:
    """The SLA events already emitted in the current SLA cycle (a reopening starts a new one)."""
    emitted: set[tuple[TicketEventType, SlaTarget]] = set()
    for entry in history:
        if entry.type is TicketEventType.REOPENED:
            emitted.clear()
        elif entry.type in _SLA_EVENTS and entry.payload.get("target") in SlaTarget.__members__:
            emitted.add((entry.type, SlaTarget(entry.payload["target"])))
    return emitted


def refresh_sla(
    ticket: Ticket,
    history: Sequence[HistoryEntry],
    policy: SlaPolicy,
    now: dt.datetime,
    *,
    escalates_queued: bool,
) -> SlaReport:
    """Recompute the ticket's deadlines, SLA state columns and the next time the SLA job must look at it.

    `history` is every event of the ticket, including those not yet written. `escalates_queued` says
    whether a ticket still waiting in the queue is escalated (re-offered) too, which only makes sense
    when auto-dispatch is on; an unanswered assignment is always escalated.
    """
    # Concurrent transactions may commit in another order than their clocks read; the SLA counts time.
    ordered = sorted(history, key=lambda entry: entry.at)
    clock = SlaClock.from_history(ticket.created_at, ticket.priority, [(entry.type, entry.at) for entry in ordered])
    report = evaluate(clock, policy, now)
    by_target = {item.target: item for item in report.targets}
    ticket.sla_started_at = clock.started_at
    ticket.respond_due_at = by_target[SlaTarget.RESPOND].deadline
    ticket.on_site_due_at = by_target[SlaTarget.ON_SITE].deadline
    ticket.resolve_due_at = by_target[SlaTarget.RESOLVE].deadline
    ticket.paused_seconds = int(
        sum(((pause.end - pause.start).total_seconds() for pause in clock.pauses if pause.end is not None), 0.0)
    )
    open_pause = next((pause for pause in clock.pauses if pause.end is None), None)
    ticket.paused_since = open_pause.start if open_pause is not None else None

    running = ticket.status not in TERMINAL_STATUSES and open_pause is None
    unmet = [item for item in report.targets if item.reached_at is None]
    ticket.sla_breached = report.state is SlaState.BREACHED
    if running and unmet:
        ticket.sla_warning_at = min(item.warning_at for item in unmet)
        ticket.sla_breach_at = min(item.deadline for item in unmet)
    else:
        # The clock stands still: the state it stopped in stays.
        ticket.sla_warning_at = now if report.state is SlaState.WARNING else None
        ticket.sla_breach_at = None

    checks: list[dt.datetime] = []
    if running:
        emitted = emitted_sla_events(ordered)
        for item in unmet:
            if (TicketEventType.SLA_BREACHED, item.target) in emitted:
                continue
            warned = (TicketEventType.SLA_WARNING, item.target) in emitted
            checks.append(item.deadline if warned else item.warning_at)
        respond = by_target[SlaTarget.RESPOND]
        waiting = ticket.status is TicketStatus.ASSIGNED or escalates_queued
        if ticket.status in ESCALATABLE_STATUSES and respond.reached_at is None and waiting:
            allowed = policy.targets_for(ticket.priority).respond
            due = respond.deadline
            if ticket.last_dispatched_at is not None:
                due = max(due, ticket.last_dispatched_at + allowed)
            checks.append(due)
    ticket.sla_check_at = min(checks) if checks else None
    return report


async def settle(
    session: AsyncSession,
    ticket: Ticket,
    journal: TicketJournal,
    settings: DispatchSettings,
    *,
    now: dt.datetime,
) -> None:
    """End a change to a ticket: SLA columns from its whole history, `updated_at`, and one version bump
    (a ticket with no event written yet is being created and keeps version 1). SLA warnings and
    breaches alone do not bump the version: they note the time passing, and must not make the
    technician's or owner's next action fail as stale."""
    written = await load_history(session, ticket.id) if ticket.id is not None else []
    pending = [HistoryEntry(event.type, event.at, event.payload) for event in journal.pending if event.ticket is ticket]
    refresh_sla(ticket, written + pending, settings.sla_policy, now, escalates_queued=settings.auto_dispatch)
    if written and any(entry.type not in _SLA_EVENTS for entry in pending):
        ticket.updated_at = now
        ticket.version += 1


async def finish_changes(session: AsyncSession, journal: TicketJournal, *, now: dt.datetime) -> None:
    """Close a unit of work: settle every ticket that gained an event, then number and write the events.
    The caller commits right after."""
    tickets: list[Ticket] = []
    for event in journal.pending:
        if not any(event.ticket is seen for seen in tickets):
            tickets.append(event.ticket)
    settings: dict[int, DispatchSettings] = {}
    # Settling reads settings and written events, which the pending changes cannot alter; flushing
    # them first would only split each ticket's UPDATE in two (its status now, its SLA columns later).
    with session.no_autoflush:
        for ticket in tickets:
            if ticket.project_id not in settings:
                settings[ticket.project_id] = await project_settings(session, ticket.project_id)
            await settle(session, ticket, journal, settings[ticket.project_id], now=now)
    await journal.write(session)


async def technician_in_project(
    session: AsyncSession, technician_id: int, project_id: int, *, field: str
) -> Technician:
    technician = await session.get(Technician, technician_id)
    if technician is None or technician.project_id != project_id:
        raise NotFound("No such technician in this ticket's project.", field=field)
    return technician
