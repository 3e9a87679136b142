"""Queries of dispatch planning: a project's dispatch settings."""

from __future__ import annotations

from typing import Annotated

import strawberry

from dispatch.configuration import get_dispatch_settings
from kernel.errors import AccessDenied, NotFound
from schema.context import Info
from schema.dispatch.permissions import DISPATCHERS
from schema.dispatch.planning.types import DispatchSettingsType
from schema.ids import decode_id
from schema.permissions import require_principal

__all__ = ["PlanningQueries"]


@strawberry.type
class PlanningQueries:
    @strawberry.field(
        permission_classes=DISPATCHERS,
        description="DISPATCHER, ADMIN: Auto-dispatch, triage threshold and SLA promises of a project.",
    )
    async def dispatch_settings(
        self,
        info: Info,
        project_id: Annotated[strawberry.ID, strawberry.argument(description="The project.")],
    ) -> DispatchSettingsType | None:
        principal = await require_principal(info)
        try:
            settings = await get_dispatch_settings(
                info.context.session_factory, principal, project_id=decode_id(project_id, "Project", field="projectId")
            )
        except (NotFound, AccessDenied):
            return None
        return DispatchSettingsType.from_settings(settings)
