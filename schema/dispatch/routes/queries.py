"""Queries of day routes: the dispatcher's view of a project's routes, a technician's own route."""

from __future__ import annotations

from typing import Annotated

import strawberry

from dispatch.day_routes import plan_day_routes, plan_my_route
from kernel.errors import AccessDenied, NotFound
from schema.context import Info
from schema.dispatch.permissions import DISPATCHERS, ROUTE_FOLLOWERS
from schema.dispatch.routes.types import DayRoutesType, TechnicianRouteType
from schema.ids import decode_id
from schema.permissions import require_principal

__all__ = ["RouteQueries"]


@strawberry.type
class RouteQueries:
    @strawberry.field(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: The rest of today as routes for every technician on shift, with reasons.",
    )
    async def day_routes(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> DayRoutesType | None:
        principal = await require_principal(info)
        try:
            routes = await plan_day_routes(
                info.context.session_factory,
                principal,
                project_id=decode_id(project_id, "Project", field="projectId"),
                now=info.context.now(),
            )
        except (NotFound, AccessDenied):
            return None
        return DayRoutesType.from_routes(routes)

    @strawberry.field(
        permission_classes=ROUTE_FOLLOWERS,
        description="TECHNICIAN: My route for the rest of today: my visits in order, breaks, and why.",
    )
    async def my_route(self, info: Info) -> TechnicianRouteType | None:
        principal = await require_principal(info)
        try:
            routes, route = await plan_my_route(info.context.session_factory, principal, now=info.context.now())
        except (NotFound, AccessDenied):
            return None
        return TechnicianRouteType.from_route(routes, route)
