"""Queries of the equipment ledger."""

from __future__ import annotations

from typing import Annotated

import strawberry

from dispatch.queries import list_equipment
from kernel.errors import NotFound
from schema.context import Info
from schema.dispatch.equipment.types import EquipmentType
from schema.dispatch.permissions import ROSTER_READERS
from schema.ids import decode_id
from schema.permissions import require_principal

__all__ = ["EquipmentQueries"]


@strawberry.type
class EquipmentQueries:
    @strawberry.field(
        permission_classes=ROSTER_READERS, description="TECHNICIAN, DISPATCHER, FINANCE, ADMIN: The project's equipment ledger, soonest due first."
    )
    async def equipment(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> list[EquipmentType]:
        principal = await require_principal(info)
        try:
            project = decode_id(project_id, "Project", field="projectId")
        except NotFound:
            return []
        rows = await list_equipment(info.context.session_factory, principal, project_id=project)
        return [EquipmentType.from_row(row) for row in rows]
