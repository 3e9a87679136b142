"""Choosing technicians: the solver's instant mode for one ticket, batch re-optimisation for a project
(`optimize_dispatch`, the dispatcher's use case; `optimize_project`, its step, also run by the jobs).

Both load plain supply and demand from the database, call the pure solver (`dispatch.solver`) and turn
its answer into ASSIGN (or UNASSIGN) transitions through the state machine. Technician rows are locked
for the rest of the transaction, so two dispatches in one project cannot both hand out a technician's
last free slot; they are locked after the tickets involved and before the event counter, the order
every writer keeps (ARCHITECTURE.md, "Lock order"). The locks are FOR NO KEY UPDATE: a ticket UPDATE
naming a technician (assignee, preferred, avoided) takes a KEY SHARE lock on that technician for its
foreign key, possibly before this transaction reaches its technician lock, and FOR UPDATE would wait
for those and turn the order round.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Building, Project, Technician, Ticket
from dispatch.events import Publisher
from dispatch.journal import TicketJournal
from dispatch.lifecycle import ActionInput, Actor, decide
from dispatch.model import AssignmentMode, DispatchAction, GeoPoint
from dispatch.policy import DISPATCH_STAFF_ONLY, dispatcher_actor, dispatches_in
from dispatch.shifts import working_days
from dispatch.solver import (
    Assignment,
    CostBreakdown,
    DispatchPlan,
    TechnicianSupply,
    TicketDemand,
    Unassignable,
    assign_one,
    solve,
)
from dispatch.ticket_state import (
    LOAD_STATUSES,
    SYSTEM,
    apply_transition,
    facts_of,
)
from dispatch.unit_of_work import ticket_unit_of_work
from kernel.principal import Principal
from kernel.vocabulary import ActorRole, Priority, TicketStatus
from register.projects import get_project_for

__all__ = [
    "BATCH_STATUSES",
    "OptimizationOutcome",
    "PlannedAssignment",
    "TicketSites",
    "dispatch_ticket",
    "load_supply",
    "optimize_dispatch",
    "optimize_project",
    "technician_position",
]

# Tickets batch re-optimisation may move: nobody has accepted them yet.
BATCH_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.REOPENED, TicketStatus.ASSIGNED})
_QUEUED_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.REOPENED})


def technician_position(technician: Technician) -> GeoPoint:
    if technician.current_latitude is not None and technician.current_longitude is not None:
        return GeoPoint(technician.current_latitude, technician.current_longitude)
    return GeoPoint(technician.home_latitude, technician.home_longitude)


async def load_supply(
    session: AsyncSession, project_id: int, *, lock: bool, now: dt.datetime, leave_out_tickets: Iterable[int] = ()
) -> list[TechnicianSupply]:
    """The project's technicians as the solver sees them; `leave_out_tickets` do not count as load
    (they are the ones being re-planned). One who does not work the rest of today by their stored hours
    and days off counts as off shift, whatever they said last: the rule the day's routes plan by
    (`dispatch.shifts.working_days`), so a night worker whose shift started yesterday evening is given
    work until it ends, even on a date they have off."""
    statement = select(Technician).where(Technician.project_id == project_id).order_by(Technician.id)
    if lock:
        statement = statement.with_for_update(key_share=True)
    technicians = (await session.scalars(statement)).all()
    timezone = await session.scalar(select(Project.timezone).where(Project.id == project_id))
    assert timezone is not None  # the project of a ticket being dispatched is kept (ON DELETE RESTRICT)
    working = await working_days(session, [t.id for t in technicians], now.astimezone(ZoneInfo(timezone)))
    load_query = (
        select(Ticket.assignee_id, func.count())
        .where(
            Ticket.project_id == project_id,
            Ticket.assignee_id.is_not(None),
            Ticket.status.in_(sorted(LOAD_STATUSES)),
        )
        .group_by(Ticket.assignee_id)
    )
    excluded = sorted(set(leave_out_tickets))
    if excluded:
        load_query = load_query.where(Ticket.id.not_in(excluded))
    loads = {technician_id: count for technician_id, count in await session.execute(load_query)}
    return [
        TechnicianSupply(
            technician_id=technician.id,
            skills=frozenset(technician.skills),
            location=technician_position(technician),
            on_shift=technician.on_shift and working[technician.id].works,
            current_load=int(loads.get(technician.id, 0)),
            capacity=technician.capacity,
        )
        for technician in technicians
    ]


class TicketSites:
    """Where each ticket is, for travel distances: its building, else the middle of the project."""

    def __init__(self, buildings: Sequence[Building], supply: Sequence[TechnicianSupply]) -> None:
        self._by_id = {
            b.id: GeoPoint(b.latitude, b.longitude)
            for b in buildings
            if b.latitude is not None and b.longitude is not None
        }
        known = list(self._by_id.values()) or [technician.location for technician in supply]
        self._centre = (
            GeoPoint(sum(p.latitude for p in known) / len(known), sum(p.longitude for p in known) / len(known))
            if known
            else GeoPoint(0.0, 0.0)
        )

    @classmethod
    async def of_project(cls, session: AsyncSession, project_id: int, supply: Sequence[TechnicianSupply]) -> TicketSites:
        buildings = (await session.scalars(select(Building).where(Building.project_id == project_id))).all()
        return cls(buildings, supply)

    def of(self, ticket: Ticket) -> GeoPoint:
        if ticket.building_id is not None and ticket.building_id in self._by_id:
            return self._by_id[ticket.building_id]
        return self._centre


def _demand(ticket: Ticket, site: GeoPoint, now: dt.datetime) -> TicketDemand:
    waited = max(0, int((now - ticket.sla_started_at).total_seconds() // 60)) if ticket.sla_started_at else 0
    return TicketDemand(
        ticket_id=ticket.id,
        skill=ticket.category.value,
        location=site,
        priority=Priority(ticket.priority),
        waiting_minutes=waited,
        preferred_technician_id=ticket.preferred_technician_id,
    )


def _cost_payload(cost: CostBreakdown) -> dict[str, int]:
    return {
        "distanceMeters": cost.distance_m,
        "distance": cost.distance,
        "priority": cost.priority,
        "load": cost.load,
        "preference": cost.preference,
        "total": cost.total,
    }


def _assign(
    ticket: Ticket,
    technician_id: int,
    actor: Actor,
    journal: TicketJournal,
    *,
    now: dt.datetime,
    cost: CostBreakdown,
    mode: AssignmentMode,
) -> None:
    transition = decide(facts_of(ticket), DispatchAction.ASSIGN, actor, ActionInput(technician_id=technician_id))
    apply_transition(ticket, transition, actor, journal, now=now, payload={"mode": mode.value, "cost": _cost_payload(cost)})


async def dispatch_ticket(
    session: AsyncSession, journal: TicketJournal, ticket: Ticket, *, now: dt.datetime
) -> Assignment | Unassignable:
    """Instant mode: hand a waiting ticket to the cheapest qualified technician (never the one it
    should avoid), as Courtyard itself; a ticket nobody can take stays in the queue."""
    supply = await load_supply(session, ticket.project_id, lock=True, now=now)
    candidates = [s for s in supply if s.technician_id != ticket.avoided_technician_id]
    sites = await TicketSites.of_project(session, ticket.project_id, supply)
    if ticket.id is None:
        await session.flush()
    result = assign_one(_demand(ticket, sites.of(ticket), now), candidates)
    if isinstance(result, Assignment):
        _assign(ticket, result.technician_id, SYSTEM, journal, now=now, cost=result.cost, mode=AssignmentMode.INSTANT)
    return result


@dataclass(frozen=True)
class PlannedAssignment:
    ticket_id: int
    technician_id: int
    previous_technician_id: int | None
    cost: CostBreakdown

    @property
    def changes(self) -> bool:
        return self.technician_id != self.previous_technician_id


@dataclass(frozen=True)
class OptimizationOutcome:
    """A batch plan: every considered ticket either in `assignments` or in `unassigned`;
    `unassigned_from` are tickets the plan takes from their technician (applied only by staff)."""

    assignments: tuple[PlannedAssignment, ...]
    unassigned: tuple[Unassignable, ...]
    unassigned_from: dict[int, int]
    applied: bool

    @property
    def total_cost(self) -> int:
        return sum(item.cost.total for item in self.assignments)


def _respect_avoidance(
    plan: DispatchPlan, tickets: dict[int, Ticket], demands: dict[int, TicketDemand], supply: Sequence[TechnicianSupply]
) -> tuple[list[Assignment], list[Unassignable]]:
    """The solver knows no per-ticket exclusions: a ticket planned onto the technician it should avoid
    is re-placed in instant mode on what capacity the plan leaves."""
    kept = [a for a in plan.assignments if a.technician_id != tickets[a.ticket_id].avoided_technician_id]
    displaced = [a.ticket_id for a in plan.assignments if a.technician_id == tickets[a.ticket_id].avoided_technician_id]
    unassigned = list(plan.unassigned)
    if not displaced:
        return kept, unassigned
    taken = Counter(a.technician_id for a in kept)
    for ticket_id in displaced:
        remaining = [
            TechnicianSupply(
                technician_id=s.technician_id,
                skills=s.skills,
                location=s.location,
                on_shift=s.on_shift,
                current_load=s.current_load + taken[s.technician_id],
                capacity=s.capacity,
            )
            for s in supply
            if s.technician_id != tickets[ticket_id].avoided_technician_id
        ]
        result = assign_one(demands[ticket_id], remaining)
        if isinstance(result, Assignment):
            kept.append(result)
            taken[result.technician_id] += 1
        else:
            unassigned.append(result)
    return sorted(kept, key=lambda a: a.ticket_id), sorted(unassigned, key=lambda u: u.ticket_id)


async def optimize_project(
    session: AsyncSession,
    journal: TicketJournal,
    *,
    project_id: int,
    actor: Actor,
    now: dt.datetime,
    apply: bool,
    include_assigned: bool = True,
) -> OptimizationOutcome:
    """Batch mode: re-plan the project's unaccepted tickets at once. Tickets ACCEPTED or further along
    are never moved (they only count as load). Courtyard itself (`actor` SYSTEM) only fills the queue and
    reassigns; taking a ticket away without a new technician is left to staff."""
    statuses = BATCH_STATUSES if include_assigned else _QUEUED_STATUSES
    statement = (
        select(Ticket).where(Ticket.project_id == project_id, Ticket.status.in_(sorted(statuses))).order_by(Ticket.id)
    )
    if apply:
        statement = statement.with_for_update(key_share=True)
    tickets = {ticket.id: ticket for ticket in (await session.scalars(statement)).all()}
    supply = await load_supply(session, project_id, lock=apply, now=now, leave_out_tickets=tickets)
    sites = await TicketSites.of_project(session, project_id, supply)
    demands = {ticket_id: _demand(ticket, sites.of(ticket), now) for ticket_id, ticket in tickets.items()}
    plan = solve(list(demands.values()), supply)
    assignments, unassigned = _respect_avoidance(plan, tickets, demands, supply)

    planned = tuple(
        PlannedAssignment(a.ticket_id, a.technician_id, tickets[a.ticket_id].assignee_id, a.cost) for a in assignments
    )
    unassigned_from = {
        item.ticket_id: tickets[item.ticket_id].assignee_id
        for item in unassigned
        if tickets[item.ticket_id].assignee_id is not None
    }
    if apply:
        for item in planned:
            if item.changes:
                _assign(
                    tickets[item.ticket_id], item.technician_id, actor, journal, now=now, cost=item.cost, mode=AssignmentMode.BATCH
                )
        if actor.role is not ActorRole.SYSTEM:
            for ticket_id in unassigned_from:
                ticket = tickets[ticket_id]
                transition = decide(facts_of(ticket), DispatchAction.UNASSIGN, actor)
                apply_transition(ticket, transition, actor, journal, now=now, payload={"mode": AssignmentMode.BATCH.value})
    return OptimizationOutcome(
        assignments=planned, unassigned=tuple(unassigned), unassigned_from=unassigned_from, applied=apply
    )


async def optimize_dispatch(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    now: dt.datetime,
    project_id: int,
    apply: bool,
    publisher: Publisher | None = None,
) -> OptimizationOutcome:
    """Re-plan every unaccepted ticket of the project (its dispatchers and admins); `apply=False` only
    shows the plan."""
    async with ticket_unit_of_work(session_factory, publisher, now=now) as changes:
        await get_project_for(
            changes.session, principal, project_id, allowed=dispatches_in, refusal=DISPATCH_STAFF_ONLY
        )
        return await optimize_project(
            changes.session,
            changes.journal,
            project_id=project_id,
            actor=dispatcher_actor(principal, project_id),
            now=now,
            apply=apply,
        )
