"""Read-side use cases of the register: the caller's projects and a project's units."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Occupancy, OccupancyStatus, Party, Project, Unit
from db.pages import KeysetPage, keyset_page
from kernel.principal import Principal
from kernel.vocabulary import UnitKind
from register.policy import visible_projects, visible_units

__all__ = ["UnitFilterSpec", "list_projects", "list_units"]


@dataclass(frozen=True)
class UnitFilterSpec:
    building_id: int | None = None
    kind: UnitKind | None = None
    occupancy_status: OccupancyStatus | None = None
    search: str | None = None
    """Part of the unit number or of an occupant's name."""


async def list_projects(session_factory: async_sessionmaker[AsyncSession], principal: Principal) -> Sequence[Project]:
    """The projects the caller holds any role in, oldest first."""
    async with session_factory() as session:
        return (await session.scalars(select(Project).where(visible_projects(principal)).order_by(Project.id))).all()


async def list_units(
    session_factory: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    project_id: int,
    spec: UnitFilterSpec,
    limit: int,
    after_id: int | None,
) -> KeysetPage[Unit]:
    """One page (`limit` + 1 rows, the last telling that more follow) of the project's units the caller may
    see, by id, and how many match in all."""
    conditions: list[ColumnElement[bool]] = [Unit.project_id == project_id, visible_units(principal)]
    if spec.building_id is not None:
        conditions.append(Unit.building_id == spec.building_id)
    if spec.kind is not None:
        conditions.append(Unit.kind == spec.kind)
    if spec.occupancy_status is not None:
        conditions.append(Unit.occupancy_status == spec.occupancy_status)
    if spec.search and spec.search.strip():
        pattern = f"%{spec.search.strip()}%"
        occupant_named = exists().where(
            Occupancy.unit_id == Unit.id, Occupancy.party_id == Party.id, Party.name.ilike(pattern)
        )
        conditions.append(or_(Unit.number.ilike(pattern), occupant_named))
    return await keyset_page(session_factory, Unit, conditions, limit=limit, beyond_id=after_id)
