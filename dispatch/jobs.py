"""The periodic dispatch jobs: SLA warnings, breaches and escalation; preventive maintenance falling due;
re-planning each project's queue.

Each job works one item per transaction and claims it with `FOR NO KEY UPDATE SKIP LOCKED`, so any
number of workers on PostgreSQL share the work without doing anything twice: a row another worker holds is
skipped, and once that worker commits, the row no longer matches (its `sla_check_at` has moved on, or
the equipment has an open maintenance ticket). SQLite ignores `SKIP LOCKED`; there a single worker
runs (in-process on the embedded default), and the unique key on `sla_emission` still stops a second
copy of an SLA event. Every item is one ticket unit of work (`dispatch.unit_of_work`), whose events
are published after it commits. Every job keeps the lock order of ARCHITECTURE.md ("Lock order"):
tickets, equipment, the project's technicians, the event counter.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Exists, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Equipment, Project, SlaEmission, Ticket, TicketKind
from dispatch.dispatching import dispatch_ticket, optimize_project
from dispatch.equipment import local_today, open_maintenance_ticket
from dispatch.events import Publisher
from dispatch.journal import PendingEvent
from dispatch.lifecycle import TERMINAL_STATUSES, decide
from dispatch.model import DispatchAction
from dispatch.settings import dispatch_settings
from dispatch.sla import SlaClock, due_sla_events, should_escalate
from dispatch.ticket_state import (
    SYSTEM,
    apply_transition,
    emitted_sla_events,
    facts_of,
    finish_changes,
    load_history,
    project_settings,
    refresh_sla,
)
from dispatch.unit_of_work import TicketChanges, ticket_unit_of_work
from kernel.vocabulary import SlaTarget, TicketEventType, TicketStatus

__all__ = ["JobReport", "open_due_maintenance", "reoptimize_queues", "run_sla_checks"]

log = logging.getLogger("courtyard.jobs")

# Key space of the PostgreSQL advisory locks that keep two workers from re-planning one project at once.
_REPLAN_LOCK_CLASS = 7301
# When a ticket's SLA check finds nothing to do (it should not happen), look again after this long
# rather than spin on it.
_IDLE_RECHECK = dt.timedelta(minutes=1)


@dataclass
class JobReport:
    """What one run did (its events are published as each item commits)."""

    sla_events: int = 0
    escalations: int = 0
    maintenance_tickets: int = 0
    replanned: int = 0
    failures: int = 0

    def merge(self, other: JobReport) -> None:
        self.sla_events += other.sla_events
        self.escalations += other.escalations
        self.maintenance_tickets += other.maintenance_tickets
        self.replanned += other.replanned
        self.failures += other.failures


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def _check_ticket(changes: TicketChanges, ticket: Ticket, *, now: dt.datetime) -> JobReport:
    session, journal = changes.session, changes.journal
    report = JobReport()
    settings = await project_settings(session, ticket.project_id)
    policy = settings.sla_policy
    history = sorted(await load_history(session, ticket.id), key=lambda entry: entry.at)
    clock = SlaClock.from_history(ticket.created_at, ticket.priority, [(entry.type, entry.at) for entry in history])
    emitted: list[tuple[PendingEvent, SlaTarget]] = []
    for due in due_sla_events(clock, policy, now, emitted_sla_events(history)):
        pending = journal.record(
            ticket,
            due.kind,
            actor_role=SYSTEM.role,
            actor_user_id=None,
            at=now,
            payload={"target": due.target.value, "dueAt": due.at.isoformat()},
            technician_ids=(ticket.assignee_id,),
        )
        emitted.append((pending, due.target))
    report.sla_events = len(emitted)
    waits_for_technician = ticket.status is TicketStatus.ASSIGNED or settings.auto_dispatch
    if waits_for_technician and should_escalate(clock, policy, now, ticket.status, ticket.last_dispatched_at):
        transition = decide(facts_of(ticket), DispatchAction.ESCALATE, SYSTEM)
        apply_transition(ticket, transition, SYSTEM, journal, now=now, payload={"reason": "not accepted in time"})
        report.escalations = 1
        if settings.auto_dispatch:
            await dispatch_ticket(session, journal, ticket, now=now)
    if journal.pending:
        # Each emission names its event, so the events are written now rather than when the unit of work ends.
        await finish_changes(session, journal, now=now)
        for pending, target in emitted:
            assert pending.row is not None
            session.add(
                SlaEmission(
                    ticket_id=ticket.id,
                    kind=pending.type,
                    target=target,
                    clock_started_at=clock.started_at,
                    event_id=pending.row.id,
                    created_at=now,
                )
            )
    else:
        refresh_sla(ticket, history, policy, now, escalates_queued=settings.auto_dispatch)
        if ticket.sla_check_at is not None and ticket.sla_check_at <= now:
            log.warning("ticket %s had an SLA check due with nothing to do; looking again later", ticket.id)
            ticket.sla_check_at = now + _IDLE_RECHECK
    await session.flush()
    return report


async def run_sla_checks(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    publisher: Publisher | None = None,
    limit: int = 500,
) -> JobReport:
    """Emit the SLA warnings and breaches that have fallen due and escalate unaccepted tickets whose
    respond time has run out, one ticket per transaction."""
    report = JobReport()
    async with session_factory() as session:
        candidates: Sequence[int] = (
            await session.scalars(
                select(Ticket.id)
                .where(Ticket.sla_check_at <= now)
                .order_by(Ticket.sla_check_at, Ticket.id)
                .limit(limit)
            )
        ).all()
    for ticket_id in candidates:
        try:
            async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
                ticket = await changes.session.scalar(
                    select(Ticket)
                    .where(Ticket.id == ticket_id, Ticket.sla_check_at <= now)
                    .with_for_update(skip_locked=True, key_share=True)
                )
                if ticket is None or ticket.status in TERMINAL_STATUSES:
                    continue
                outcome = await _check_ticket(changes, ticket, now=now)
        except Exception:
            # One ticket's trouble (or another worker that got there first) must not stop the rest.
            log.exception("SLA check of ticket %s failed", ticket_id)
            report.failures += 1
            continue
        report.merge(outcome)
    return report


def _has_open_maintenance_ticket() -> Exists:
    return exists().where(
        Ticket.equipment_id == Equipment.id,
        Ticket.kind == TicketKind.MAINTENANCE,
        Ticket.status.not_in(sorted(TERMINAL_STATUSES)),
    )


async def open_due_maintenance(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    now: dt.datetime,
    publisher: Publisher | None = None,
    limit: int = 200,
) -> JobReport:
    """Open (and dispatch) a maintenance ticket for each active piece of equipment that has fallen due
    in its project's time zone and has no maintenance ticket open."""
    report = JobReport()
    # Every time zone's today is at most a day after UTC's; the exact check happens per item below.
    horizon = now.date() + dt.timedelta(days=1)
    async with session_factory() as session:
        candidates: Sequence[int] = (
            await session.scalars(
                select(Equipment.id)
                .where(Equipment.is_active, Equipment.next_due_on <= horizon, ~_has_open_maintenance_ticket())
                .order_by(Equipment.next_due_on, Equipment.id)
                .limit(limit)
            )
        ).all()
    for equipment_id in candidates:
        try:
            async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
                equipment = await changes.session.scalar(
                    select(Equipment)
                    .where(Equipment.id == equipment_id, ~_has_open_maintenance_ticket())
                    .with_for_update(skip_locked=True, key_share=True)
                )
                if equipment is None or not equipment.is_active:
                    continue
                project = await changes.session.get(Project, equipment.project_id)
                assert project is not None
                if equipment.next_due_on > local_today(project.timezone, now):
                    continue
                await open_maintenance_ticket(changes, equipment, now=now)
        except Exception:
            log.exception("opening maintenance for equipment %s failed", equipment_id)
            report.failures += 1
            continue
        report.maintenance_tickets += 1
    return report


async def reoptimize_queues(
    session_factory: async_sessionmaker[AsyncSession], *, now: dt.datetime, publisher: Publisher | None = None
) -> JobReport:
    """Re-plan, as one batch per auto-dispatching project, the tickets still waiting in the queue
    (those instant mode could not place when they came in). Assigned tickets are left where they are:
    moving them is the dispatcher's call (`optimizeDispatch`)."""
    report = JobReport()
    async with session_factory() as session:
        queued = (
            await session.execute(
                select(Project.id, Project.settings)
                .where(
                    exists().where(
                        Ticket.project_id == Project.id,
                        Ticket.status.in_([TicketStatus.NEW, TicketStatus.REOPENED]),
                    )
                )
                .order_by(Project.id)
            )
        ).all()
    for project_id, raw_settings in queued:
        if not dispatch_settings(raw_settings).auto_dispatch:
            continue
        try:
            async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
                session, journal = changes.session, changes.journal
                if _is_postgres(session) and not await session.scalar(
                    select(func.pg_try_advisory_xact_lock(_REPLAN_LOCK_CLASS, project_id))
                ):
                    continue
                await optimize_project(
                    session, journal, project_id=project_id, actor=SYSTEM, now=now, apply=True, include_assigned=False
                )
        except Exception:
            log.exception("re-planning the queue of project %s failed", project_id)
            report.failures += 1
            continue
        report.replanned += sum(1 for item in journal.written if item.type is TicketEventType.ASSIGNED)
    return report
