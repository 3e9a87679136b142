"""Occupancies: which party owns or rents which unit, from when until when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Occupancy, OccupancyRelation, Party, Unit
from db.unit_of_work import unit_of_work
from kernel.errors import AccessDenied, BadInput, NotFound
from kernel.principal import Principal
from register.policy import may_administer_project, may_see_all_parties
from register.units import get_unit_for_admin

__all__ = ["create_occupancy", "update_occupancy"]


def _check_dates(start_date: dt.date, end_date: dt.date | None) -> None:
    if end_date is not None and end_date < start_date:
        raise BadInput("End date must not be before the start date.", field="endDate")


async def create_occupancy(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    unit_id: int,
    party_id: int,
    relation: OccupancyRelation,
    start_date: dt.date,
    end_date: dt.date | None = None,
) -> Occupancy:
    """Link a party of the unit's project to the unit as owner or tenant; project admins only."""
    async with unit_of_work(session_factory) as work:
        unit = await get_unit_for_admin(work.session, principal, unit_id, field="unitId")
        party = await work.session.get(Party, party_id)
        if party is None or party.project_id != unit.project_id:
            raise NotFound("No such party in this unit's project.", field="partyId")
        _check_dates(start_date, end_date)
        occupancy = Occupancy(
            unit_id=unit.id, party_id=party.id, relation=relation, start_date=start_date, end_date=end_date
        )
        work.session.add(occupancy)
    return occupancy


async def update_occupancy(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    occupancy_id: int,
    relation: OccupancyRelation | None = None,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> Occupancy:
    """Change an occupancy's relation or dates; project admins only."""
    async with unit_of_work(session_factory) as work:
        occupancy = await work.session.get(Occupancy, occupancy_id)
        unit = await work.session.get(Unit, occupancy.unit_id) if occupancy else None
        if occupancy is None or unit is None or not may_see_all_parties(principal, unit.project_id):
            raise NotFound("No such occupancy.", field="id")
        if not may_administer_project(principal, unit.project_id):
            raise AccessDenied("Requires the ADMIN role in this project.")
        if relation is not None:
            occupancy.relation = relation
        if start_date is not None:
            occupancy.start_date = start_date
        if end_date is not None:
            occupancy.end_date = end_date
        _check_dates(occupancy.start_date, occupancy.end_date)
    return occupancy
