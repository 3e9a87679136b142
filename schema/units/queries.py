"""Queries of the property register."""

from __future__ import annotations

import strawberry
from sqlalchemy import exists, func, or_, select
from strawberry import relay

from db.access import visible_projects, visible_units
from db.models import Occupancy, Party, Project, Unit
from kernel.errors import NotFound
from schema.context import Info
from schema.ids import decode_id
from schema.pagination import after_id, edges_and_page_info, page_size
from schema.permissions import IsAuthenticated, require_principal
from schema.scalars import OccupancyStatusEnum, UnitKindEnum
from schema.units.types import ProjectType, UnitType

__all__ = ["UnitConnection", "UnitFilter", "UnitQueries"]


@strawberry.input
class UnitFilter:
    building_id: strawberry.ID | None = None
    kind: UnitKindEnum | None = None
    occupancy_status: OccupancyStatusEnum | None = None
    search: str | None = strawberry.field(default=None, description="Part of the unit number or of an occupant's name.")


@strawberry.type(name="UnitConnection")
class UnitConnection(relay.Connection[UnitType]):
    total_count: int


@strawberry.type
class UnitQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Projects you hold any role in.")
    async def projects(self, info: Info) -> list[ProjectType]:
        principal = await require_principal(info)
        async with info.context.session_factory() as session:
            rows = (await session.scalars(select(Project).where(visible_projects(principal)).order_by(Project.id))).all()
        return [ProjectType.from_row(row) for row in rows]

    @strawberry.field(permission_classes=[IsAuthenticated], description="Units of a project that you may see.")
    async def units(
        self,
        info: Info,
        project_id: strawberry.ID,
        filter: UnitFilter | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> UnitConnection:
        principal = await require_principal(info)
        size, start_after = page_size(first), after_id(after)
        try:
            project = decode_id(project_id, "Project", field="projectId")
            conditions = [Unit.project_id == project, visible_units(principal)]
            if filter is not None:
                if filter.building_id is not None:
                    conditions.append(Unit.building_id == decode_id(filter.building_id, "Building", field="buildingId"))
                if filter.kind is not None:
                    conditions.append(Unit.kind == filter.kind)
                if filter.occupancy_status is not None:
                    conditions.append(Unit.occupancy_status == filter.occupancy_status)
                if filter.search and filter.search.strip():
                    pattern = f"%{filter.search.strip()}%"
                    occupant_named = exists().where(
                        Occupancy.unit_id == Unit.id, Occupancy.party_id == Party.id, Party.name.ilike(pattern)
                    )
                    conditions.append(or_(Unit.number.ilike(pattern), occupant_named))
        except NotFound:
            empty = relay.PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)
            return UnitConnection(edges=[], page_info=empty, total_count=0)
        page_conditions = [*conditions, Unit.id > start_after] if start_after is not None else conditions
        async with info.context.session_factory() as session:
            rows = (await session.scalars(select(Unit).where(*page_conditions).order_by(Unit.id).limit(size + 1))).all()
            total = await session.scalar(select(func.count()).select_from(Unit).where(*conditions)) or 0
        info.context.loaders.prime(info.context.loaders.unit, rows)
        edges, page_info = edges_and_page_info(rows, size, UnitType.from_row)
        return UnitConnection(edges=edges, page_info=page_info, total_count=total)
