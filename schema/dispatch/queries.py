"""Queries of the dispatch domain."""

from __future__ import annotations

import strawberry
from sqlalchemy import select

from db.access import visible_technicians
from db.models import Technician
from kernel.errors import NotFound
from kernel.principal import Role
from schema.context import Info
from schema.dispatch.types import TechnicianType
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, require_principal, requires_role

__all__ = ["DispatchQueries"]


@strawberry.type
class DispatchQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER, Role.FINANCE, Role.TECHNICIAN)],
        description="The technicians of a project (a technician sees only themself).",
    )
    async def technicians(self, info: Info, project_id: strawberry.ID) -> list[TechnicianType]:
        principal = await require_principal(info)
        try:
            project = decode_id(project_id, "Project", field="projectId")
        except NotFound:
            return []
        async with info.context.session_factory() as session:
            rows = (
                await session.scalars(
                    select(Technician)
                    .where(Technician.project_id == project, visible_technicians(principal))
                    .order_by(Technician.id)
                )
            ).all()
        return [TechnicianType.from_row(row) for row in rows]
