"""Queries of the property register."""

from __future__ import annotations

import strawberry

from kernel.errors import NotFound
from register.queries import UnitFilterSpec, list_projects, list_units
from schema.context import Info
from schema.ids import decode_id, decode_optional_id
from schema.pagination import (
    CountedConnection,
    after_id,
    connection_of,
    empty_connection,
    page_size,
)
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
class UnitConnection(CountedConnection[UnitType]):
    pass


def _spec(filter: UnitFilter | None) -> UnitFilterSpec:
    if filter is None:
        return UnitFilterSpec()
    return UnitFilterSpec(
        building_id=decode_optional_id(filter.building_id, "Building", field="buildingId"),
        kind=filter.kind,
        occupancy_status=filter.occupancy_status,
        search=filter.search,
    )


@strawberry.type
class UnitQueries:
    @strawberry.field(permission_classes=[IsAuthenticated], description="Projects you hold any role in.")
    async def projects(self, info: Info) -> list[ProjectType]:
        principal = await require_principal(info)
        return [ProjectType.from_row(row) for row in await list_projects(info.context.session_factory, principal)]

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
            spec = _spec(filter)
        except NotFound:
            return empty_connection(UnitConnection)
        page = await list_units(
            info.context.session_factory, principal, project_id=project, spec=spec, limit=size, after_id=start_after
        )
        info.context.loaders.prime(info.context.loaders.unit, page.rows)
        return connection_of(UnitConnection, page, size, UnitType.from_row)
