"""Mutations of the dispatch domain: thin calls into `dispatch` services."""

from __future__ import annotations

from typing import Annotated

import strawberry

from dispatch import technicians as roster
from kernel.principal import Role
from schema.context import Info
from schema.dispatch.types import TechnicianType
from schema.errors import BadUserInputError, ConflictError, NotFoundError, run_in_transaction
from schema.ids import decode_id
from schema.permissions import IsAuthenticated, require_principal, requires_role
from schema.scalars import CategoryEnum

__all__ = ["DispatchMutations"]

CreateTechnicianResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("CreateTechnicianResult")
]
UpdateTechnicianResult = Annotated[
    TechnicianType | BadUserInputError | NotFoundError | ConflictError, strawberry.union("UpdateTechnicianResult")
]


@strawberry.input
class CreateTechnicianInput:
    project_id: strawberry.ID
    name: str
    skills: list[CategoryEnum]
    home_latitude: float
    home_longitude: float
    capacity: int = 3
    phone: str | None = None
    on_shift: bool = True


@strawberry.input
class UpdateTechnicianInput:
    id: strawberry.ID
    name: str | None = None
    skills: list[CategoryEnum] | None = None
    capacity: int | None = None
    on_shift: bool | None = None
    phone: str | None = None
    current_latitude: float | None = None
    current_longitude: float | None = None


@strawberry.type
class DispatchMutations:
    @strawberry.mutation(permission_classes=[IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER)])
    async def create_technician(self, info: Info, input: CreateTechnicianInput) -> CreateTechnicianResult:
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: roster.create_technician(
                s,
                principal,
                info.context.cipher,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                skills=[skill.value for skill in input.skills],
                home_latitude=input.home_latitude,
                home_longitude=input.home_longitude,
                capacity=input.capacity,
                phone=input.phone,
                on_shift=input.on_shift,
            ),
            TechnicianType.from_row,
        )

    @strawberry.mutation(
        permission_classes=[IsAuthenticated, requires_role(Role.ADMIN, Role.DISPATCHER, Role.TECHNICIAN)],
        description="Dispatchers manage the roster; technicians may report their own shift and position.",
    )
    async def update_technician(self, info: Info, input: UpdateTechnicianInput) -> UpdateTechnicianResult:
        principal = await require_principal(info)
        return await run_in_transaction(
            info,
            lambda s: roster.update_technician(
                s,
                principal,
                info.context.cipher,
                technician_id=decode_id(input.id, "Technician", field="id"),
                name=input.name,
                skills=None if input.skills is None else [skill.value for skill in input.skills],
                capacity=input.capacity,
                on_shift=input.on_shift,
                phone=input.phone,
                current_latitude=input.current_latitude,
                current_longitude=input.current_longitude,
            ),
            TechnicianType.from_row,
        )
