"""Dispatch analytics for dispatchers and managers: volumes, response times, SLA compliance, technicians,
fault hot spots, over the tickets submitted in a date range.

`summarize` is pure (plain records in, a frozen report out); `dispatch_analytics` loads the records.
Durations run from submission, in wall-clock minutes, so the project's and each technician's figures
compare directly. The 90th percentile is the nearest-rank one: the smallest value that at least 90 %
of the values do not exceed.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Building, Ticket, TicketEvent, Unit
from dispatch.policy import DISPATCH_STAFF_ONLY, dispatches_in
from kernel.principal import Principal
from kernel.vocabulary import TicketEventType, TicketStatus
from register.projects import get_project_for

__all__ = [
    "AnalyticsPeriod",
    "DispatchAnalytics",
    "Durations",
    "FaultSite",
    "TechnicianStats",
    "TicketRecord",
    "dispatch_analytics",
    "durations",
    "p90",
    "summarize",
]

FAULT_SITES_SHOWN = 10
_SETTLED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


class AnalyticsPeriod(str, Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """What analytics needs of one ticket; `site` labels where the fault is (unit, or area of a building)."""

    ticket_id: int
    created_at: dt.datetime
    status: TicketStatus
    category: str
    building: str | None
    site: str
    technician_id: int | None
    accepted_at: dt.datetime | None
    on_site_at: dt.datetime | None
    resolved_at: dt.datetime | None
    rating: int | None
    breached: bool


@dataclass(frozen=True, slots=True)
class Durations:
    count: int
    mean_minutes: float | None
    p90_minutes: float | None


@dataclass(frozen=True, slots=True)
class TechnicianStats:
    technician_id: int
    tickets: int
    resolved: int
    time_to_accept: Durations
    time_to_arrive: Durations
    time_to_resolve: Durations
    average_rating: float | None
    ratings: int


@dataclass(frozen=True, slots=True)
class FaultSite:
    site: str
    count: int


@dataclass(frozen=True, slots=True)
class DispatchAnalytics:
    """`sla_compliance_rate` is met / judged, where judged tickets are the resolved or closed ones plus
    open ones already breached, and met ones were resolved with no promise broken; None when none is
    judged yet."""

    ticket_count: int
    by_category: tuple[tuple[str, int], ...]
    by_building: tuple[tuple[str, int], ...]
    by_period: tuple[tuple[str, int], ...]
    time_to_accept: Durations
    time_to_arrive: Durations
    time_to_resolve: Durations
    sla_judged: int
    sla_met: int
    sla_compliance_rate: float | None
    technicians: tuple[TechnicianStats, ...]
    fault_sites: tuple[FaultSite, ...]


def p90(values: Sequence[float]) -> float | None:
    """Nearest-rank 90th percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def durations(pairs: Iterable[tuple[dt.datetime, dt.datetime | None]]) -> Durations:
    """Minutes from each start to its end, over the pairs that have an end."""
    minutes = [(end - start).total_seconds() / 60 for start, end in pairs if end is not None]
    if not minutes:
        return Durations(0, None, None)
    return Durations(len(minutes), round(sum(minutes) / len(minutes), 2), round(p90(minutes) or 0.0, 2))


def _bucket(moment: dt.datetime, period: AnalyticsPeriod, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone).date()
    if period is AnalyticsPeriod.DAY:
        return local.isoformat()
    if period is AnalyticsPeriod.WEEK:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{local.year}-{local.month:02d}"


def _counted(values: Iterable[str], *, by_label: bool = False) -> tuple[tuple[str, int], ...]:
    counts = Counter(values)
    if by_label:
        return tuple(sorted(counts.items()))
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def summarize(records: Sequence[TicketRecord], *, period: AnalyticsPeriod, timezone: str) -> DispatchAnalytics:
    zone = ZoneInfo(timezone)
    judged = [r for r in records if r.status in _SETTLED or r.breached]
    met = [r for r in judged if r.status in _SETTLED and not r.breached]
    by_technician: dict[int, list[TicketRecord]] = defaultdict(list)
    for record in records:
        if record.technician_id is not None:
            by_technician[record.technician_id].append(record)
    technicians = []
    for technician_id in sorted(by_technician):
        own = by_technician[technician_id]
        ratings = [r.rating for r in own if r.rating is not None]
        technicians.append(
            TechnicianStats(
                technician_id=technician_id,
                tickets=len(own),
                resolved=sum(r.resolved_at is not None for r in own),
                time_to_accept=durations((r.created_at, r.accepted_at) for r in own),
                time_to_arrive=durations((r.created_at, r.on_site_at) for r in own),
                time_to_resolve=durations((r.created_at, r.resolved_at) for r in own),
                average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
                ratings=len(ratings),
            )
        )
    return DispatchAnalytics(
        ticket_count=len(records),
        by_category=_counted(r.category for r in records),
        by_building=_counted(r.building or "(no building)" for r in records),
        by_period=_counted((_bucket(r.created_at, period, zone) for r in records), by_label=True),
        time_to_accept=durations((r.created_at, r.accepted_at) for r in records),
        time_to_arrive=durations((r.created_at, r.on_site_at) for r in records),
        time_to_resolve=durations((r.created_at, r.resolved_at) for r in records),
        sla_judged=len(judged),
        sla_met=len(met),
        sla_compliance_rate=round(len(met) / len(judged), 4) if judged else None,
        technicians=tuple(technicians),
        fault_sites=tuple(
            FaultSite(site, count) for site, count in _counted(r.site for r in records)[:FAULT_SITES_SHOWN]
        ),
    )


def _site(ticket: Ticket, units: Mapping[int, tuple[str, str]], buildings: Mapping[int, str]) -> str:
    if ticket.unit_id is not None and ticket.unit_id in units:
        building, number = units[ticket.unit_id]
        return f"{building} {number}"
    where = buildings.get(ticket.building_id, "") if ticket.building_id is not None else ""
    return " ".join(part for part in (where, ticket.location_kind.value, ticket.location_detail or "") if part)


async def dispatch_analytics(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    since: dt.datetime,
    until: dt.datetime,
    period: AnalyticsPeriod,
) -> DispatchAnalytics:
    """The analytics of the tickets a project received in [since, until), for its admins and dispatchers."""
    async with session_factory() as session:
        project = await get_project_for(
            session, principal, project_id, allowed=dispatches_in, refusal=DISPATCH_STAFF_ONLY
        )
        return summarize(await _records(session, project_id, since, until), period=period, timezone=project.timezone)


async def _records(
    session: AsyncSession, project_id: int, since: dt.datetime, until: dt.datetime
) -> list[TicketRecord]:
    tickets = (
        await session.scalars(
            select(Ticket)
            .where(Ticket.project_id == project_id, Ticket.created_at >= since, Ticket.created_at < until)
            .order_by(Ticket.id)
        )
    ).all()
    buildings = dict(
        (await session.execute(select(Building.id, Building.name).where(Building.project_id == project_id))).all()
    )
    units = {
        unit_id: (buildings.get(building_id, ""), number)
        for unit_id, building_id, number in await session.execute(
            select(Unit.id, Unit.building_id, Unit.number).where(Unit.id.in_({t.unit_id for t in tickets if t.unit_id}))
        )
    }
    ever_breached = set(
        await session.scalars(
            select(TicketEvent.ticket_id).where(
                TicketEvent.project_id == project_id,
                TicketEvent.type == TicketEventType.SLA_BREACHED,
                TicketEvent.ticket_id.in_([t.id for t in tickets]),
            )
        )
    )
    return [
        TicketRecord(
            ticket_id=t.id,
            created_at=t.created_at,
            status=TicketStatus(t.status),
            category=t.category.value,
            building=buildings.get(t.building_id) if t.building_id is not None else None,
            site=_site(t, units, buildings),
            technician_id=t.assignee_id,
            accepted_at=t.accepted_at,
            on_site_at=t.on_site_at,
            resolved_at=t.resolved_at,
            rating=t.rating,
            breached=t.sla_breached or t.id in ever_breached,
        )
        for t in tickets
    ]
