"""Queries of the property register."""

from __future__ import annotations

from typing import Annotated

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


@strawberry.input(description="Which units a list keeps; every field set must match.")
class UnitFilter:
    building_id: strawberry.ID | None = strawberry.field(default=None, description="Only this building.")
    kind: UnitKindEnum | None = strawberry.field(default=None, description="Only this kind.")
    occupancy_status: OccupancyStatusEnum | None = strawberry.field(
        default=None, description="Only this occupancy status."
    )
    search: str | None = strawberry.field(default=None, description="Part of the unit number or of an occupant's name.")


@strawberry.type(name="UnitConnection", description="A page of units.")
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
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
        filter: Annotated[UnitFilter | None, strawberry.argument(description="Narrow the list.")] = None,
        first: Annotated[int | None, strawberry.argument(description="Page size, 1 to 100 (default 50).")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
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
