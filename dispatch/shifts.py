"""Technicians' working hours: a shift and its breaks per weekday (every week) or per date (which
overrides the week), kept in the project's time zone and read by the day's routes (`dispatch.day_routes`).

Who works now is one rule (`working_days`, over `dispatch.working_hours.working_day`): a shift belongs to
the day it started, so a night worker whose shift began yesterday evening works it to its end even when
today is their day off. The day's routes plan by it, the assignment solver gives work by it
(`dispatch.dispatching.load_supply`), and a manual assignment on a day off is refused by it
(`dispatch.tickets.assign_ticket`).

Dispatchers and admins set and clear them (`dispatch.policy.may_edit_shifts`); a technician reads their
own through the roster (`may_see_shifts`). Bad hours are refused by `dispatch.working_hours.check_shift`
before anything is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Project, Technician, TechnicianDayOff, TechnicianShift
from db.unit_of_work import unit_of_work
from dispatch.policy import may_edit_shifts
from dispatch.working_hours import BreakHours, ShiftHours, check_shift, working_day
from kernel.errors import BadInput, NotFound
from kernel.principal import Principal

__all__ = [
    "DEFAULT_LUNCH",
    "DEFAULT_SHIFT",
    "WorkingDay",
    "clear_technician_shift",
    "set_technician_shift",
    "shift_hours",
    "working_days",
]

# What someone with no hours stored works, every day.
DEFAULT_LUNCH = BreakHours(11 * 60 + 30, 13 * 60 + 30, 45)
DEFAULT_SHIFT = ShiftHours(8 * 60, 18 * 60, (DEFAULT_LUNCH,))


@dataclass(frozen=True, slots=True)
class WorkingDay:
    """A technician's working day at a moment: the date whose shift they work for the rest of today (the
    day the shift started), its hours on that date's clock (None: they do not work it), and whether that
    date is one of their days off."""

    day: dt.date
    hours: ShiftHours | None
    day_off: bool

    @property
    def works(self) -> bool:
        return self.hours is not None


def shift_hours(row: TechnicianShift) -> ShiftHours:
    """A stored shift as the plain hours the routes plan with."""
    return ShiftHours(
        row.starts_minute,
        row.ends_minute,
        tuple(BreakHours(item["earliest"], item["latest"], item["minutes"]) for item in row.breaks),
    )


async def set_technician_shift(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    technician_id: int,
    weekday: int | None,
    on_date: dt.date | None,
    starts: int,
    ends: int,
    breaks: Sequence[BreakHours],
    ends_next_day: bool = False,
    now: dt.datetime,
) -> Technician:
    """Set a technician's hours for a weekday or for one date from today on (replacing what that day had);
    clock minutes, the end (and breaks before the start) on the next day's clock with ``ends_next_day``."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        technician = await _editable(session, principal, technician_id)
        _check_day(weekday, on_date)
        if on_date is not None:
            project = await session.get(Project, technician.project_id)
            assert project is not None  # a technician's project is kept (ON DELETE RESTRICT)
            if on_date < now.astimezone(ZoneInfo(project.timezone)).date():
                raise BadInput("The date has passed.", field="onDate")
        hours = check_shift(starts, ends, breaks, ends_next_day=ends_next_day)
        row = await _stored(session, technician.id, weekday, on_date)
        if row is None:
            row = TechnicianShift(technician_id=technician.id, weekday=weekday, on_date=on_date)
            session.add(row)
        row.starts_minute, row.ends_minute = hours.starts, hours.ends
        row.breaks = [{"earliest": b.earliest, "latest": b.latest, "minutes": b.minutes} for b in hours.breaks]
        row.updated_by_user_id = principal.user_id
        await session.flush()
        return technician


async def clear_technician_shift(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    technician_id: int,
    weekday: int | None,
    on_date: dt.date | None,
) -> Technician:
    """Remove a weekday's or a date's hours (a day without any left falls back as `shift_for_day` says)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        technician = await _editable(session, principal, technician_id)
        _check_day(weekday, on_date)
        row = await _stored(session, technician.id, weekday, on_date)
        if row is None:
            raise NotFound("The technician has no hours stored for that day.", field="weekday" if weekday else "onDate")
        await session.delete(row)
        return technician


async def _editable(session: AsyncSession, principal: Principal, technician_id: int) -> Technician:
    technician = await session.get(Technician, technician_id)
    if technician is None or not may_edit_shifts(principal, technician.project_id):
        raise NotFound("No such technician.", field="technicianId")
    return technician


def _check_day(weekday: int | None, on_date: dt.date | None) -> None:
    if (weekday is None) == (on_date is None):
        raise BadInput("Give either a weekday or a date.", field="weekday")
    if weekday is not None and not 1 <= weekday <= 7:
        raise BadInput("A weekday is 1 (Monday) to 7 (Sunday).", field="weekday")


async def _stored(
    session: AsyncSession, technician_id: int, weekday: int | None, on_date: dt.date | None
) -> TechnicianShift | None:
    day = TechnicianShift.weekday == weekday if weekday is not None else TechnicianShift.on_date == on_date
    return await session.scalar(select(TechnicianShift).where(TechnicianShift.technician_id == technician_id, day))


async def working_days(
    session: AsyncSession, technician_ids: Sequence[int], local_now: dt.datetime
) -> dict[int, WorkingDay]:
    """Each technician's working day at ``local_now`` (in the project's time zone), from their stored
    hours and days off (`dispatch.working_hours.working_day`)."""
    ids = sorted(set(technician_ids))
    today = local_now.date()
    yesterday = today - dt.timedelta(days=1)
    dated: dict[int, dict[dt.date, ShiftHours]] = {technician_id: {} for technician_id in ids}
    weekly: dict[int, dict[int, ShiftHours]] = {technician_id: {} for technician_id in ids}
    days_off: dict[int, set[dt.date]] = {technician_id: set() for technician_id in ids}
    if ids:
        stored = await session.scalars(
            select(TechnicianShift).where(
                TechnicianShift.technician_id.in_(ids),
                TechnicianShift.on_date.in_([yesterday, today]) | TechnicianShift.weekday.is_not(None),
            )
        )
        for row in stored:
            if row.on_date is not None:
                dated[row.technician_id][row.on_date] = shift_hours(row)
            elif row.weekday is not None:
                weekly[row.technician_id][row.weekday] = shift_hours(row)
        for off in await session.scalars(
            select(TechnicianDayOff).where(
                TechnicianDayOff.technician_id.in_(ids), TechnicianDayOff.on_date.in_([yesterday, today])
            )
        ):
            days_off[off.technician_id].add(off.on_date)
    clock_minute = local_now.hour * 60 + local_now.minute
    working: dict[int, WorkingDay] = {}
    for technician_id in ids:
        off = frozenset(days_off[technician_id])
        day, hours = working_day(today, clock_minute, dated[technician_id], weekly[technician_id], DEFAULT_SHIFT, off)
        working[technician_id] = WorkingDay(day, hours, day in off)
    return working
