"""The logged-in user as GraphQL shows them."""

from __future__ import annotations

import datetime as dt

import strawberry

from db.models import User
from kernel.principal import Principal
from register.accounts import role_grants
from schema.context import Info
from schema.dispatch.technicians.types import TechnicianType
from schema.scalars import RoleEnum
from schema.units.types import PartyType, ProjectType, UnitType

__all__ = ["AuthPayload", "ProjectRoleType", "ViewerType"]


@strawberry.type(name="ProjectRole", description="One role held in one project.")
class ProjectRoleType:
    role: RoleEnum = strawberry.field(description="The role.")
    project_id: strawberry.Private[int]

    @strawberry.field(description="The project it applies to.")
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.project_id))


@strawberry.type(
    name="Viewer", description="You, the logged-in user: your roles per project and what your login is linked to."
)
class ViewerType:
    email: str = strawberry.field(description="The e-mail you log in with.")
    display_name: str = strawberry.field(description="Your name as staff pages show it.")
    principal: strawberry.Private[Principal]

    @classmethod
    def from_row(cls, user: User, principal: Principal) -> ViewerType:
        return cls(email=user.email, display_name=user.display_name, principal=principal)

    @strawberry.field(description="Each role you hold, with its project.")
    def roles(self) -> list[ProjectRoleType]:
        return [ProjectRoleType(role=role, project_id=project) for project, role in role_grants(self.principal)]

    @strawberry.field(description="The person or company this login belongs to, if any.")
    async def party(self, info: Info) -> PartyType | None:
        if self.principal.party_id is None:
            return None
        row = await info.context.loaders.party.load(self.principal.party_id)
        return PartyType.from_row(row) if row else None

    @strawberry.field(description="The technician this login belongs to (technicians only).")
    async def technician(self, info: Info) -> TechnicianType | None:
        if self.principal.technician_id is None:
            return None
        row = await info.context.loaders.technician.load(self.principal.technician_id)
        return TechnicianType.from_row(row) if row else None

    @strawberry.field(description="Units you currently occupy as owner or tenant.")
    async def units(self, info: Info) -> list[UnitType]:
        rows = await info.context.loaders.unit.load_many(sorted(self.principal.unit_ids))
        return [UnitType.from_row(row) for row in rows if row is not None]


@strawberry.type(description="A successful login (or password change or reset): the bearer token and who you are.")
class AuthPayload:
    token: str = strawberry.field(
        description=(
            "Send as `Authorization: Bearer <token>` on HTTP, or `{\"authorization\": \"Bearer <token>\"}` in the "
            "websocket's connection_init."
        ),
    )
    expires_at: dt.datetime = strawberry.field(description="When the token stops counting (UTC); log in again then.")
    viewer: ViewerType = strawberry.field(description="The logged-in user.")
