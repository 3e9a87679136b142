"""Who may do what in billing: finance staff manage a project's charges; occupants see their own units'.

Kept apart from `db.property` (whose unit import pulls in openpyxl and numpy) so that a bill run's
process stays small.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Project
from kernel.errors import AccessDenied, NotFound
from kernel.principal import Principal, Role

__all__ = ["FINANCE_ROLES", "project_for"]

FINANCE_ROLES = (Role.ADMIN, Role.FINANCE)


async def project_for(
    session: AsyncSession, principal: Principal, project_id: int, *roles: Role, field: str = "projectId"
) -> Project:
    """The project, if the caller holds any role in it (else NOT_FOUND) and one of `roles` (else FORBIDDEN)."""
    project = await session.get(Project, project_id)
    if project is None or project_id not in principal.project_ids:
        raise NotFound("No such project.", field=field)
    if roles and not principal.has_role(project_id, *roles):
        raise AccessDenied(f"Requires one of the roles {', '.join(r.value for r in roles)} in this project.")
    return project
