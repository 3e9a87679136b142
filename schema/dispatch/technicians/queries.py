"""Queries of the technician roster."""

from __future__ import annotations

from typing import Annotated

import strawberry

from dispatch.queries import list_technicians
from kernel.errors import NotFound
from schema.context import Info
from schema.dispatch.permissions import ROSTER_READERS
from schema.dispatch.technicians.types import TechnicianType
from schema.ids import decode_id
from schema.permissions import require_principal

__all__ = ["TechnicianQueries"]


@strawberry.type
class TechnicianQueries:
    @strawberry.field(
        permission_classes=ROSTER_READERS,
        description="TECHNICIAN, DISPATCHER, FINANCE, ADMIN: The technicians of a project (a technician sees only themself).",
    )
    async def technicians(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> list[TechnicianType]:
        principal = await require_principal(info)
        try:
            project = decode_id(project_id, "Project", field="projectId")
        except NotFound:
            return []
        rows = await list_technicians(info.context.session_factory, principal, project_id=project)
        return [TechnicianType.from_row(row) for row in rows]
