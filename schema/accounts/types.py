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


@strawberry.type(name="ProjectRole")
class ProjectRoleType:
    role: RoleEnum
    project_id: strawberry.Private[int]

    @strawberry.field
    async def project(self, info: Info) -> ProjectType:
        return ProjectType.from_row(await info.context.loaders.project.load(self.project_id))


@strawberry.type(name="Viewer")
class ViewerType:
    email: str
    display_name: str
    principal: strawberry.Private[Principal]

    @classmethod
    def from_row(cls, user: User, principal: Principal) -> ViewerType:
        return cls(email=user.email, display_name=user.display_name, principal=principal)

    @strawberry.field
    def roles(self) -> list[ProjectRoleType]:
        return [ProjectRoleType(role=role, project_id=project) for project, role in role_grants(self.principal)]

    @strawberry.field(description="The person or company this login belongs to, if any.")
    async def party(self, info: Info) -> PartyType | None:
        if self.principal.party_id is None:
            return None
        row = await info.context.loaders.party.load(self.principal.party_id)
        return PartyType.from_row(row) if row else None

    @strawberry.field
    async def technician(self, info: Info) -> TechnicianType | None:
        if self.principal.technician_id is None:
            return None
        row = await info.context.loaders.technician.load(self.principal.technician_id)
        return TechnicianType.from_row(row) if row else None

    @strawberry.field(description="Units you currently occupy as owner or tenant.")
    async def units(self, info: Info) -> list[UnitType]:
        rows = await info.context.loaders.unit.load_many(sorted(self.principal.unit_ids))
        return [UnitType.from_row(row) for row in rows if row is not None]


@strawberry.type
class AuthPayload:
    token: str
    expires_at: dt.datetime
    viewer: ViewerType
