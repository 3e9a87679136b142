"""Day routes: each technician's remaining day planned as a route (the dispatcher's view and the
technician's own), from the project's open tickets and on-shift technicians.

Read-only: the plan is computed from the tickets' state each time it is asked for, so it is never stale.
What the state says is kept: a ticket on site (ON_SITE, IN_PROGRESS) is the visit its technician is on,
the earliest ACCEPTED one the visit they are heading to; both head their route, so an urgent ticket that
came in meanwhile is inserted after them, never before. ASSIGNED tickets stay with their assignee; NEW
and REOPENED ones may go to anyone with the skill. The pure core is `dispatch.routing`.

Dispatchers pin a visit to a technician, and to a start time, with `pin_visit` (table `visit_pin`).
Each on-shift technician works today's hours (`dispatch.shifts`, table `technician_shift`): the date's own,
else the weekday's; one with a week stored but nothing for today is not planned; one with nothing stored
works `DEFAULT_SHIFT` with `DEFAULT_LUNCH` (08:00–18:00, 45 minutes starting between 11:30 and 13:30).
A night shift that started yesterday evening is today's plan until it ends (then today's own shift is);
a day off (`dispatch.days_off`, table `technician_day_off`) removes the shift that would start that date.
Minutes in the plan are real minutes since today's local midnight, so a shift's times land right on the
days a clock changes.
A visit is planned inside the owner's availability when one is stored (`dispatch.availability`, table
`owner_availability`), and before the SLA's on-site deadline when it can.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import OwnerAvailability, Project, Technician, Ticket, VisitPin
from db.unit_of_work import unit_of_work
from dispatch.dispatching import TicketSites, technician_position
from dispatch.policy import (
    DISPATCH_STAFF_ONLY,
    dispatches_in,
    follows_assignments_in,
    may_see_route,
)
from dispatch.routing import (
    BreakRule,
    DayPlan,
    RouteSettings,
    TechnicianDay,
    TechnicianRoute,
    VisitDemand,
    Window,
    plan_day,
    visit_minutes,
)
from dispatch.routing import VisitPin as PinnedTo
from dispatch.shifts import DEFAULT_LUNCH, DEFAULT_SHIFT, working_days
from dispatch.solver import TechnicianSupply
from dispatch.working_hours import BreakHours, ShiftHours
from kernel.errors import AccessDenied, BadInput, Conflict, NotFound
from kernel.principal import Principal
from kernel.vocabulary import TicketStatus
from register.projects import get_project_for

__all__ = ["DEFAULT_LUNCH", "DEFAULT_SHIFT", "DayRoutes", "Pin", "pin_visit", "plan_day_routes", "plan_my_route"]

# A visit on site for longer than its trade's minutes still needs a little more.
_LEAST_REMAINING_MINUTES = 10
_ON_SITE = frozenset({TicketStatus.ON_SITE, TicketStatus.IN_PROGRESS})
_VISIT_STATUSES = frozenset(
    {TicketStatus.NEW, TicketStatus.REOPENED, TicketStatus.ASSIGNED, TicketStatus.ACCEPTED, *_ON_SITE}
)
TECHNICIANS_ONLY = "Requires the role TECHNICIAN."
# OR-Tools holds the GIL for its whole search, so a plan computed in the server's process (even in a
# thread) stalled every other request for the full time limit (measured: 1.9 s of a 2 s plan). Plans run
# in one spawned planner process instead, with a search time that grows with the day's size.
_PLAN_SECONDS_BASE = 0.2
_PLAN_SECONDS_PER_VISIT = 0.01
_PLAN_SECONDS_MOST = 2.0
# The board asks again every minute and after each change, and each technician's assignment feed asks
# on every event: identical inputs in the same minute get the plan already made.
_PLANS_KEPT = 64
_plans: OrderedDict[tuple[object, ...], DayPlan] = OrderedDict()
_planner: ProcessPoolExecutor | None = None
_PARENT_WATCH_SECONDS = 1.0


def _route_settings(visit_count: int) -> RouteSettings:
    return RouteSettings(
        time_limit_seconds=min(_PLAN_SECONDS_MOST, _PLAN_SECONDS_BASE + _PLAN_SECONDS_PER_VISIT * visit_count)
    )


async def _planned_day(visits: Sequence[VisitDemand], technicians: Sequence[TechnicianDay], now: int) -> DayPlan:
    key = (tuple(visits), tuple(technicians), now)
    if (known := _plans.get(key)) is not None:
        _plans.move_to_end(key)
        return known
    try:
        plan = await _plan_in_planner_process(visits, technicians, now)
    except BrokenProcessPool:
        # The planner process died (killed, out of memory), and a pool that lost a process takes no more
        # work: the plan goes to a new one, once.
        _forget_planner()
        plan = await _plan_in_planner_process(visits, technicians, now)
    _plans[key] = plan
    if len(_plans) > _PLANS_KEPT:
        _plans.popitem(last=False)
    return plan


async def _plan_in_planner_process(
    visits: Sequence[VisitDemand], technicians: Sequence[TechnicianDay], now: int
) -> DayPlan:
    global _planner
    if _planner is None:
        _planner = ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
        )
    return await asyncio.get_running_loop().run_in_executor(
        _planner, _plan_in_planner, list(visits), list(technicians), now
    )


def _forget_planner() -> None:
    global _planner
    if _planner is not None:
        _planner.shutdown(wait=False, cancel_futures=True)
    _planner = None


def _exit_with_parent(parent_pid: int) -> None:
    """In the planner process: end it when the server process is gone. A server stopped without running
    its exit handlers (killed, or a test worker leaving through os._exit) otherwise left its planner
    waiting forever on a queue whose other end it holds itself."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(_PARENT_WATCH_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _plan_in_planner(visits: list[VisitDemand], technicians: list[TechnicianDay], now: int) -> DayPlan:
    return plan_day(visits, technicians, now=now, settings=_route_settings(len(visits)))


@dataclass(frozen=True, slots=True)
class DayRoutes:
    """A project's plan for the rest of today; minutes in the plan count from ``midnight`` (local)."""

    project_id: int
    midnight: dt.datetime
    plan: DayPlan

    def at(self, minute: int) -> dt.datetime:
        # Elapsed time, not wall-clock arithmetic: aware datetimes add a timedelta on the wall clock.
        return (self.midnight.astimezone(dt.UTC) + dt.timedelta(minutes=minute)).astimezone(self.midnight.tzinfo)


async def plan_day_routes(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, project_id: int, now: dt.datetime
) -> DayRoutes:
    """Every on-shift technician's route for the rest of the day (the project's dispatchers and admins)."""
    async with session_factory() as session:
        project = await get_project_for(
            session, principal, project_id, allowed=dispatches_in, refusal=DISPATCH_STAFF_ONLY
        )
        return await _plan(session, project, now)


async def plan_my_route(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, now: dt.datetime
) -> tuple[DayRoutes, TechnicianRoute]:
    """The calling technician's route for the rest of the day, planned with everyone else's."""
    if principal.technician_id is None:
        raise AccessDenied(TECHNICIANS_ONLY)
    async with session_factory() as session:
        technician = await session.get(Technician, principal.technician_id)
        if technician is None or not follows_assignments_in(principal, technician.project_id):
            raise AccessDenied(TECHNICIANS_ONLY)
        if not may_see_route(principal, technician.project_id, technician.id):
            raise NotFound("No such technician.")
        project = await session.get(Project, technician.project_id)
        assert project is not None  # a technician's project is kept (ON DELETE RESTRICT)
        routes = await _plan(session, project, now)
    route = routes.plan.route_of(technician.id) or TechnicianRoute(technician.id, (), (), 0)
    return routes, route


def _pinned(pin: VisitPin | None, minute_of: Callable[[dt.datetime], int]) -> PinnedTo | None:
    if pin is None:
        return None
    return PinnedTo(pin.technician_id, minute_of(pin.starts_at) if pin.starts_at is not None else None)


@dataclass(frozen=True, slots=True)
class Pin:
    """A ticket's pin as it stands after `pin_visit`: no technician means no pin."""

    ticket_id: int
    technician_id: int | None
    starts_at: dt.datetime | None


async def pin_visit(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    ticket_id: int,
    technician_id: int | None,
    starts_at: dt.datetime | None,
    now: dt.datetime,
) -> Pin:
    """Pin an open ticket's visit to a technician of its project who has the skill, and to a start time
    from now on when given (the project's dispatchers and admins); no technician removes the pin."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        ticket = await session.get(Ticket, ticket_id)
        if ticket is None or not dispatches_in(principal, ticket.project_id):
            raise NotFound("No such ticket.", field="ticketId")
        pin = await session.get(VisitPin, ticket_id)
        if technician_id is None:
            if pin is not None:
                await session.delete(pin)
            return Pin(ticket_id, None, None)
        if ticket.status not in _VISIT_STATUSES:
            raise Conflict(f"A {ticket.status.value} ticket has no visit to pin.", field="ticketId")
        technician = await session.get(Technician, technician_id)
        if technician is None or technician.project_id != ticket.project_id:
            raise NotFound("No such technician.", field="technicianId")
        if ticket.category.value not in technician.skills:
            raise BadInput(f"The technician lacks the skill {ticket.category.value}.", field="technicianId")
        if starts_at is not None and starts_at < now:
            raise BadInput("A pinned visit starts from now on.", field="startsAt")
        if pin is None:
            pin = VisitPin(ticket_id=ticket_id)
            session.add(pin)
        pin.technician_id, pin.starts_at, pin.pinned_by_user_id = technician_id, starts_at, principal.user_id
        return Pin(ticket_id, technician_id, starts_at)


async def _plan(session: AsyncSession, project: Project, now: dt.datetime) -> DayRoutes:
    zone = ZoneInfo(project.timezone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    midnight = _local(today, 0, zone)

    def minute_of(moment: dt.datetime) -> int:
        # In UTC: two datetimes with the same tzinfo subtract on the wall clock, blind to a clock change.
        return int((moment.astimezone(dt.UTC) - midnight.astimezone(dt.UTC)).total_seconds() // 60)

    def on_timeline(day: dt.date, minute: int) -> int:
        return minute_of(_local(day, minute, zone))

    rows = (
        await session.scalars(select(Technician).where(Technician.project_id == project.id).order_by(Technician.id))
    ).all()
    tickets = (
        await session.scalars(
            select(Ticket)
            .where(Ticket.project_id == project.id, Ticket.status.in_(_VISIT_STATUSES))
            .order_by(Ticket.id)
        )
    ).all()
    pins = {
        pin.ticket_id: pin
        for pin in await session.scalars(
            select(VisitPin).join(Ticket, Ticket.id == VisitPin.ticket_id).where(Ticket.project_id == project.id)
        )
    }
    hours_today = {
        technician_id: _shift_on_timeline(working.day, working.hours, on_timeline)
        for technician_id, working in (await working_days(session, [row.id for row in rows if row.on_shift], local_now)).items()
        if working.hours is not None
    }
    on_shift = [row for row in rows if row.id in hours_today]
    on_shift_ids = {row.id for row in on_shift}
    windows = {
        stored.ticket_id: (minute_of(stored.available_from), minute_of(stored.available_until))
        for stored in await session.scalars(
            select(OwnerAvailability)
            .join(Ticket, Ticket.id == OwnerAvailability.ticket_id)
            .where(Ticket.project_id == project.id, Ticket.status.in_(_VISIT_STATUSES))
        )
    }
    supply = [
        TechnicianSupply(row.id, frozenset(row.skills), technician_position(row), row.on_shift, 0, row.capacity) for row in rows
    ]
    sites = await TicketSites.of_project(session, project.id, supply)

    started: dict[int, int] = {}
    heading: dict[int, int] = {}
    visits: list[VisitDemand] = []
    for ticket in tickets:
        if ticket.assignee_id is not None and ticket.assignee_id not in on_shift_ids:
            continue  # with a technician off shift: not today's work for anyone else either
        minutes = visit_minutes(ticket.category.value)
        if ticket.status in _ON_SITE and ticket.assignee_id is not None and ticket.assignee_id not in started:
            arrived = ticket.on_site_at or now
            spent = int((now - arrived).total_seconds() // 60)
            minutes = max(_LEAST_REMAINING_MINUTES, minutes - spent)
            started[ticket.assignee_id] = ticket.id
        elif (
            ticket.status is TicketStatus.ACCEPTED
            and ticket.assignee_id is not None
            and ticket.assignee_id not in heading
        ):
            heading[ticket.assignee_id] = ticket.id
        visits.append(
            VisitDemand(
                ticket.id,
                ticket.category.value,
                sites.of(ticket),
                ticket.priority,
                minutes,
                window=_visit_window(windows.get(ticket.id), minutes),
                due=minute_of(ticket.on_site_due_at.astimezone(zone)) if ticket.on_site_at is None else None,
                pin=_pinned(pins.get(ticket.id), minute_of),
                assignee=ticket.assignee_id,
            )
        )
    technicians = [
        TechnicianDay(
            row.id,
            frozenset(row.skills),
            technician_position(row),
            Window(hours_today[row.id].starts, hours_today[row.id].ends),
            tuple(
                BreakRule(Window(rule.earliest, rule.latest), rule.minutes) for rule in hours_today[row.id].breaks
            ),
            started.get(row.id),
            heading.get(row.id),
        )
        for row in on_shift
    ]
    plan = await _planned_day(visits, technicians, minute_of(local_now))
    return DayRoutes(project.id, midnight, plan)


def _visit_window(available: tuple[int, int] | None, minutes: int) -> Window | None:
    """When the visit may start so that it ends while the owner is home (at the window's start, when the
    window is shorter than the visit)."""
    if available is None:
        return None
    opens, closes = available
    return Window(opens, max(opens, closes - minutes))


def _local(day: dt.date, minute: int, zone: ZoneInfo) -> dt.datetime:
    """Minute ``minute`` of ``day``'s clock in ``zone`` (past 1440: the next day's clock)."""
    return (dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)).replace(tzinfo=zone)


def _shift_on_timeline(
    day: dt.date, hours: ShiftHours, on_timeline: Callable[[dt.date, int], int]
) -> ShiftHours:
    """A shift of ``day``'s clock as minutes of the plan's timeline (yesterday's night shift starts below 0)."""
    return ShiftHours(
        on_timeline(day, hours.starts),
        on_timeline(day, hours.ends),
        tuple(
            BreakHours(on_timeline(day, rule.earliest), on_timeline(day, rule.latest), rule.minutes)
            for rule in hours.breaks
        ),
    )
