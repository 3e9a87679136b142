"""Technicians' single days off (leave, sick): a date on which the shift their week or that date's hours
would start is not worked. A shift belongs to the day it started, so a night shift that began the evening
before runs to its end (`dispatch.shifts.working_days`, the one rule): the day's routes plan nobody off
(`dispatch.day_routes`), the assignment solver gives them nothing (`dispatch.dispatching.load_supply`),
and a dispatcher's manual assignment to someone off is refused unless it says it overrides the day off
(`dispatch.tickets.assign_ticket`).

Dispatchers and admins set and clear them (`dispatch.policy.may_set_days_off`); a technician reads their
own through the roster (`may_see_shifts`). Dates are the project's, in its time zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Project, Technician, TechnicianDayOff
from db.unit_of_work import unit_of_work
from dispatch.policy import may_set_days_off
from kernel.errors import BadInput, NotFound
from kernel.principal import Principal
from kernel.vocabulary import AbsenceReason

__all__ = ["LONGEST_NOTE", "clear_technician_day_off", "set_technician_day_off"]

LONGEST_NOTE = 200


async def set_technician_day_off(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    technician_id: int,
    on_date: dt.date,
    reason: AbsenceReason,
    note: str | None,
    now: dt.datetime,
) -> Technician:
    """Mark a technician off on a date from today on (replacing that date's reason and note)."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        technician = await _editable(session, principal, technician_id)
        project = await session.get(Project, technician.project_id)
        assert project is not None  # a technician's project is kept (ON DELETE RESTRICT)
        if on_date < now.astimezone(ZoneInfo(project.timezone)).date():
            raise BadInput("The date has passed.", field="onDate")
        note = note.strip() if note is not None else None
        if note is not None and len(note) > LONGEST_NOTE:
            raise BadInput(f"A note has at most {LONGEST_NOTE} characters.", field="note")
        day_off = await _stored(session, technician.id, on_date)
        if day_off is None:
            day_off = TechnicianDayOff(technician_id=technician.id, on_date=on_date)
            session.add(day_off)
        day_off.reason, day_off.note, day_off.set_by_user_id = reason, note or None, principal.user_id
        await session.flush()
        return technician


async def clear_technician_day_off(
    session_factory: async_sessionmaker[AsyncSession], principal: Principal, *, technician_id: int, on_date: dt.date
) -> Technician:
    """Take back a day off: the technician works that date as their hours say."""
    async with unit_of_work(session_factory) as work:
        session = work.session
        technician = await _editable(session, principal, technician_id)
        day_off = await _stored(session, technician.id, on_date)
        if day_off is None:
            raise NotFound("The technician has no day off on that date.", field="onDate")
        await session.delete(day_off)
        return technician


async def _editable(session: AsyncSession, principal: Principal, technician_id: int) -> Technician:
    technician = await session.get(Technician, technician_id)
    if technician is None or not may_set_days_off(principal, technician.project_id):
        raise NotFound("No such technician.", field="technicianId")
    return technician


async def _stored(session: AsyncSession, technician_id: int, on_date: dt.date) -> TechnicianDayOff | None:
    return await session.scalar(
        select(TechnicianDayOff).where(TechnicianDayOff.technician_id == technician_id, TechnicianDayOff.on_date == on_date)
    )
