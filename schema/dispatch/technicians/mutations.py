"""Mutations of the technician roster: thin calls into `dispatch.technicians`."""

from __future__ import annotations

from typing import Annotated

import strawberry

from db.models import Technician
from dispatch import technicians as roster
from schema.context import Info
from schema.dispatch.permissions import DISPATCHERS, TECHNICIAN_UPDATERS
from schema.dispatch.technicians.types import TechnicianType
from schema.errors import BadUserInputError, ConflictError, NotFoundError
from schema.ids import decode_id
from schema.permissions import require_principal
from schema.scalars import CategoryEnum
from schema.use_cases import run_mutation

__all__ = ["TechnicianMutations"]

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
class TechnicianMutations:
    @strawberry.mutation(permission_classes=DISPATCHERS)
    async def create_technician(self, info: Info, input: CreateTechnicianInput) -> CreateTechnicianResult:
        principal = await require_principal(info)

        async def create() -> Technician:
            return await roster.create_technician(
                info.context.session_factory,
                principal,
                cipher=info.context.cipher,
                project_id=decode_id(input.project_id, "Project", field="projectId"),
                name=input.name,
                skills=[skill.value for skill in input.skills],
                home_latitude=input.home_latitude,
                home_longitude=input.home_longitude,
                capacity=input.capacity,
                phone=input.phone,
                on_shift=input.on_shift,
            )

        return await run_mutation(create, TechnicianType.from_row)

    @strawberry.mutation(
        permission_classes=TECHNICIAN_UPDATERS,
        description="Dispatchers manage the roster; technicians may report their own shift and position.",
    )
    async def update_technician(self, info: Info, input: UpdateTechnicianInput) -> UpdateTechnicianResult:
        principal = await require_principal(info)

        async def update() -> Technician:
            return await roster.update_technician(
                info.context.session_factory,
                principal,
                cipher=info.context.cipher,
                technician_id=decode_id(input.id, "Technician", field="id"),
                name=input.name,
                skills=None if input.skills is None else [skill.value for skill in input.skills],
                capacity=input.capacity,
                on_shift=input.on_shift,
                phone=input.phone,
                current_latitude=input.current_latitude,
                current_longitude=input.current_longitude,
            )

        return await run_mutation(update, TechnicianType.from_row)
